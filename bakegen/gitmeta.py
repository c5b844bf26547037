"""Branch, commit, dirty state, release tag and build time: from git, CI variables and overrides.

The only module that runs git. Everything it returns is plain data (``tags.GitState`` plus where
each value came from, for ``bakegen explain``).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from .errors import BakegenError
from .tags import GitState, is_semver_tag

# Detached HEAD (every CI checkout): the first of these that is set and non-empty names the branch.
CI_BRANCH_VARIABLES = (
    ("GITHUB_HEAD_REF", "GitHub Actions, pull request"),
    ("GITHUB_REF_NAME", "GitHub Actions"),
    ("CI_COMMIT_REF_NAME", "GitLab CI"),
    ("DRONE_BRANCH", "Drone"),
    ("BRANCH_NAME", "Jenkins (multibranch)"),
    ("GIT_BRANCH", "Jenkins (git plugin)"),
)
DETACHED_FALLBACK = "detached"
OVERRIDES = "pass --branch and --commit (or BAKEGEN_BRANCH and BAKEGEN_COMMIT) to build without git"


@dataclass(frozen=True)
class GitMeta:
    state: GitState
    created: str  # RFC 3339, UTC: the build time for the "created" label
    sources: dict[str, str]  # field -> where its value came from


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True, text=True, check=False,
            env={**os.environ, "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"},
        )
    except FileNotFoundError:
        raise BakegenError(f"git is not installed; {OVERRIDES}") from None


def build_time(env: Mapping[str, str], now: dt.datetime | None = None) -> tuple[dt.datetime, str]:
    """``SOURCE_DATE_EPOCH`` when set, else now; always UTC."""
    raw = env.get("SOURCE_DATE_EPOCH", "").strip()
    if raw:
        try:
            return dt.datetime.fromtimestamp(int(raw), dt.timezone.utc), "SOURCE_DATE_EPOCH"
        except (ValueError, OverflowError, OSError):
            raise BakegenError(f'SOURCE_DATE_EPOCH="{raw}" is not a number of seconds') from None
    return (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc), "the clock (UTC)"


def ci_branch(env: Mapping[str, str]) -> tuple[str, str] | None:
    for name, system in CI_BRANCH_VARIABLES:
        value = env.get(name, "").strip()
        if value:
            if name == "GIT_BRANCH":
                value = value.removeprefix("refs/heads/").removeprefix("origin/")
            return value, f"${name} ({system}; HEAD is detached)"
    return None


def read(
    repo: Path,
    env: Mapping[str, str],
    *,
    short_length: int = 7,
    branch: str | None = None,
    commit: str | None = None,
    now: dt.datetime | None = None,
) -> GitMeta:
    """Read what the app's tags need. ``branch`` and ``commit`` override git; with both, git is
    optional (outside a repository the tree counts as clean)."""
    if not 4 <= short_length <= 40:
        raise BakegenError(f"short commit length {short_length} is outside 4..40")
    when, when_source = build_time(env, now)
    sources = {"time": when_source}
    dirty, version_tag = False, None

    top = _git(repo, "rev-parse", "--show-toplevel")
    if top.returncode == 0:
        head = _git(repo, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
        if head.returncode != 0 and not commit:
            raise BakegenError(f"the git repository at {top.stdout.strip()} has no commits yet; {OVERRIDES}")
        if head.returncode == 0:
            status = _git(repo, "status", "--porcelain", "--untracked-files=no")
            dirty = bool(status.stdout.strip())
            if dirty:
                sources["dirty"] = "git status: tracked files have uncommitted changes"
        if commit is None:
            commit = head.stdout.strip()
            sources["commit"] = "git rev-parse HEAD"
            points_at = _git(repo, "tag", "--points-at", "HEAD").stdout.split()
            semver_tags = [t for t in points_at if is_semver_tag(t)]
            if semver_tags:
                version_tag = _newest_semver(semver_tags)
                sources["version_tag"] = f"git tag {version_tag} points at HEAD"
        if branch is None:
            ref = _git(repo, "symbolic-ref", "--quiet", "--short", "HEAD")
            if ref.returncode == 0 and ref.stdout.strip():
                branch = ref.stdout.strip()
                sources["branch"] = "git symbolic-ref HEAD"
    elif not (branch and commit):
        raise BakegenError(f"{repo} is not in a git repository; {OVERRIDES}")

    if branch is None:
        found = ci_branch(env)
        if found:
            branch, sources["branch"] = found
        else:
            branch = DETACHED_FALLBACK
            sources["branch"] = (f'"{DETACHED_FALLBACK}": HEAD is detached and no CI branch variable '
                                 f"({', '.join(n for n, _ in CI_BRANCH_VARIABLES)}) is set")
    sources.setdefault("branch", "--branch")
    sources.setdefault("commit", "--commit")
    commit = commit.strip()
    if not commit:
        raise BakegenError(f"the commit is empty; {OVERRIDES}")
    state = GitState(
        branch=branch,
        commit=commit,
        short=commit[:short_length],
        dirty=dirty,
        version_tag=version_tag,
        timestamp=when.strftime("%Y%m%d%H%M"),
    )
    return GitMeta(state, when.strftime("%Y-%m-%dT%H:%M:%SZ"), sources)


def _newest_semver(names: list[str]) -> str:
    import semver

    def key(name: str):
        return semver.Version.parse(name.removeprefix("v"))

    return max(names, key=key)
