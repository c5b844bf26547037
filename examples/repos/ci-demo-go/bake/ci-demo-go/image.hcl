# The ci-demo-go service image, built multi-stage FROM a Go toolchain and a runtime image with the
# Dockerfile bakegen generates (in docker-bake.hcl) from this definition
# (written by `bakegen init --app ci-demo-go`; edit freely).
image "ci-demo-go" {
  kind        = "app"
  # {env} is the environment, {app} the app's name.
  repository  = "{env}/{app}"
  description = "ci-demo-go ({env})"
  # The source (its go.mod), relative to this folder.
  context     = "../.."

  # One target per env: ci-demo-go-<env> (a single env keeps the name ci-demo-go).
  envs   = ["dev", "prd", "test"]
  # The config file of each env; bakegen checks that it exists.
  config = "etc/app_{env}.yaml"

  # How the service starts: /app/ci-demo-go with these arguments ({config} is the env's
  # config file), the config file's folder copied beside it. No healthcheck unless you name one,
  # e.g. healthcheck = ["/app/{app}", "-healthcheck"], healthcheck_interval = "30s".
  binary     = "/app/{app}"
  command    = ["-f", "/app/{config}"]
  expose     = []

  # Published base images ({registry} is the REGISTRY variable): only the app is built.
  toolchain = "{registry}/common/tools/golang-build:1.27"
  runtime   = "{registry}/common/runtime/golang:debian13"

  # The Go package with main, relative to the context; cgo = true builds with CGO_ENABLED=1,
  # cross-compiled against each platform's C library (it then needs a Debian runtime and the
  # toolchain with a C compiler, not the compile image golang-build; init --cgo names that one).
  main_package = "."
  cgo          = false

  # `latest` goes to these envs' images built on main_branches (bakegen.hcl) from a clean tree.
  latest_envs = ["prd"]
  # What CI builds (`bakegen bake --ci`): the first env on every branch, every env on
  # main_branches, latest_envs on release tags (v1.2.3). To choose, per env:
  #   env_branches = { dev = ["*"], prd = ["main"] }
}
