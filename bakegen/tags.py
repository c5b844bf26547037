"""Where every tag and image reference is decided, except the version aliases of a versioned
image (``versions.version_tags``): Docker's tag and name grammar, the registry, references to
published bases, variant suffixes, runtime and cache tags, and the app's git-derived tags with
its ``latest`` policy.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .errors import BakegenError
from .model import GitState, Ref
from .versions import Alias

if TYPE_CHECKING:
    import semver

MAX_TAG = 128
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_NOT_TAG_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")
# Docker's distribution/reference grammar, written so Go's RE2 (the bake file's validation of
# the REGISTRY variable) and Python's re read it the same way.
_LABEL = r"[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?"
HOST_PATTERN = rf"{_LABEL}(\.{_LABEL})*(:[0-9]+)?"
COMPONENT_PATTERN = r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*"
REGISTRY_PATTERN = rf"^{HOST_PATTERN}(/{COMPONENT_PATTERN})*$"
_COMPONENT = re.compile(rf"^{COMPONENT_PATTERN}$")
_REGISTRY = re.compile(REGISTRY_PATTERN)
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
REGISTRY_FIELD = "{registry}"


def is_valid_tag(tag: str) -> bool:
    return bool(_TAG.match(tag))


def sanitize(text: str, fallback: str = "unknown") -> str:
    """Any text as a valid tag part: runs of characters outside ``[A-Za-z0-9_.-]`` become ``-``,
    leading ``.``/``-`` are dropped, and an empty result becomes ``fallback``.
    Not truncated here: ``app_tags`` decides which part gives way."""
    cleaned = _NOT_TAG_CHARS.sub("-", text).lstrip(".-")
    return cleaned or fallback


def check_tag(tag: str, where: str) -> str:
    if not is_valid_tag(tag):
        raise BakegenError(f'"{tag}" is not a valid Docker tag ([A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}})', where)
    return tag


def check_path(path: str, where: str) -> str:
    """An image path below the registry (``common/tools/golang``): lower-case components."""
    bad = [p for p in path.split("/") if not _COMPONENT.match(p)]
    if bad:
        hint = " (image names must be lower-case)" if any(p.lower() != p for p in bad) else ""
        raise BakegenError(f'"{path}" is not a valid image name: component "{bad[0]}" must match '
                           f"[a-z0-9]+ joined by . _ __ or -{hint}", where)
    return path


def check_registry(registry: str, where: str) -> str:
    """``HOST[:PORT][/PREFIX...]``, the same rule the bake file's REGISTRY validation applies."""
    if not _REGISTRY.match(registry):
        raise BakegenError(f'"{registry}" is not a valid registry: expected HOST[:PORT][/PREFIX] '
                           "(lower-case prefix)", where)
    return registry


def is_reference(text: str) -> bool:
    """A published image (``{registry}/common/tools/golang:1.24``) rather than the name of an
    image defined beside the app."""
    return "/" in text or ":" in text or "@" in text


def parse_reference(text: str, where: str) -> Ref:
    """A published base: ``{registry}/path:tag`` (the build's registry) or a full reference,
    ``@sha256:`` digest allowed. A tag or a digest is required: ``latest`` moves."""
    name, _, digest = text.partition("@")
    if digest and not _DIGEST.match(digest):
        raise BakegenError(f'"{text}": a digest must be sha256:<64 hex digits>', where)
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag = name[colon + 1:] if colon > slash else ""
    repo = name[:colon] if colon > slash else name
    if not tag and not digest:
        raise BakegenError(f'"{text}" names no tag or digest; write one (…:1.24): "latest" moves', where)
    if tag:
        check_tag(tag, where)
    if repo.startswith(REGISTRY_FIELD + "/"):
        return Ref(check_path(repo[len(REGISTRY_FIELD) + 1:], where), tag, digest)
    if REGISTRY_FIELD in repo:
        raise BakegenError(f'"{text}": {REGISTRY_FIELD} may only start a reference', where)
    first, sep, rest = repo.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        check_registry(first, where)
        check_path(rest, where)
    else:
        check_path(repo, where)
    return Ref(repo, tag, digest, registry=False)


def variant_suffix(suite_number: int) -> str:
    """The tag suffix of a Debian variant, as the seed writes it: ``debian11``."""
    return f"debian{suite_number}"


def published_variant(ref: Ref) -> tuple[str | None, bool | None]:
    """What a published base's tag says, read by the rules bakegen tags its own bases by: the
    Debian suite (``...-debian12``: ``debian12``) and, for a runtime, whether it is static (a tag
    that names a suite is static when it has ``static-`` before the suite: ``static-debian12``);
    None where the tag does not say (``1.24``, a digest)."""
    m = re.search(r"(?:^|-)(debian\d+)$", ref.tag)
    if m is None:
        return None, None
    return m[1], ref.tag[: m.start(1)].rstrip("-").split("-")[-1] == "static"


def runtime_tag(prefix: str, suffix: str, where: str) -> str:
    """A runtime image's tag: the variant suffix behind the definition's ``tag_prefix``."""
    return check_tag(f"{prefix}{suffix}", where)


def cache_tag(suffix: str, where: str) -> str:
    """The shared registry cache's tag (``registry_cache``), in the image's internal repository:
    ``buildcache[-<suffix>]``."""
    return check_tag("buildcache" + (f"-{suffix}" if suffix else ""), where)


