"""Go versions: every spelling people use, compared as semver, written back as Go spells them.

Also the one place that decides which floating aliases (``X.Y``, ``X.Y-rc``, ``X``, ``latest``) each
version of a versioned image gets, the way the official golang images assign them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from .errors import BakegenError

# go1.24.2, v1.24.2, 1.24.2, 1.24, 1.25rc1, go1.25beta2
_GO = re.compile(r"^(?:go|v)?(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)(?:\.(?P<patch>0|[1-9]\d*))?"
                 r"(?:(?P<kind>rc|beta)(?P<num>[1-9]\d*))?$")
# 1.25.0-rc.1, v1.25.0-beta.2 (semver's spelling of Go's pre-releases)
_SEMVER_PRE = re.compile(r"^v?(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0)"
                         r"-(?P<kind>rc|beta)\.(?P<num>[1-9]\d*)$")

# Go 1.21 is the first line whose first release is spelled X.Y.0 (go1.21.0); before it, go1.20 was 1.20.0.
_FIRST_DOT_ZERO = (1, 21)


@dataclass(frozen=True, order=False)
class GoVersion:
    major: int
    minor: int
    patch: int | None  # None: only the line was given ("1.24"); see ``resolve``
    pre_kind: str | None = None  # "rc" or "beta"
    pre_num: int | None = None

    @classmethod
    def parse(cls, text: str) -> GoVersion:
        s = str(text).strip()
        m = _GO.match(s) or _SEMVER_PRE.match(s)
        if not m:
            raise BakegenError(
                f'invalid Go version "{text}": expected a form like 1.24.2, 1.24, go1.24.2, '
                "v1.24.2, 1.25rc1 or 1.25.0-rc.1"
            )
        g = m.groupdict()
        kind, num = g.get("kind"), g.get("num")
        patch = None if g["patch"] is None else int(g["patch"])
        if kind and patch not in (None, 0):
            raise BakegenError(f'invalid Go version "{text}": Go pre-releases have no patch number')
        if kind:
            patch = 0
        return cls(int(g["major"]), int(g["minor"]), patch, kind, int(num) if num else None)

    @classmethod
    def release(cls, text: str) -> GoVersion:
        """One release, as a checksum key, a go.dev entry or a file name names it: ``1.24.2``,
        ``go1.25rc1``, ``v1.24.99``, ``1.20.0`` and Go's own ``1.20`` (before Go 1.21, the first
        release of a line had no ``.0``). A later line alone (``1.24``) names no release: an error."""
        v = cls.parse(text)
        if v.partial:
            if (v.major, v.minor) >= _FIRST_DOT_ZERO:
                raise BakegenError(f'"{text}" names the Go {v.line} line, not one release: write the full '
                                   f"version ({v.line}.0, {v.line}.1, ...)")
            return replace(v, patch=0)
        return v

    @property
    def partial(self) -> bool:
        return self.patch is None

    @property
    def prerelease(self) -> bool:
        return self.pre_kind is not None

    @property
    def line(self) -> str:
        return f"{self.major}.{self.minor}"

    @property
    def key(self) -> tuple[int, int, int, bool, str, int]:
        """The sort key: semver's order (a pre-release before its release; beta before rc; rc.2
        before rc.10) without importing semver, which most runs never need."""
        return (self.major, self.minor, self.patch or 0, self.pre_kind is None, self.pre_kind or "",
                self.pre_num or 0)

    @property
    def go(self) -> str:
        """Go's own spelling, as in the release file name: 1.24.2, 1.25rc1, 1.20 (= 1.20.0)."""
        if self.pre_kind:
            return f"{self.line}{self.pre_kind}{self.pre_num}"
        if self.patch is None:
            return self.line
        if self.patch == 0 and (self.major, self.minor) < _FIRST_DOT_ZERO:
            return self.line  # before Go 1.21 the first release of a line had no ".0"
        return f"{self.line}.{self.patch}"

    @property
    def tag(self) -> str:
        """The full-version tag, as the official images write it: ``1.24.2``, ``1.25rc1``, and
        ``1.20.0`` for Go's ``1.20`` (docker-library appended the ``.0`` until Go 1.21 had its own)."""
        if self.pre_kind or self.patch is None:
            return self.go
        return f"{self.line}.{self.patch}"

    def __str__(self) -> str:
        return self.go

    def __lt__(self, other: GoVersion) -> bool:
        return self.key < other.key

    def resolve(self, known: Iterable[GoVersion]) -> GoVersion:
        """A partial version ("1.24") means the newest stable release of that line in ``known``.

        ``known`` may hold Go's own spelling of an old first release (``1.20``, parsed as a line):
        it counts as ``1.20.0``."""
        if not self.partial:
            return self
        line = [k for k in (_as_release(k) for k in known) if k and k.line == self.line and not k.prerelease]
        if not line:
            raise BakegenError(
                f"Go {self.line}: bakegen knows no checksum for any {self.line}.x release; run `bakegen lock`, "
                "or name the full version and add its checksums to the definition (go_checksums)"
            )
        return max(line, key=lambda v: v.key)


