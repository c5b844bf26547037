# The Debian runtime image: a non-root user (UID/GID 65532) and /app, nothing else.
image "golang-runtime" {
  kind        = "runtime"
  repository  = "common/runtime/golang"
  description = "Minimal Debian runtime for Go applications, non-root user 65532 ({variant})"
  variants    = ["trixie"]
  base_image  = "debian:{suite}-slim"
  pull        = true
  provenance  = false
}
