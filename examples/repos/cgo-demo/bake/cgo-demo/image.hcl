# The cgo-demo service image, built multi-stage FROM a Go toolchain and a runtime image with the
# Dockerfile bakegen generates (in docker-bake.hcl) from this definition
# (written by `bakegen init --app cgo-demo`; edit freely).
image "cgo-demo" {
  kind        = "app"
  # {env} is the environment, {app} the app's name.
  repository  = "{env}/{app}"
  description = "cgo-demo ({env})"
  # The source (its go.mod), relative to this folder.
  context     = "../.."

  # One target per env: cgo-demo-<env> (a single env keeps the name cgo-demo).
  envs   = ["dev"]
  # No config file per env was found (etc/app_<env>.yaml); name yours here, e.g.
  #   config = "etc/app_{env}.yaml"
  config = ""

  # How the service starts: /app/cgo-demo with these arguments ({config} is the env's
  # config file), the config file's folder copied beside it. No healthcheck unless you name one,
  # e.g. healthcheck = ["/app/{app}", "-healthcheck"], healthcheck_interval = "30s".
  binary     = "/app/{app}"
  command    = []
  expose     = []

  # Published base images ({registry} is the REGISTRY variable): only the app is built.
  toolchain = "{registry}/common/tools/golang:1.27-debian13"
  runtime   = "{registry}/common/runtime/golang:debian13"

  # The Go package with main, relative to the context; cgo = true builds with CGO_ENABLED=1,
  # cross-compiled against each platform's C library (it then needs a Debian runtime and the
  # toolchain with a C compiler, not the compile image golang-build; init --cgo names that one).
  main_package = "."
  cgo          = true

  # `latest` goes to these envs' images built on main_branches (bakegen.hcl) from a clean tree.
  latest_envs = []
  # What CI builds (`bakegen bake --ci`): the first env on every branch, every env on
  # main_branches, latest_envs on release tags (v1.2.3). To choose, per env:
  #   env_branches = { dev = ["*"], prd = ["main"] }
}
