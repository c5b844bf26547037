# The static runtime image: no shell, no package manager; CA certificates, tzdata, user 65532.
image "golang-runtime-static" {
  kind        = "runtime"
  repository  = "common/runtime/golang"
  description = "Static runtime for CGO-free Go binaries: CA certificates, tzdata, user 65532, no shell"
  variants    = ["trixie"]
  tag_prefix  = "static-"
  # No C library: an app with cgo = true cannot run on it.
  static      = true
  base_image  = "debian:{suite}-slim"
  pull        = true
  provenance  = false
  # Shared scripts (bake/lib): the Dockerfile's bakegen-lib build context.
  contexts    = { bakegen-lib = "../lib" }
}
