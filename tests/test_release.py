"""`make release` and the version every pin names. A release is the tag v<version> of this
repository, pushed where teams pin it, and the wheel built from it: `make release` refuses
(building nothing) when the tag is missing, names another commit or is not on the remote, and
builds the wheel and sdist when all is there. Run in a clone of this repository's files, with a
real git remote and the real `python -m build` (the test extra)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, git

import bakegen

VERSION = bakegen.__version__
TAG = f"v{VERSION}"
VENV = Path(sys.executable).parent.parent  # the venv running the tests: it has `build`


@pytest.fixture
def clone(tmp_path) -> Path:
    """A clone of this repository's files (as they are in the work tree, committed once) from
    an ``origin`` of its own, without tags."""
    origin = tmp_path / "origin"
    files = git(ROOT, "ls-files", "--cached", "--others", "--exclude-standard").splitlines()
    for name in files:
        if (ROOT / name).is_file():
            (origin / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, origin / name)
    git(origin, "init", "-q", "-b", "main")
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", "bakegen")
    git(tmp_path, "clone", "-q", str(origin), "clone")
    return tmp_path / "clone"


def release(clone: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["make", "--no-print-directory", "release", f"VENV={VENV}", "BAKEGEN_DEP="], cwd=clone,
                          env=env, capture_output=True, text=True, timeout=600)


def refused(r: subprocess.CompletedProcess, clone: Path, message: str) -> bool:
    return r.returncode != 0 and message in r.stderr and not (clone / "dist").exists()


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_make_release_refuses_until_the_tag_is_at_head_and_pushed_then_builds(clone):
    r = release(clone)
    assert refused(r, clone, f"make: there is no tag {TAG}: tag the release and push the tag first"), r.stderr
    assert f"git tag -a {TAG} -m 'bakegen {VERSION}' && git push origin {TAG}" in r.stderr
    git(clone, "tag", "-a", TAG, "-m", f"bakegen {VERSION}")
    r = release(clone)
    assert refused(r, clone, f"make: {TAG} is not on origin, where teams pin it: git push origin {TAG}"), r.stderr
    git(clone, "push", "-q", "origin", TAG)
    (clone / "NOTES").write_text("not committed\n")
    assert refused(release(clone), clone, "make: the tree has uncommitted changes")
    (clone / "NOTES").unlink()
    r = release(clone)
    assert r.returncode == 0, r.stderr[-2000:]
    assert sorted(p.name for p in (clone / "dist").iterdir()) == [f"bakegen-{VERSION}-py3-none-any.whl",
                                                                 f"bakegen-{VERSION}.tar.gz"]


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_make_release_refuses_a_tag_that_names_another_commit(clone):
    git(clone, "tag", TAG)  # a lightweight tag counts as well
    git(clone, "push", "-q", "origin", TAG)
    git(clone, "commit", "-q", "--allow-empty", "-m", "after the release")
    r = release(clone)
    assert refused(r, clone, f"make: {TAG} is commit "), r.stderr
    assert "not HEAD" in r.stderr and "raise __version__" in r.stderr
    # here at HEAD, on origin at the commit before: moved locally, never pushed
    git(clone, "tag", "-f", TAG)
    r = release(clone)
    assert refused(r, clone, f"make: {TAG} on origin is commit "), r.stderr


def test_every_pin_names_this_version():
    """The README, the CI recipes and the hooks' example pin the version bakegen says it is."""
    pins = {
        "README.md": [r'bakegen==([\w.]+)"', r"ops/bakegen@v([\w.]+)", r"rev: v([\w.]+)",
                      r'BAKEGEN_VERSION: "([\w.]+)"', r"this is ([0-9][\w.]*)\."],
        "examples/ci/gitlab-ci.yml": [r'BAKEGEN_VERSION: "([\w.]+)"'],
        "examples/ci/github-actions.yml": [r'BAKEGEN_VERSION: "([\w.]+)"'],
        ".pre-commit-hooks.yaml": [r"rev: v([\w.]+)"],
    }
    for name, patterns in pins.items():
        text = (ROOT / name).read_text(encoding="utf-8")
        for pattern in patterns:
            found = re.findall(pattern, text)
            assert found and set(found) == {VERSION}, (name, pattern, found)