INTERNAL_SUFFIX = "-bakegen"


def internal_repository(path: str) -> str:
    """Where bakegen keeps what is not for deployments beside the images of ``path``: their key
    tags and registry caches go to the sibling repository ``<path>-bakegen``, so a registry's UI
    and its retention rules ("keep the last N tags") see only deployable tags in ``path``."""
    return path + INTERNAL_SUFFIX


def branch_cache_tag(name: str, branch: str) -> str:
    """``cache-<name>-<branch>``: the registry cache one image (an app: all its envs) keeps per
    branch in its internal repository."""
    return sanitize(f"cache-{name}-{branch}")[:MAX_TAG].rstrip(".-")


def release_version(git_tag: str) -> semver.Version | None:
    """The version a semver git tag (``v1.4.2``, ``1.5.0-rc.1``) names, else None: the one reader
    of release tags."""
    import semver

    try:
        return semver.Version.parse(git_tag.removeprefix("v"))
    except ValueError:
        return None


def _stem(git: GitState, short_length: int, reserve: int) -> str:
    """``<branch>-<sha>[-dirty]``, the branch shortened so that ``reserve`` more characters fit
    in a tag: the commit part is never cut."""
    tail = f"-{sanitize(git.short(short_length))}{'-dirty' if git.dirty else ''}"
    room = MAX_TAG - reserve - len(tail)
    if room < 1:
        raise BakegenError(f"the commit and time parts alone are too long for a tag: {tail[1:]}")
    branch = sanitize(git.branch)
    if len(branch) > room:
        branch = branch[:room].rstrip(".-") or branch[:1]
    return branch + tail


def app_version(git: GitState, short_length: int) -> str:
    """What the app's binary and version label call this build: the release at the commit, else
    ``<branch>-<sha>[-dirty]``. No time: the same commit gives the same binary."""
    release = release_tags(git.version_tag) if git.version_tag and not git.dirty else []
    return release[0].tag if release else _stem(git, short_length, 0)


def is_release(git: GitState) -> bool:
    """A release build (a tag pipeline): the ref built is the release tag at the commit
    (``v1.2.0``, which CI gives as the branch in a detached HEAD), committed as it is."""
    return git.version_tag is not None and git.branch == git.version_tag and not git.dirty


def app_tags(git: GitState, short_length: int, env: str, latest_envs: tuple[str, ...],
             latest_branches: tuple[str, ...]) -> list[Alias]:
    """The app's tags for one build: ``<branch>-<sha>-<time>`` (``-dirty`` after the sha when the
    work tree has uncommitted changes), the semver tags of a release tag at the commit, and
    ``latest``. A dirty tree never gets ``latest`` or release tags: they would name code that is
    not committed. A release build (``is_release``) gets no ``<branch>-<sha>-<time>``: its branch
    is the tag's name, so that tag would be ``v1.2.0-<sha>-<time>``, a second name for what
    ``1.2.0`` names (the git tag is one commit), sorted among the branches' build tags."""
    release = release_tags(git.version_tag, git.releases) if git.version_tag and not git.dirty else []
    if release and is_release(git):
        tags = list(release)
    else:
        stem = _stem(git, short_length, len(git.timestamp) + 1)
        tags = [Alias(f"{stem}-{git.timestamp}",
                      f"branch {git.branch!r}, commit {git.short(short_length)}, time {git.timestamp} UTC"
                      + (", dirty work tree" if git.dirty else "")), *release]
    if git.dirty:
        return tags
    if env in latest_envs and git.branch in latest_branches:
        tags.append(Alias("latest", f"latest: env {env!r} is in latest_envs and branch "
                                    f"{git.branch!r} is in latest_branches"))
    return tags


def release_tags(git_tag: str, releases: tuple[str, ...] = ()) -> list[Alias]:
    """A semver git tag (``v1.4.2``) gives ``1.4.2``, and ``1.4`` and ``1`` when it is the newest
    stable release of that line among ``releases`` (the repository's semver tags), as the base
    images' aliases move: a backport (``v1.2.1`` after ``v1.3.0``) gets ``1.2.1`` and ``1.2``,
    never ``1``. A pre-release (``v1.5.0-rc.1``) gets only its full version; ``v0.x`` no ``0``.
    Build metadata (``+...``) is dropped: ``+`` is not allowed in a tag."""
    v = release_version(git_tag)
    if v is None:
        return []
    full, why = f"{v.major}.{v.minor}.{v.patch}", f"git tag {git_tag} at the commit"
    if v.prerelease:
        return [Alias(sanitize(f"{full}-{v.prerelease}"), f"{why} (a pre-release gets only its full version)")]
    stable = [r for r in map(release_version, releases) if r is not None and not r.prerelease] + [v]
    aliases, held = [], []
    for alias, line in ((f"{v.major}.{v.minor}", (v.major, v.minor)), (str(v.major), (v.major,))):
        newest = max(r for r in stable if (r.major, r.minor)[: len(line)] == line)
        if v.major == 0 and len(line) == 1:
            continue  # 0.x promises no compatibility, so no "0" alias
        if newest > v:
            held.append(f"not {alias}: v{newest} is newer")
        else:
            aliases.append(Alias(alias, f"{why}, the newest release of {alias}"))
    return [Alias(full, "; ".join([why, *held])), *aliases]
