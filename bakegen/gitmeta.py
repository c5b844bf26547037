"""Branch, commit, dirty state, release tag and times: from git, CI variables and overrides.

The only module that runs git. Everything it returns is plain data (``tags.GitState`` plus where
each value came from, for ``bakegen explain``).

Times are reproducible: ``SOURCE_DATE_EPOCH`` when set, else the committer time of the commit
(for a base image, of the last commit that changed its definition), so building a commit again
gives the same labels, tags and digests. Only a work tree with uncommitted changes uses the clock.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from .errors import BakegenError
from .model import GitMeta, GitState, Listing, Stamp
from .tags import release_version

# Detached HEAD (every CI checkout): the first of these that is set and non-empty names the branch.
CI_BRANCH_VARIABLES = (
    ("GITHUB_HEAD_REF", "GitHub Actions, pull request"),
    ("GITHUB_REF_NAME", "GitHub Actions"),
    ("GITHUB_REF", "GitHub Actions"),
    ("CI_COMMIT_REF_NAME", "GitLab CI"),
    ("DRONE_BRANCH", "Drone"),
    ("BRANCH_NAME", "Jenkins (multibranch)"),
    ("GIT_BRANCH", "Jenkins (git plugin)"),
)
DETACHED_FALLBACK = "detached"
OVERRIDES = "pass --branch and --commit (or BAKEGEN_BRANCH and BAKEGEN_COMMIT) to build without git"


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """git's output as text; a byte that is not UTF-8 (a file name git holds as bytes) is kept as
    ``surrogateescape`` decodes it, as ``os.fsdecode`` does: the name round-trips to the file."""
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, encoding="utf-8",
                              errors="surrogateescape", check=False,
                              env={**os.environ, "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"})
    except FileNotFoundError:
        raise BakegenError(f"git is not installed; {OVERRIDES}") from None


def source_date_epoch(env: Mapping[str, str]) -> int | None:
    raw = env.get("SOURCE_DATE_EPOCH", "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
        dt.datetime.fromtimestamp(value, dt.UTC)
    except (ValueError, OverflowError, OSError):
        raise BakegenError("is not a number of seconds", f'SOURCE_DATE_EPOCH="{raw}"') from None
    return value


def ci_branch(env: Mapping[str, str]) -> tuple[str, str] | None:
    for name, system in CI_BRANCH_VARIABLES:
        value = env.get(name, "").strip()
        if value:
            if name in ("GIT_BRANCH", "GITHUB_REF"):  # refs/heads/main, origin/main, refs/tags/v1.2.0
                for prefix in ("refs/heads/", "refs/tags/", "refs/pull/", "origin/"):
                    value = value.removeprefix(prefix)
            return value, f"${name} ({system}; HEAD is detached)"
    return None


def _commit_info(repo: Path, rev: str, paths: Sequence[str] = ()) -> tuple[str, int] | None:
    """(full hash, committer time) of ``rev``, or of the last commit up to it that changed one of
    ``paths``; None when git does not know it (or it changed none of them)."""
    out = _git(repo, "log", "-1", "--no-show-signature", "--format=%H %ct", rev, "--", *paths)
    fields = out.stdout.split()
    return (fields[0], int(fields[1])) if out.returncode == 0 and len(fields) == 2 else None


def _is_dirty(repo: Path, paths: Sequence[str] = ()) -> bool:
    status = _git(repo, "status", "--porcelain", "--untracked-files=no", "--", *paths)
    return bool(status.stdout.strip())


def _release_tag(repo: Path, commit: str) -> str | None:
    versions = {name: v for name in _git(repo, "tag", "--points-at", commit).stdout.split()
                if (v := release_version(name)) is not None}
    return max(versions, key=versions.__getitem__) if versions else None


def _branch(repo: Path | None, env: Mapping[str, str]) -> tuple[str, str]:
    if repo is not None:
        ref = _git(repo, "symbolic-ref", "--quiet", "--short", "HEAD")
        if ref.returncode == 0 and ref.stdout.strip():
            return ref.stdout.strip(), "git symbolic-ref HEAD"
    found = ci_branch(env)
    if found:
        return found
    names = ", ".join(n for n, _ in CI_BRANCH_VARIABLES)
    return DETACHED_FALLBACK, f'"{DETACHED_FALLBACK}": HEAD is detached and no CI branch variable ({names}) is set'


def _top(repo: Path) -> Path | None:
    top = _git(repo, "rev-parse", "--show-toplevel")
    return Path(top.stdout.strip()) if top.returncode == 0 else None


def _stamp(commit: str, committed: int | None, dirty: bool, env: Mapping[str, str], clock: int) -> Stamp:
    epoch = source_date_epoch(env)
    if epoch is not None:
        return Stamp(commit, epoch, "SOURCE_DATE_EPOCH")
    if committed is not None and not dirty:
        return Stamp(commit, committed, "the commit's committer time")
    return Stamp(commit, clock, "the clock (uncommitted changes)" if dirty else "the clock (no git commit)")


def build_state(meta: GitMeta, dirty: bool, env: Mapping[str, str]) -> tuple[GitState, Stamp]:
    """The git state and stamp of one build: ``dirty`` when what it builds from is not what the
    commit holds (its own files, not the rest of the tree), which marks its tags and takes the
    clock for its time."""
    stamp = _stamp(meta.state.commit, meta.committed, dirty, env, meta.clock)
    timestamp = dt.datetime.fromtimestamp(stamp.epoch, dt.UTC).strftime("%Y%m%d%H%M")
    return meta.state._replace(dirty=dirty, timestamp=timestamp), stamp


def read(repo: Path, env: Mapping[str, str], *, branch: str | None = None, commit: str | None = None,
         now: dt.datetime | None = None) -> GitMeta:
    """Read what the app's tags need. ``branch`` and ``commit`` override git; with both, git is
    optional (outside a repository the tree counts as clean)."""
    top = _top(repo)
    if top is None and not (branch and commit):
        raise BakegenError(f"{repo} is not in a git repository; {OVERRIDES}")
    sources = {"branch": "--branch", "commit": "--commit"}
    head = _commit_info(top, "HEAD") if top else None
    if top and head is None and not commit:
        raise BakegenError(f"the git repository at {top} has no commits yet; {OVERRIDES}")
    if commit is not None and not commit.strip():
        raise BakegenError(f"the commit is empty; {OVERRIDES}")
    info = (_commit_info(top, commit.strip()) if top and commit else head)
    full = info[0] if info else (commit or "").strip()
    if commit is None:
        sources["commit"] = "git rev-parse HEAD"
    dirty = bool(top and head and full == head[0] and _is_dirty(top))
    if dirty:
        sources["dirty"] = "git status: tracked files have uncommitted changes"
    version_tag = _release_tag(top, full) if top and info else None
    if version_tag:
        sources["version_tag"] = f"git tag {version_tag} points at {full[:12]}"
    if branch is None:
        branch, sources["branch"] = _branch(top, env)
    clock = int((now or dt.datetime.now(dt.UTC)).timestamp())
    stamp = _stamp(full, info[1] if info else None, dirty, env, clock)
    sources["time"] = stamp.source
    timestamp = dt.datetime.fromtimestamp(stamp.epoch, dt.UTC).strftime("%Y%m%d%H%M")
    releases = tuple(t for t in _git(top, "tag", "--list").stdout.split() if release_version(t)) if top else ()
    state = GitState(branch=branch, commit=full, dirty=dirty, version_tag=version_tag, timestamp=timestamp,
                     releases=releases)
    shallow = top is not None and _git(top, "rev-parse", "--is-shallow-repository").stdout.strip() == "true"
    return GitMeta(state, stamp, sources, top, shallow, info[1] if info else None, clock)


def unshallow(repo: Path) -> None:
    """Fetch the history and tags a shallow clone lacks (``git fetch --unshallow --tags``)."""
    out = _git(repo, "fetch", "--quiet", "--unshallow", "--tags")
    if out.returncode != 0:
        raise BakegenError(f"git fetch --unshallow --tags failed: {out.stderr.strip()[-300:]}")


def last_change(meta: GitMeta, paths: Sequence[Path], env: Mapping[str, str], *, dirty: bool = False) -> Stamp:
    """The stamp of a base image: the last commit (up to the build's) of ``meta``'s repository that
    changed any of ``paths``, so an image whose definition did not change keeps its ``created``
    and ``revision``, and its digest; the clock when ``dirty`` (what it builds from is not
    committed). Without git, the build's own stamp."""
    if meta.repo is None or not paths:
        return meta.stamp
    info = _commit_info(meta.repo, meta.state.commit, [str(p.absolute()) for p in paths])
    if info is None:
        return build_state(meta, dirty, env)[1]  # not tracked here (built-in definitions): the build's commit
    return _stamp(info[0], info[1], dirty, env, meta.clock)


def top(folder: Path) -> Path | None:
    """The top of the git work tree ``folder`` is in; None outside one."""
    return _top(folder)


def repo_listing(top: Path) -> Listing:
    """Every file of the work tree at ``top`` as git sees it, relative to ``top``: two git runs,
    whatever the number of builds that read it (``Listing.under`` gives a folder's)."""
    tracked = {}
    for entry in _git(top, "ls-files", "-s", "-z").stdout.split("\0"):
        if entry:
            info, _, path = entry.partition("\t")
            mode, blob, _stage = info.split()
            tracked[path] = (mode, blob)
    unsure, deleted = [], set()
    for word in _git(top, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--ignored=matching",
                     "--no-renames").stdout.split("\0"):
        if len(word) >= 4:
            (deleted.add(word[3:]) if "D" in word[:2] else unsure.append(word[3:]))
    return Listing(tracked, tuple(sorted(set(unsure))), frozenset(deleted))


def listing(folder: Path) -> Listing | None:
    """The folder's files as git sees them; None outside a git work tree."""
    found = _top(folder)
    if found is None:
        return None
    prefix = os.path.relpath(folder.resolve(), found.resolve()).replace(os.sep, "/")
    return repo_listing(found).under("" if prefix == "." else prefix + "/")
