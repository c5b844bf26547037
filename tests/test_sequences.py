"""What a team lives through, on the real BuildKit harness, in fresh repositories (issues 23, 24,
25): a first push from a laptop (no --cache), then main's CI job, then a feature branch's
one-line change on an emptied builder; the same after the registry's cache tags were deleted
(images kept); two apps in one repository; an untracked file; a file name that is not UTF-8; a
published base that is not there. Each asserts what was built, reused and imported from bake's
metadata, the plan bakegen prints and bake's log.

The builder's cache is pruned where a runner would start empty (`docker buildx prune -af`): the
harness builder is shared with the other real-build tests, which then only take longer."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import harness

pytestmark = pytest.mark.slow

FACTS = harness.load_facts()
if FACTS is None or shutil.which("docker") is None:
    pytest.skip("the BuildKit harness is not up (scripts/buildkit-harness up)", allow_module_level=True)
assert FACTS is not None
import test_team_flow as team  # noqa: E402  (its repository helpers; skipped with this module)

NAMESPACE = f"{FACTS['REGISTRY']}/seq-{uuid.uuid4().hex[:8]}"
HOST, _, PATH = NAMESPACE.partition("/")


def bake(repo: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full = {**os.environ, **team.GIT_ENV, "BUILDX_BUILDER": FACTS["BUILDER"], "BUILDKIT_PROGRESS": "plain",
            **(env or {})}
    for name in ("CI_COMMIT_REF_NAME", "GITHUB_REF_NAME", "CI_DEFAULT_BRANCH"):
        full.pop(name, None) if not env or name not in env else None
    r = subprocess.run([sys.executable, "-m", "bakegen", "bake", *args], cwd=repo, env=full, capture_output=True,
                       text=True, timeout=3600)
    assert r.returncode == 0, f"bakegen bake {' '.join(args)}:\n{r.stderr[-4000:]}"
    assert not re.search(r"^(ERROR|error)\b", r.stderr, re.M), r.stderr[-4000:]  # nothing reads as a failure
    return r


def metadata(repo: Path, *args: str, env: dict[str, str] | None = None) -> tuple[dict, str]:
    r = bake(repo, *args, "--metadata-file", ".bakegen/m.json", env=env)
    return json.loads((repo / ".bakegen/m.json").read_text()), r.stderr


def built(doc: dict) -> set[str]:
    return {n for n, e in doc.items() if not e.get("bakegen.reused")}


def tags(repo: str) -> list[str]:
    return team.tags_at(NAMESPACE, repo)


def empty_builder() -> None:
    subprocess.run(["docker", "buildx", "prune", "-af", "--builder", FACTS["BUILDER"]], check=True,
                   capture_output=True, timeout=600)


def imported(log: str) -> list[str]:
    """The registry caches bake imported (their tags)."""
    return [ref.rsplit(":", 1)[1] for ref in re.findall(r"importing cache manifest from (\S+)", log)]


def ran_steps(log: str) -> set[str]:
    """The Dockerfile steps (``[stage n/m]``) bake ran: their commands printed (every RUN of the
    generated Dockerfile traces with ``set -x``). A step taken from the local or the registry
    cache prints nothing of its own: CACHED, or DONE once its layer is fetched."""
    titles = dict(re.findall(r"^#(\d+) \[(?:[^\]]*?\s)?([a-z-]+ \d+/\d+)\]", log, re.M))
    return {titles[n] for n in re.findall(r"^#(\d+) \d+\.\d+ ", log, re.M) if n in titles}


def ci_main(repo: Path) -> tuple[dict, str]:
    return metadata(repo, "--ci", "--cache", "--push", env={"CI_COMMIT_REF_NAME": "main"})


@pytest.fixture(scope="module")
def bases(tmp_path_factory) -> Path:
    """The base images, pushed from main (as the team's base-images repository has them)."""
    path = team.base_images(tmp_path_factory.mktemp("seq") / "base-images", NAMESPACE)
    bake(path, "--push")
    return path


def service(tmp_path: Path, name: str, envs: tuple[str, ...]) -> Path:
    return team.service(tmp_path / name, name, envs, NAMESPACE)


def one_line(repo: Path, file: str, branch: str | None = None) -> None:
    if branch:
        team.git(repo, "checkout", "-q", "-b", branch)
    (repo / file).write_text((repo / file).read_text() + "\n// one more line\n")
    team.commit(repo, f"one line in {file}")


def delete_tags(repo: str, prefix: str) -> None:
    for tag in [t for t in tags(repo) if t.startswith(prefix)]:
        head = urllib.request.Request(f"http://{HOST}/v2/{PATH}/{repo}/manifests/{tag}", method="HEAD",
                                      headers={"Accept": harness.MANIFEST_TYPES})
        with urllib.request.urlopen(head, timeout=10) as r:
            digest = r.headers["Docker-Content-Digest"]
        urllib.request.urlopen(urllib.request.Request(f"http://{HOST}/v2/{PATH}/{repo}/manifests/{digest}",
                                                      method="DELETE"), timeout=10).close()


# ------------------------------------------------------------------------------ issue 23: the caches
def test_a_laptop_push_then_main_then_a_branch_on_an_empty_builder_starts_from_mains_cache(bases, tmp_path):
    """Sequence (1): the laptop pushes without --cache; main's CI job finds every image pushed and
    the cache missing, and brings it back (a cache-only build of the compile); the feature
    branch's first job, on an emptied builder, imports main's cache: the modules and the
    dependencies come from it, only the app's own package is compiled."""
    svc = service(tmp_path, "svc", ("dev", "prd"))
    doc, _ = metadata(svc, "--push")  # the laptop
    assert built(doc) == {"svc-dev", "svc-prd"}
    assert not [t for t in tags("dev/svc-bakegen") if t.startswith("cache-")]
    doc, log = ci_main(svc)
    assert built(doc) == set() and "its registry cache is missing: a cache-only build writes cache-svc-main" in log
    assert set(doc) == {"svc-dev", "svc-prd"}  # the deployments' digests: the one whose cache came back too
    assert "cache-svc-main" in tags("dev/svc-bakegen")
    empty_builder()
    one_line(svc, "handler.go", "feature/one")
    doc, log = metadata(svc, "--ci", "--cache", "--push")
    assert built(doc) == {"svc-dev"} and imported(log) == ["cache-svc-main"]
    assert ran_steps(log) == {"builder 2/2"}, ran_steps(log)  # the app's compile, and nothing before it
    assert "cache-svc-feature-one" in tags("dev/svc-bakegen")


def test_after_the_caches_are_deleted_main_brings_them_back(bases, tmp_path):
    """Sequence (2): a retention rule deleted the cache tags and kept the images: the next main
    job writes the cache again, and a branch on an emptied builder imports it."""
    svc = service(tmp_path, "svc2", ("dev",))
    ci_main(svc)
    assert "cache-svc2-main" in tags("dev/svc2-bakegen")
    delete_tags("dev/svc2-bakegen", "cache-")
    assert not [t for t in tags("dev/svc2-bakegen") if t.startswith("cache-")]
    team.commit(svc, "docs only")
    doc, log = ci_main(svc)
    assert built(doc) == set() and "cache-svc2-main" in tags("dev/svc2-bakegen")
    empty_builder()
    one_line(svc, "main.go", "fix/two")
    doc, log = metadata(svc, "--ci", "--cache", "--push")
    assert built(doc) == {"svc2"} and imported(log) == ["cache-svc2-main"]
    assert ran_steps(log) == {"builder 2/2"}, ran_steps(log)


def test_a_branch_building_an_env_main_never_built_starts_from_the_apps_cache(bases, tmp_path):
    """Sequence (3): every env of an app shares one compile, so one cache per app: a branch
    building qa (which main never builds) imports main's cache, written by main's dev and prd."""
    svc = service(tmp_path, "svc3", ("dev", "prd", "qa"))
    image = svc / "bake/svc3/image.hcl"
    image.write_text(harness.set_attribute(image.read_text(), "env_branches",
                                           '{ dev = ["main", "feature/*"], prd = ["main"], qa = ["release/*"] }',
                                           add_to_block=True))
    subprocess.run([sys.executable, "-m", "bakegen", "-o", "docker-bake.hcl"], cwd=svc, check=True,
                   capture_output=True)
    team.commit(svc, "qa from release branches")
    doc, _ = ci_main(svc)
    assert built(doc) == {"svc3-dev", "svc3-prd"}
    empty_builder()
    one_line(svc, "handler.go", "release/1.0")
    doc, log = metadata(svc, "--ci", "--cache", "--push")
    assert built(doc) == {"svc3-qa"} and imported(log) == ["cache-svc3-main"]
    assert ran_steps(log) == {"builder 2/2"}, ran_steps(log)


# ------------------------------------------------------------------------------ issue 24: what tags say
def test_an_untracked_file_in_the_context_gives_a_dirty_tag_and_no_latest(bases, tmp_path):
    """An untracked extra.go is built into the binary: the image is not what the commit builds, so
    its tags say -dirty, it gets no latest, and a line names the file."""
    svc = service(tmp_path, "svc4", ("dev", "prd"))
    (svc / "extra.go").write_text('package main\n\nfunc init() { version = "from an untracked file" }\n')
    r = bake(svc, "--push")
    sha = team.git(svc, "rev-parse", "--short=7", "HEAD")
    assert "svc4-prd is built from files commit" in r.stderr and "(extra.go)" in r.stderr
    assert [t for t in tags("prd/svc4") if t.startswith(f"main-{sha}-dirty-")] and "latest" not in tags("prd/svc4")
    assert not [t for t in tags("prd/svc4") if re.fullmatch(rf"main-{sha}-\d{{12}}", t)]


def test_a_file_name_that_is_not_utf8_builds(bases, tmp_path):
    """Any name git can hold: a committed file whose name is not UTF-8 is keyed and sent; the
    build runs, and the next run with nothing changed reuses it."""
    svc = service(tmp_path, "svc5", ("dev",))
    (svc / os.fsdecode(b"notes-\xe9t\xe9.txt")).write_bytes(b"latin-1 name\n")
    team.commit(svc, "a latin-1 file name")
    doc, _ = metadata(svc, "--push")
    assert built(doc) == {"svc5"}
    team.commit(svc, "nothing changes")
    doc, _ = metadata(svc, "--push")
    assert built(doc) == set()


def test_a_published_base_that_is_not_there_is_refused_with_the_fix(bases, tmp_path):
    svc = service(tmp_path, "svc6", ("dev",))
    image = svc / "bake/svc6/image.hcl"
    text = image.read_text()
    assert "common/tools/golang-build:" in text  # init names the compile image
    image.write_text(re.sub(r"(common/tools/golang-build:)[0-9.]+", r"\g<1>1.99", text))
    subprocess.run([sys.executable, "-m", "bakegen", "-o", "docker-bake.hcl"], cwd=svc, check=True,
                   capture_output=True)
    team.commit(svc, "a toolchain nobody pushed")
    r = subprocess.run([sys.executable, "-m", "bakegen", "bake", "--push"], cwd=svc, capture_output=True, text=True,
                       env={**os.environ, **team.GIT_ENV, "BUILDX_BUILDER": FACTS["BUILDER"]}, timeout=600)
    assert r.returncode == 2 and "common/tools/golang-build:1.99, which the registry does not have" in r.stderr
    assert "push the base images first" in r.stderr and r.stderr.count("\n") == 1


# ------------------------------------------------------------------------------ issue 23: two apps
def test_a_change_to_one_app_rebuilds_only_that_app(bases, tmp_path):
    """Sequence (4): two apps in one repository (the service, and cmd/worker beside it). A
    one-line change in cmd/worker rebuilds the worker only; the service's new tags point at its
    old digest."""
    svc = service(tmp_path, "svc7", ("dev",))
    worker = svc / "cmd/worker"
    worker.mkdir(parents=True)
    (worker / "main.go").write_text('package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("worker") }\n')
    r = subprocess.run([sys.executable, "-m", "bakegen", "init", "--app", "worker", "--env", "dev", "--go-version",
                        team.GO_LINE], cwd=svc, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    image = svc / "bake/worker/image.hcl"
    number = {"bullseye": 11, "bookworm": 12}[team.SUITE]  # the harness's Debian
    image.write_text(re.sub(r"golang:debian[0-9]+", f"golang:debian{number}", image.read_text()))
    subprocess.run([sys.executable, "-m", "bakegen", "-o", "docker-bake.hcl"], cwd=svc, check=True, capture_output=True)
    team.commit(svc, "a second app")
    first, _ = metadata(svc, "--push")
    assert built(first) == {"svc7", "worker"}
    one_line(svc, "cmd/worker/main.go")
    second, log = metadata(svc, "--push")
    assert built(second) == {"worker"}, log
    assert second["svc7"]["containerimage.digest"] == first["svc7"]["containerimage.digest"]
    sha = team.git(svc, "rev-parse", "--short=7", "HEAD")
    (new,) = [t for t in tags("dev/svc7") if t.startswith(f"main-{sha}-")]
    assert team.digest_at(NAMESPACE, "dev/svc7", new) == first["svc7"]["containerimage.digest"]
