"""What generation checks is what the build will see: a file an app's build needs (each env's
config, go.mod, go.sum, the main package's .go files) that the context's .dockerignore leaves out
is an error naming it and the pattern; with --check (the pre-commit hook bakegen-check), a file
generation read that git does not track is named, and the diff says what the file on disk is."""

import shlex

import pytest
import yaml
from conftest import ROOT, run_bakegen
from test_contract import seed_service

CONTEXT = "examples/repos/ci-demo-go"
APP = "bake/ci-demo-go/image.hcl"


@pytest.fixture
def service(tmp_path):
    """The seed's service in its own repository, bake/ and docker-bake.hcl committed."""
    repo = seed_service(tmp_path / "svc")
    assert run_bakegen("-o", "docker-bake.hcl", cwd=repo.path).code == 0
    repo.commit("docker-bake.hcl", (repo.path / "docker-bake.hcl").read_text())
    return repo


def refused(path, *args):
    r = run_bakegen(*args, cwd=path)
    assert r.code == 2 and r.stdout == "" and "Traceback" not in r.stderr, r
    errors = [line for line in r.stderr.splitlines() if line.startswith("bakegen: error:")]
    assert len(errors) == 1, r
    return errors[0]


@pytest.mark.parametrize("ignore, hidden, pattern, why, key", [
    ("etc\n", "etc/app_dev.yaml", ".dockerignore:1 (etc)", "env 'dev' needs it", "envs"),
    ("# configs are mounted\netc/*.yaml\n", "etc/app_dev.yaml", ".dockerignore:2 (etc/*.yaml)", "env 'dev' needs it",
     "envs"),
    ("etc\n!etc/app_dev.yaml\n", "etc/app_prod.yaml", ".dockerignore:1 (etc)", "env 'prod' needs it", "envs"),
    ("*.yaml\n", "etc/app_dev.yaml", ".dockerignore:1 (*.yaml)", None, None),  # "*" is one folder deep: not hidden
    ("**/*.yaml\n", "etc/app_dev.yaml", ".dockerignore:1 (**/*.yaml)", "env 'dev' needs it", "envs"),
    ("go.mod\n", "go.mod", ".dockerignore:1 (go.mod)", "the build needs the Go module", "context"),
    ("go.*\n", "go.mod", ".dockerignore:1 (go.*)", "the build needs the Go module", "context"),
    ("*.go\n", "handler.go", ".dockerignore:1 (*.go)", "the build compiles the main package from it", "main_package"),
    ("*\n!go.mod\n!etc\n!main.go\n", "handler.go", ".dockerignore:1 (*)",
     "the build compiles the main package from it", "main_package"),
    ("**/*_test.go\n", "main_test.go", "", None, None),  # tests are not built
])
def test_a_file_the_build_needs_that_dockerignore_hides_is_an_error(service, ignore, hidden, pattern, why, key):
    (service.path / ".dockerignore").write_text(ignore)
    if why is None:
        assert run_bakegen(cwd=service.path).code == 0
        return
    error = refused(service.path)
    image = (service.path / "bake/ci-demo-go/image.hcl").read_text().splitlines()
    line = next((n for n, text in enumerate(image, 1) if text.lstrip().startswith(key + " ")),
                next(n for n, text in enumerate(image, 1) if text.startswith("image ")))
    assert error == (f"bakegen: error: bake/ci-demo-go/image.hcl:{line}: ./{hidden} is left out of the build "
                     f"context by ./{pattern}: {why}" + (" (config = 'etc/app_{env}.yaml'): the image would start "
                                                         "without it" if "env" in why else "")
                     + "; change the .dockerignore")


def test_go_sum_hidden_is_an_error_and_the_sample_dockerignore_is_not(project):
    assert run_bakegen(cwd=project).code == 0  # examples/repos/ci-demo-go/.dockerignore leaves out *_test.go
    (project / CONTEXT / "go.sum").write_text("")
    ignore = project / CONTEXT / ".dockerignore"
    ignore.write_text(ignore.read_text() + "go.sum\n")
    error = refused(project)
    assert f"{CONTEXT}/go.sum is left out of the build context by {CONTEXT}/.dockerignore:" in error
    assert error.endswith("(go.sum): the build verifies the modules with it; change the .dockerignore")