def _as_release(v: GoVersion) -> GoVersion | None:
    if not v.partial:
        return v
    return replace(v, patch=0) if (v.major, v.minor) < _FIRST_DOT_ZERO else None


def known_versions(keys: Iterable[str]) -> list[GoVersion]:
    """The releases a checksum table's keys name (any spelling ``GoVersion.release`` reads)."""
    return [GoVersion.release(k) for k in keys]


ALIAS_KINDS = ("minor", "major", "latest")


@dataclass(frozen=True)
class Alias:
    """One tag of a versioned image and the rule that gave it (for ``bakegen explain``)."""

    tag: str
    rule: str


def version_tags(
    versions: list[GoVersion],
    suffixes: list[str],
    wanted: tuple[str, ...],
) -> dict[tuple[GoVersion, str], list[Alias]]:
    """The tags of every (version, variant suffix) combination of one image, as the official golang
    images give them (docker-library/golang ``generate-stackbrew-library.sh``).

    Each version has its bare tags (see ``_bare_tags``). Every variant gets each of them with
    ``-<suffix>`` appended, ``latest`` becoming the suffix alone (``latest-bookworm`` is ``bookworm``);
    ``suffixes[0]``, the default variant, also gets the bare tags themselves. ``wanted`` says which
    of ``minor`` (``X.Y``, and ``X.Y-rc`` for a coming line), ``major`` (``X``) and ``latest`` the
    image asks for; the full version is always there.
    """
    bare = _bare_tags(versions, wanted)
    return {(v, suffix): _variant_tags(bare[v], suffix, default=i == 0)
            for v in versions for i, suffix in enumerate(suffixes)}


def _bare_tags(versions: list[GoVersion], wanted: tuple[str, ...]) -> dict[GoVersion, list[tuple[str, str]]]:
    """The official ``baseAliases`` of each version, in their order: the full version; ``X.Y`` for
    the newest stable patch of each line; ``X.Y-rc`` for the newest pre-release of a line with no
    stable release yet (the official ``X.Y-rc`` directory lives until its line's first release);
    ``X`` and ``latest`` for the newest stable release, the first non-rc line (a backport never
    moves them)."""
    newest_of_line: dict[str, GoVersion] = {}
    coming: dict[str, GoVersion] = {}
    for v in sorted(versions, key=lambda v: v.key):
        (coming if v.prerelease else newest_of_line)[v.line] = v
    coming = {line: v for line, v in coming.items() if line not in newest_of_line}
    stable = [v for v in versions if not v.prerelease]
    newest = max(stable, key=lambda v: v.key) if stable else None
    out: dict[GoVersion, list[tuple[str, str]]] = {}
    for v in versions:
        tags = [(v.tag, f"full version {v.tag}")]
        if "minor" in wanted and newest_of_line.get(v.line) == v:
            tags.append((v.line, f"{v.line}: newest stable patch of the {v.line} line"))
        if "minor" in wanted and coming.get(v.line) == v:
            tags.append((f"{v.line}-rc", f"{v.line}-rc: newest pre-release of the {v.line} line, "
                                         f"which has no stable release yet"))
        if "major" in wanted and v == newest:
            tags.append((str(v.major), f"{v.major}: newest stable release ({v.line} line)"))
        if "latest" in wanted and v == newest:
            tags.append(("latest", f"latest: newest stable release ({v.line} line)"))
        out[v] = tags
    return out


def _variant_tags(bare: list[tuple[str, str]], suffix: str, default: bool) -> list[Alias]:
    tags: dict[str, Alias] = {}
    if default:
        for tag, rule in bare:
            tags.setdefault(tag, Alias(tag, f"{rule}, default variant (no suffix)"))
    for tag, rule in bare:
        name = suffix if tag == "latest" else f"{tag}-{suffix}"
        tags.setdefault(name, Alias(name, f"{rule}, variant {suffix}"))
    return list(tags.values())
