# The application image, built multi-stage FROM the toolchain and runtime targets of the same run.
image "ci-demo-go" {
  kind        = "app"
  # {env} is the environment (APP_ENV), {app} the app's name.
  repository  = "{env}/{app}"
  description = "ci-demo-go sample Go service ({env})"
  # The source, relative to this folder; this folder's Dockerfile builds it.
  context     = "../../examples/repos/ci-demo-go"

  # One target per env (ci-demo-go-dev, ...), grouped as ci-demo-go; each reads its own config.
  envs   = ["dev", "test", "prd"]
  config = "etc/app_{env}.yaml"

  # Images defined beside this one (built first, in the same run), or published references
  # such as "{registry}/common/tools/golang:1.24". The static runtime is one word away:
  #   runtime = "golang-runtime-static"
  toolchain = "golang-tools"
  runtime   = "golang-runtime"

  # `latest` is added when both match (and the work tree is clean).
  latest_envs     = ["prd"]
  latest_branches = ["main", "master"]

  pull       = false
  provenance = false
}
