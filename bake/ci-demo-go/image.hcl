# The application image, built multi-stage FROM the toolchain and runtime targets of the same run.
image "ci-demo-go" {
  kind        = "app"
  # {env} is --env (APP_ENV), {app} the app's name (--app).
  repository  = "{env}/{app}"
  description = "ci-demo-go sample Go service ({env})"
  # The source; when it has no Dockerfile of its own, this folder's Dockerfile builds it.
  context     = "../../examples/ci-demo-go"
  env         = "dev"

  toolchain = "golang-tools"
  runtime   = "golang-runtime-static"

  # `latest` is added when both match (and the work tree is clean).
  latest_envs     = ["prd"]
  latest_branches = ["main", "master"]

  pull       = false
  provenance = false
}
