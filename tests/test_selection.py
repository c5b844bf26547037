"""Many apps and environments: --app and --env select targets, each app keeps its own settings,
and no two targets may push the same reference."""

import shutil

import pytest
from conftest import ROOT, Repo, bake_print, run_bakegen, targets_of

SECOND_APP = '''image "billing" {
  kind        = "app"
  repository  = "{env}/{app}"
  description = "billing ({env})"
  context     = "../../examples/repos/ci-demo-go"
  envs        = ["dev", "stage"]
  config      = ""
  toolchain   = "golang-tools"
  runtime     = "golang-runtime-static"
  main_package = "cmd/billing"
  short_length = 12
}
'''


@pytest.fixture
def two_apps(tmp_path):
    """A repository with the built-in definitions plus a second app with other envs."""
    repo = Repo(tmp_path / "repo")
    for name in ("bake", "examples"):
        shutil.copytree(ROOT / name, repo.path / name)
    (repo.path / "bake" / "billing").mkdir()
    (repo.path / "bake" / "billing" / "image.hcl").write_text(SECOND_APP)
    main = repo.path / "examples/repos/ci-demo-go/cmd/billing/main.go"  # its own package in the same module
    main.parent.mkdir(parents=True)
    main.write_text("package main\n\nfunc main() {}\n")
    repo.commit()
    return repo


def names(r):
    """The targets that build images (not the ones that only hold a generated Dockerfile)."""
    assert r.code == 0, r
    return sorted(t for t in targets_of(r.stdout) if not t.startswith("_"))


BASES = ["golang-build", "golang-runtime", "golang-runtime-static", "golang-tools"]


def test_every_app_and_env_is_a_target_and_a_group(two_apps):
    r = run_bakegen(cwd=two_apps.path)
    assert names(r) == ["billing-dev", "billing-stage", "ci-demo-go-dev", "ci-demo-go-prd", "ci-demo-go-test"] + BASES
    assert 'group "billing" {\n  targets = ["billing-dev", "billing-stage"]\n}' in r.stdout
    (two_apps.path / "docker-bake.hcl").write_text(r.stdout)
    printed = bake_print(two_apps.path)["target"]["billing-stage"]
    assert printed["target"] == "env-stage" and "FROM app AS env-stage\nENV APP=billing APP_ENV=stage\n" in \
        printed["dockerfile-inline"]


def test_app_selects_one_app(two_apps):
    assert names(run_bakegen("--app", "billing", cwd=two_apps.path)) == ["billing-dev", "billing-stage"] + BASES
    assert names(run_bakegen("--app", "ci-demo-go", cwd=two_apps.path))[:3] == [
        "ci-demo-go-dev", "ci-demo-go-prd", "ci-demo-go-test"]


def test_env_selects_across_apps(two_apps):
    assert names(run_bakegen("--env", "dev", cwd=two_apps.path)) == ["billing-dev", "ci-demo-go-dev"] + BASES
    assert names(run_bakegen("--env", "stage", cwd=two_apps.path)) == ["billing-stage"] + BASES
    assert names(run_bakegen("--app", "ci-demo-go", "--env", "prd", cwd=two_apps.path)) == ["ci-demo-go-prd"] + BASES


@pytest.mark.parametrize("args, message", [
    (["--app", "payments"], '--app: no app "payments"; the definitions have: billing, ci-demo-go'),
    (["--env", "qa"], '--env: no env "qa"; the definitions have: dev, prd, stage, test'),
    (["--app", "billing", "--env", "prd"], '--env: no env "prd"; the definitions have: dev, stage'),
])
def test_a_name_that_nothing_has_lists_what_exists(two_apps, args, message):
    r = run_bakegen(*args, cwd=two_apps.path)
    assert r.code == 2 and r.stderr.strip().endswith(message), r.stderr


def test_selection_works_for_meta_and_tags(two_apps):
    r = run_bakegen("meta", "--env", "dev", cwd=two_apps.path)
    assert names(r) == ["billing-dev", "ci-demo-go-dev"] + BASES
    r = run_bakegen("tags", "billing", cwd=two_apps.path, env={"SOURCE_DATE_EPOCH": "0"})
    assert r.code == 0 and len(r.stdout.splitlines()) == 2


def test_each_app_uses_its_own_short_length(two_apps):
    sha = two_apps.git("rev-parse", "HEAD")
    meta = targets_of(run_bakegen("meta", cwd=two_apps.path).stdout)
    assert meta["billing-dev"]["args"]["GIT_COMMIT_ID"] == sha[:12]
    assert meta["ci-demo-go-dev"]["args"]["GIT_COMMIT_ID"] == sha[:7]


def test_each_env_has_its_own_repository_latest_rule_and_cache(two_apps):
    meta = targets_of(run_bakegen("meta", cwd=two_apps.path).stdout)
    assert meta["ci-demo-go-prd"]["tags"][-1] == "REGISTRY/prd/ci-demo-go:latest"
    assert all(t.startswith("REGISTRY/stage/billing:") and not t.endswith(":latest")
               for t in meta["billing-stage"]["tags"])
    committed = targets_of(run_bakegen("--registry-cache", cwd=two_apps.path).stdout)
    assert committed["billing-stage"]["cache-from"] == ["type=registry,ref=REGISTRY/stage/billing-bakegen:buildcache"]
    assert committed["ci-demo-go-prd"]["cache-from"] == ["type=registry,ref=REGISTRY/prd/ci-demo-go-bakegen:buildcache"]


def test_two_targets_that_would_push_the_same_reference(project):
    static = project / "bake/golang-runtime-static/image.hcl"
    static.write_text(static.read_text().replace('tag_prefix  = "static-"', 'tag_prefix  = ""'))
    r = run_bakegen(cwd=project)
    assert r.code == 2
    assert 'targets "golang-runtime" and "golang-runtime-static" would both push ${REGISTRY}/common/runtime/golang:debian13' in r.stderr


def test_envs_sharing_one_repository_would_push_the_same_tags(project):
    app = project / "bake/ci-demo-go/image.hcl"
    app.write_text(app.read_text().replace('repository  = "{env}/{app}"', 'repository  = "apps/{app}"'))
    r = run_bakegen(cwd=project)
    assert r.code == 2 and 'targets "ci-demo-go-dev" and "ci-demo-go-test" would both push' in r.stderr


def test_cgo_on_the_static_runtime_is_refused(project):
    app = project / "bake/ci-demo-go/image.hcl"
    app.write_text(app.read_text().replace('runtime   = "golang-runtime"', 'runtime   = "golang-runtime-static"\n  cgo = true')
                   .replace('toolchain = "golang-build"', 'toolchain = "golang-tools"'))  # the one with a C compiler
    r = run_bakegen(cwd=project)
    assert r.code == 2
    assert "cgo = true builds a binary that needs a C library, which the static runtime" in r.stderr
    assert 'use a Debian runtime (runtime = "golang-runtime") or set cgo = false' in r.stderr
