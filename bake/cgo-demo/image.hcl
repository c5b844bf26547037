# A cgo service (C called through `import "C"`), built with CGO_ENABLED=1 for each platform:
# the builder runs on the build machine and links with the target's C cross compiler and C
# library from the toolchain image (see bake/golang-tools/Dockerfile, CGO_PLATFORMS).
image "cgo-demo" {
  kind        = "app"
  repository  = "{env}/{app}"
  description = "cgo-demo sample cgo service ({env})"
  # The source, relative to this folder; the default application Dockerfile builds it.
  context    = "../../examples/cgo-demo"
  dockerfile = "../ci-demo-go/Dockerfile"

  envs   = ["dev"]
  # No configuration file: the service listens on 8080 and reads APP_ENV.
  config = ""

  # A cgo binary needs the C library it was linked against: the Debian runtime of the
  # toolchain's suite (the static runtime is refused).
  cgo       = true
  toolchain = "golang-tools"
  runtime   = "golang-runtime"

  pull       = false
  provenance = false
}
