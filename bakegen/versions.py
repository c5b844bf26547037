"""Go versions: every spelling people use, compared as semver, written back as Go spells them.

Also the one place that decides which floating aliases (``X.Y``, ``X``, ``latest``) each version of a
versioned image gets, the way the official golang images assign them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from .errors import BakegenError

# go1.24.2, v1.24.2, 1.24.2, 1.24, 1.25rc1, go1.25beta2
_GO = re.compile(r"^(?:go|v)?(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)(?:\.(?P<patch>0|[1-9]\d*))?"
                 r"(?:(?P<kind>rc|beta)(?P<num>[1-9]\d*))?$")
# 1.25.0-rc.1, v1.25.0-beta.2 (semver's spelling of Go's pre-releases)
_SEMVER_PRE = re.compile(r"^v?(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0)"
                         r"-(?P<kind>rc|beta)\.(?P<num>[1-9]\d*)$")


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

    @property
    def partial(self) -> bool:
        return self.patch is None

    @property
    def prerelease(self) -> bool:
        return self.pre_kind is not None

    @property
    def line(self) -> str:
        return f"{self.major}.{self.minor}"

    @cached_property
    def semver(self):
        """As a ``semver.Version`` (imported on first use: most runs compare no versions)."""
        import semver

        pre = f"{self.pre_kind}.{self.pre_num}" if self.pre_kind else None
        return semver.Version(self.major, self.minor, self.patch or 0, prerelease=pre)

    @property
    def go(self) -> str:
        """Go's own spelling, as in the release file name: 1.24.2, 1.25rc1, 1.20 (= 1.20.0)."""
        if self.pre_kind:
            return f"{self.line}{self.pre_kind}{self.pre_num}"
        if self.patch is None:
            return self.line
        if self.patch == 0 and (self.major, self.minor) < (1, 21):
            return self.line  # before Go 1.21 the first release of a line had no ".0"
        return f"{self.line}.{self.patch}"

    def __str__(self) -> str:
        return self.go

    def __lt__(self, other: GoVersion) -> bool:
        return self.semver < other.semver

    def resolve(self, known: list[GoVersion]) -> GoVersion:
        """A partial version ("1.24") means the newest stable release of that line in ``known``."""
        if not self.partial:
            return self
        line = [v for v in known if v.line == self.line and not v.prerelease]
        if not line:
            raise BakegenError(
                f'Go {self.line}: bakegen knows no checksum for any {self.line}.x release; '
                "name the full version and add its checksums to the definition (go_checksums)"
            )
        return max(line, key=lambda v: v.semver)


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
    """The tags of every (version, variant suffix) combination of one image.

    ``suffixes[0]`` is the default variant, which also gets the bare (unsuffixed) tags.
    Rules, as the official golang images: every version gets its full tag; ``X.Y`` goes to the
    newest stable patch of each line; ``X`` and ``latest`` (and the bare suffix, ``debian12``) only
    to the newest stable line, so releasing a backport never moves them; a pre-release gets its
    full tag alone. ``wanted`` says which of ``minor``, ``major``, ``latest`` the image asks for.
    """
    stable = [v for v in versions if not v.prerelease]
    newest_of_line: dict[str, GoVersion] = {}
    for v in stable:
        if v.line not in newest_of_line or newest_of_line[v.line] < v:
            newest_of_line[v.line] = v
    newest = max(stable, key=lambda v: v.semver) if stable else None

    result: dict[tuple[GoVersion, str], list[Alias]] = {}
    for v in versions:
        floating: list[tuple[str, str]] = [(v.go, f"full version {v.go}")]
        if v.prerelease:
            floating[0] = (v.go, f"full version {v.go} (a pre-release gets no floating tag)")
        if "minor" in wanted and newest_of_line.get(v.line) == v:
            floating.append((v.line, f"{v.line}: newest stable patch of the {v.line} line"))
        if "major" in wanted and v == newest:
            floating.append((str(v.major), f"{v.major}: newest stable line ({v.line})"))
        for i, suffix in enumerate(suffixes):
            tags: list[Alias] = []
            seen: set[str] = set()

            def add(tag: str, rule: str) -> None:
                if tag not in seen:
                    seen.add(tag)
                    tags.append(Alias(tag, rule))

            if i == 0:
                for tag, rule in floating:
                    add(tag, rule + ", default variant (bare)")
                if "latest" in wanted and v == newest:
                    add("latest", f"latest: newest stable line ({v.line}), default variant")
            for tag, rule in floating:
                add(f"{tag}-{suffix}", f"{rule}, variant {suffix}")
            if "latest" in wanted and v == newest:
                add(suffix, f"{suffix}: newest stable line ({v.line}) of variant {suffix}")
            result[(v, suffix)] = tags
    return result
