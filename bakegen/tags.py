"""Where every tag of every image is decided: Docker's tag grammar, image names, the app's tags.

Versioned images get their version aliases from ``versions.version_tags``; this module turns
those, the runtime's variant tags and the app's git-derived tags into valid Docker tags, and
holds the ``latest`` policy of the app.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import BakegenError
from .versions import Alias

MAX_TAG = 128
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_NOT_TAG_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")
# Docker's distribution/reference grammar for the path and for the registry host.
_PATH_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_HOST = re.compile(
    r"^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
    r"(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?$"
)
_SEMVER_TAG = re.compile(
    r"^v?(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)


def is_valid_tag(tag: str) -> bool:
    return bool(_TAG.match(tag))


def sanitize(text: str, fallback: str = "unknown") -> str:
    """Any text as a valid tag part: runs of characters outside ``[A-Za-z0-9_.-]`` become ``-``,
    leading ``.``/``-`` are dropped, and an empty result becomes ``fallback``.
    Not truncated here: ``app_tag`` decides which part gives way."""
    cleaned = _NOT_TAG_CHARS.sub("-", text).lstrip(".-")
    return cleaned or fallback


def check_tag(tag: str, where: str) -> str:
    if not is_valid_tag(tag):
        raise BakegenError(
            f'"{tag}" is not a valid Docker tag ([A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}})', where
        )
    return tag


def check_path(path: str, where: str) -> str:
    """An image path below the registry (``common/tools/golang``): lower-case components."""
    parts = path.split("/")
    bad = [p for p in parts if not _PATH_COMPONENT.match(p)]
    if bad:
        hint = " (image names must be lower-case)" if any(p.lower() != p for p in bad) else ""
        raise BakegenError(
            f'"{path}" is not a valid image name: component "{bad[0]}" must match '
            f"[a-z0-9]+ joined by . _ __ or -{hint}",
            where,
        )
    return path


def check_registry(registry: str, where: str) -> str:
    """``HOST[:PORT][/PREFIX...]``: a host as Docker parses it, then lower-case path components."""
    host, _, prefix = registry.strip().partition("/")
    if not host or not _HOST.match(host) or (not prefix and registry.endswith("/")):
        raise BakegenError(f'"{registry}" is not a valid registry: expected HOST[:PORT][/PREFIX]', where)
    if prefix:
        check_path(prefix, where)
    return registry.strip()


@dataclass(frozen=True)
class GitState:
    """What the app's tags depend on: the result of ``gitmeta``, reduced to plain values."""

    branch: str
    commit: str  # full hash
    short: str  # abbreviated hash
    dirty: bool
    version_tag: str | None  # a semver git tag exactly at HEAD (v1.4.2), if any
    timestamp: str  # YYYYmmddHHMM, UTC


def app_tags(
    git: GitState,
    env: str,
    latest_envs: tuple[str, ...],
    latest_branches: tuple[str, ...],
) -> list[Alias]:
    """The app's tags for one build: ``<branch>-<sha>-<time>`` (``-dirty`` after the sha when the
    work tree has uncommitted changes), the semver tags of a release tag at HEAD, and ``latest``.

    A dirty tree never gets ``latest`` or release tags: they would name code that is not committed.
    """
    sha = sanitize(git.short)
    tail = f"-{sha}{'-dirty' if git.dirty else ''}-{git.timestamp}"
    branch = sanitize(git.branch)
    room = MAX_TAG - len(tail)
    if room < 1:
        raise BakegenError(f"the commit and time parts alone are too long for a tag: {tail[1:]}")
    if len(branch) > room:
        branch = branch[:room].rstrip(".-") or branch[:1]
    tags = [Alias(branch + tail, f"branch {git.branch!r}, commit {git.short}, build time {git.timestamp} UTC"
                  + (", dirty work tree" if git.dirty else ""))]
    if git.dirty:
        return tags
    if git.version_tag:
        tags.extend(release_tags(git.version_tag))
    if env in latest_envs and git.branch in latest_branches:
        tags.append(Alias("latest", f"latest: env {env!r} is in latest_envs and branch "
                                    f"{git.branch!r} is in latest_branches"))
    return tags


def release_tags(git_tag: str) -> list[Alias]:
    """A semver git tag at HEAD (``v1.4.2``) gives ``1.4.2``, ``1.4`` and ``1``; a pre-release
    (``v1.5.0-rc.1``) only its full version; ``v0.x`` gets no ``0``. Build metadata (``+...``) is dropped: ``+`` is not
    allowed in a tag."""
    m = _SEMVER_TAG.match(git_tag)
    if not m:
        return []
    full = f"{m['major']}.{m['minor']}.{m['patch']}"
    why = f"git tag {git_tag} at HEAD"
    if m["pre"]:
        return [Alias(sanitize(f"{full}-{m['pre']}"), f"{why} (a pre-release gets only its full version)")]
    tags = [Alias(full, why), Alias(f"{m['major']}.{m['minor']}", why)]
    if m["major"] != "0":  # 0.x promises no compatibility, so no "0" alias
        tags.append(Alias(m["major"], why))
    return tags


def is_semver_tag(name: str) -> bool:
    return bool(_SEMVER_TAG.match(name))
