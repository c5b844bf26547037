# The ci-demo-go service image, built multi-stage FROM a Go toolchain and a runtime image
# (written by `bakegen init --app ci-demo-go`; edit freely).
image "ci-demo-go" {
  kind        = "app"
  # {env} is the environment, {app} the app's name.
  repository  = "{env}/{app}"
  description = "ci-demo-go ({env})"
  # The source, relative to this folder; this folder's Dockerfile builds it.
  context     = "../.."

  # One target per env: ci-demo-go-<env> (a single env keeps the name ci-demo-go).
  envs   = ["dev", "prd", "test"]
  # The config file of each env, copied into the image; bakegen checks that it exists.
  config = "etc/app_{env}.yaml"

  # Published base images ({registry} is the REGISTRY variable): only the app is built.
  toolchain = "{registry}/common/tools/golang:1.24"
  runtime   = "{registry}/common/runtime/golang:debian11"

  # The Go package with main, relative to the context; cgo = true builds with CGO_ENABLED=1,
  # cross-compiled against each platform's C library (it then needs a Debian runtime).
  main_package = "."
  cgo          = false

  # `latest` is added when both match (and the work tree is clean).
  latest_envs     = ["prd"]
  latest_branches = ["main", "master"]
}
