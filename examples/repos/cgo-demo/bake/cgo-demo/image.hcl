# The cgo-demo service image, built multi-stage FROM a Go toolchain and a runtime image
# (written by `bakegen init --app cgo-demo`; edit freely).
image "cgo-demo" {
  kind        = "app"
  # {env} is the environment, {app} the app's name.
  repository  = "{env}/{app}"
  description = "cgo-demo ({env})"
  # The source, relative to this folder; this folder's Dockerfile builds it.
  context     = "../.."

  # One target per env: cgo-demo-<env> (a single env keeps the name cgo-demo).
  envs   = ["dev"]
  # No config file per env was found (etc/app_<env>.yaml); name yours here, e.g.
  #   config = "etc/app_{env}.yaml"
  config = ""

  # Published base images ({registry} is the REGISTRY variable): only the app is built.
  toolchain = "{registry}/common/tools/golang:1.24"
  runtime   = "{registry}/common/runtime/golang:debian11"

  # The Go package with main, relative to the context; cgo = true builds with CGO_ENABLED=1,
  # cross-compiled against each platform's C library (it then needs a Debian runtime).
  main_package = "."
  cgo          = true

  # `latest` is added when both match (and the work tree is clean).
  latest_envs     = ["prd"]
  latest_branches = ["main", "master"]
}
