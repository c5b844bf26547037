"""Shared fixtures: the repository root, a CLI runner, real git repositories, HCL parsers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Every target attribute buildx knows (../shared/reference/buildx-bake.md); bake silently drops
# any other name, so the output must use these spellings only.
BAKE_TARGET_ATTRIBUTES = frozenset(["description", "inherits", "annotations", "attest", "context", "contexts", "dockerfile", "dockerfile-inline", "args", "labels", "tags", "cache-from", "cache-to", "target", "secret", "ssh", "platforms", "output", "pull", "no-cache", "network", "no-cache-filter", "shm-size", "ulimits", "resources", "call", "entitlements", "extra-hosts", "policy", "matrix", "name"])


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path_factory):
    """No BAKEGEN_*, CI branch or SOURCE_DATE_EPOCH variable leaks in from the machine, and the
    template cache lives in a private per-session temp folder."""
    for name in list(os.environ):
        if name.startswith("BAKEGEN_") or name in {
            "GITHUB_HEAD_REF", "GITHUB_REF_NAME", "GITHUB_REF", "CI_COMMIT_REF_NAME", "DRONE_BRANCH",
            "BRANCH_NAME", "GIT_BRANCH", "SOURCE_DATE_EPOCH", "REGISTRY",
        }:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BAKEGEN_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "bakegen-cache"))


class Result:
    def __init__(self, proc: subprocess.CompletedProcess):
        self.code = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr

    def __repr__(self) -> str:
        return f"Result(code={self.code}, stdout={self.stdout[:400]!r}, stderr={self.stderr[:400]!r})"


def run_bakegen(*args: str, cwd: Path | str = ROOT, env: dict | None = None) -> Result:
    """Run bakegen as users do: a new process, real stdout/stderr and exit code."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "bakegen", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=120)
    return Result(proc)


@pytest.fixture
def bakegen():
    return run_bakegen


def git(cwd: Path, *args: str, env: dict | None = None) -> str:
    base = {
        "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
    }
    proc = subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **base, **(env or {})},
                          capture_output=True, text=True, check=True)
    return proc.stdout.strip()


class Repo:
    """A real git repository in a temp folder, driven with the git CLI."""

    def __init__(self, path: Path, branch: str = "main"):
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        git(path, "init", "-q", "-b", branch)

    def git(self, *args: str) -> str:
        return git(self.path, *args)

    def commit(self, name: str = "file.txt", content: str | None = None, message: str = "change",
               env: dict | None = None) -> str:
        f = self.path / name
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(content if content is not None else f"{message}\n")
        self.git("add", "-A")
        git(self.path, "commit", "-q", "-m", message, env=env)
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path) -> Repo:
    return Repo(tmp_path / "repo")


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the repository's definitions and sample app in a temp folder, to edit freely."""
    dest = tmp_path / "project"
    shutil.copytree(ROOT / "bake", dest / "bake")
    shutil.copytree(ROOT / "examples", dest / "examples")
    return dest


def buildx_available() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "buildx", "version"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


BUILDX = buildx_available()


def bake_print(cwd: Path, *files: str, env: dict | None = None) -> dict:
    """What real buildx makes of the bake file(s) in ``cwd`` (``docker buildx bake --print``). Where
    buildx is not installed the test is skipped here: call it after the checks that need no buildx."""
    if not BUILDX:
        pytest.skip("docker buildx is not installed: the checks with real buildx are skipped")
    import json

    args = [a for f in (files or ("docker-bake.hcl",)) for a in ("-f", f)]
    proc = subprocess.run(["docker", "buildx", "bake", "--progress=quiet", *args, "--print"], cwd=cwd,
                          capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def strict_parse(text: str) -> dict:
    """Go's HCL parser (pygohcl): what buildx itself accepts, not python-hcl2's lenient view."""
    import pygohcl

    return pygohcl.loads(text)


def targets_of(text: str) -> dict:
    """``{name: attributes}`` of an HCL bake file, values decoded by the strict parser
    (``${REGISTRY}`` reads back as ``REGISTRY``)."""
    return strict_parse(text).get("target", {})


def attribute_names(text: str) -> dict[str, set[str]]:
    """The attribute names each target block uses, as Go's HCL reads them."""
    return {name: set(body) for name, body in targets_of(text).items()}


def building_targets(text: str) -> dict:
    """The targets of a bake file that build an image, each with what it inherits merged in as
    bake merges it (its own attributes win): the generated Dockerfile (``dockerfile-inline``) of
    an app's ``_<app>`` target lands in each of its env targets. The ``_<app>`` holders are left out."""
    targets = targets_of(text)
    out = {}
    for name, t in targets.items():
        if name.startswith("_"):
            continue
        merged: dict = {}
        for parent in t.get("inherits", []):
            merged.update(targets[parent])
        out[name] = {**merged, **t}
    return out


def dockerfile_text(target: dict, root: Path) -> tuple[str, str]:
    """(where it is, its text): a target's Dockerfile, generated (inline) or a file."""
    if "dockerfile-inline" in target:
        return f"dockerfile-inline of {target.get('inherits', ['?'])[0]}", target["dockerfile-inline"]
    path = root / target["context"] / target.get("dockerfile", "Dockerfile")
    return str(path), path.read_text()