# ---------------------------------------------------------------- --check and git
def add_env(repo, env="qa"):
    """A new env, its definition line and its config file written, and the committed file regenerated."""
    image = repo.path / "bake/ci-demo-go/image.hcl"
    text = image.read_text()
    image.write_text(text.replace('"dev", "prod", "test"', f'"dev", "prod", "test", "{env}"'))
    assert f'"{env}"' in image.read_text(), text
    (repo.path / f"etc/app_{env}.yaml").write_text(f"env: {env}\n")
    assert run_bakegen("-o", "docker-bake.hcl", cwd=repo.path).code == 0


def hook_entry(hook_id):
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    return shlex.split(next(h for h in hooks if h["id"] == hook_id)["entry"])


def test_check_names_a_file_generation_read_that_git_does_not_track(service):
    add_env(service)  # plain generation does not ask git: the config untracked is fine while working
    r = run_bakegen("-o", "docker-bake.hcl", cwd=service.path)
    assert r.code == 0 and "not tracked" not in r.stderr, r
    service.git("add", "bake", "docker-bake.hcl")  # the config file forgotten
    entry = hook_entry("bakegen-check")
    assert entry[0] == "bakegen"
    r = run_bakegen(*entry[1:], cwd=service.path)  # what the pre-commit hook runs
    assert r.code == 1 and r.stdout == "", r
    assert ("bakegen: ./etc/app_qa.yaml is not tracked by git (nor staged), but env 'qa' of ci-demo-go needs it: "
            "a clean clone (CI) lacks it; git add it") in r.stderr.splitlines(), r
    assert "stale" not in r.stderr
    service.git("add", "etc/app_qa.yaml")  # staged is enough: the commit will hold it
    r = run_bakegen(*entry[1:], cwd=service.path)
    assert r.code == 0 and "docker-bake.hcl is up to date" in r.stderr, r


def test_check_names_untracked_definitions_and_ignored_files(service):
    (service.path / "bake/extra").mkdir()
    (service.path / "bake/extra/image.hcl").write_text(
        (service.path / "bake/ci-demo-go/image.hcl").read_text().replace('image "ci-demo-go"', 'image "extra"')
        .replace('main_package = "."', 'main_package = "cmd/extra"'))
    (service.path / "cmd/extra").mkdir(parents=True)
    (service.path / "cmd/extra/main.go").write_text("package main\n\nfunc main() {}\n")
    service.git("add", "cmd/extra")
    r = run_bakegen("-o", "docker-bake.hcl", cwd=service.path)
    assert r.code == 0, r
    (service.path / ".gitignore").write_text("/.bakegen/\netc/app_prod.yaml\n")
    service.git("rm", "-q", "--cached", "etc/app_prod.yaml")
    service.git("add", "docker-bake.hcl")
    r = run_bakegen("--check", "docker-bake.hcl", cwd=service.path)
    named = sorted(line.split(" is not tracked")[0] for line in r.stderr.splitlines() if "is not tracked" in line)
    assert r.code == 1 and named == ["bakegen: ./etc/app_prod.yaml", "bakegen: bake/extra/image.hcl"], r


@pytest.mark.parametrize("state", ["committed", "uncommitted changes", "untracked", "on disk"])
def test_the_diff_says_what_the_file_on_disk_is(service, project, state):
    path = project if state == "on disk" else service.path  # project: no git repository
    name = "other.hcl" if state == "untracked" else "docker-bake.hcl"
    if state == "committed":
        service.commit("docker-bake.hcl", "stale\n", message="a stale file")
    else:
        (path / name).write_text("stale\n")
    r = run_bakegen("--check", name, cwd=path)
    assert r.code == 1 and r.stdout.startswith(f"--- {name} ({state})\n+++ {name} (bakegen)\n"), r
    untracked = [line for line in r.stderr.splitlines() if "is not tracked" in line]
    assert untracked == ([f"bakegen: {name} is not tracked by git (nor staged), but it is the file checked: a clean "
                          "clone (CI) lacks it; git add it"] if state == "untracked" else []), r
