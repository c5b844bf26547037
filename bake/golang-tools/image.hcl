# The Go toolchain image: cgo toolchain, Go (checksum-verified), protoc and pinned Go tools.
image "golang-tools" {
  kind        = "toolchain"
  repository  = "common/tools/golang"
  description = "Go {version} toolchain with cgo, protoc and pinned Go tools ({variant})"

  # Go versions to build. bakegen ships the published checksums of the versions it knows; for
  # another version add them below in go_checksums.
  versions = ["1.27.0"]
  # Debian suites; the first is the default variant (its tags also come without the suffix).
  variants = ["trixie"]
  # Floating tags besides the full version: "minor" (1.27), "major" (1), "latest".
  aliases = ["minor"]

  # A C compiler, the -dev libraries and the cross compilers: apps with cgo = true build FROM it.
  cgo = true

  base_image      = "debian:{suite}-slim"
  go_download_url = "https://dl.google.com/go"
  goproxy         = "https://proxy.golang.org,direct"
  gosumdb         = "sum.golang.org"

  protoc_version      = "30.2"
  protoc_download_url = "https://github.com/protocolbuffers/protobuf/releases/download"

  # Go tools, each pinned to an exact module version (@vX.Y.Z; no @latest, no branch). Their
  # go.mod must ask for a Go no newer than the versions above (GOTOOLCHAIN=local).
  tools = [
    "github.com/boumenot/gocover-cobertura@v1.4.0",
    "github.com/elliots/protoc-gen-twirp_swagger@v0.0.0-20210801014231-a541d6eeae24",
    "github.com/go-delve/delve/cmd/dlv@v1.26.3",
    "google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.1",
    "google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.11",
    "gotest.tools/gotestsum@v1.13.0",
    "honnef.co/go/tools/cmd/staticcheck@v0.6.1", # staticcheck 2025.1.1
  ]

  # Checksums for versions or files bakegen does not ship, for example:
  #   go_checksums = { "1.24.99" = { "linux-amd64" = "<sha256>", "linux-arm64" = "<sha256>" } }
  go_checksums     = {}
  protoc_checksums = {}

  pull       = true
  provenance = false
  # Shared scripts (bake/lib): the Dockerfile's bakegen-lib build context.
  contexts   = { bakegen-lib = "../lib" }
}
