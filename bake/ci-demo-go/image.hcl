# The application image, built multi-stage FROM the toolchain and runtime targets of the same run,
# with the Dockerfile bakegen generates (in docker-bake.hcl) from this definition.
image "ci-demo-go" {
  kind        = "app"
  # {env} is the environment, {app} the app's name.
  repository  = "{env}/{app}"
  description = "ci-demo-go sample Go service ({env})"
  # The source, relative to this folder.
  context     = "../../examples/repos/ci-demo-go"

  # One target per env (ci-demo-go-dev, ...), grouped as ci-demo-go; each reads its own config.
  envs   = ["dev", "test", "prd"]
  config = "etc/app_{env}.yaml"

  # How the service starts, as the seed starts it: /app/ci-demo-go -f /app/etc/app_<env>.yaml,
  # with the whole etc/ folder copied beside it (binary, command and config_dir are the defaults).
  binary      = "/app/{app}"
  command     = ["-f", "/app/{config}"]
  config_dir  = "etc"
  expose      = ["8080"]
  # The sample can probe its own /health (no shell or curl in the runtime image).
  healthcheck = ["/app/{app}", "-healthcheck", "-f", "/app/{config}"]

  # Images defined beside this one (built first, in the same run), or published references
  # such as "{registry}/common/tools/golang-build:1.27". The sample has no cgo, so it compiles on
  # the compile image, Go alone (golang-tools, with cgo, protoc and the Go tools, is for cgo apps).
  # The static runtime is one word away:
  #   runtime = "golang-runtime-static"
  toolchain = "golang-build"
  runtime   = "golang-runtime"

  # `latest` is added for the envs among prd, prod and production (latest_envs = [...] names
  # others) on these branches, when the work tree is clean.
  latest_branches = ["main", "master"]

  pull       = false
  provenance = false
}
