# The compile image for apps without cgo: Go (checksum-verified) on Debian, and nothing else, so an
# app's build pulls a fraction of the toolchain (golang-tools keeps cgo, protoc and the Go tools).
image "golang-build" {
  kind        = "toolchain"
  repository  = "common/tools/golang-build"
  description = "Go {version} compile image for apps without cgo ({variant})"

  # Go versions and Debian suites, as golang-tools (the same tags: 1.27.0, 1.27, 1.27.0-debian13, ...).
  versions = ["1.27.0"]
  variants = ["trixie"]
  aliases  = ["minor"]

  # No C compiler: bakegen refuses an app with cgo = true that builds FROM this image.
  cgo = false

  base_image      = "debian:{suite}-slim"
  go_download_url = "https://dl.google.com/go"
  goproxy         = "https://proxy.golang.org,direct"
  gosumdb         = "sum.golang.org"

  # Checksums for versions or files bakegen does not ship (see golang-tools).
  go_checksums = {}

  pull       = true
  provenance = false
  # Shared scripts (bake/lib: the verified Go download): the Dockerfile's bakegen-lib build context.
  contexts   = { bakegen-lib = "../lib" }
}
