"""The ``ARG``s a Dockerfile declares, and which of them have no default; and on which platform
the ``RUN`` steps of building one of its stages run (``run_platforms``: what needs emulation).

BuildKit's own parser is available from Python only as the ``dockerfile`` package, which has no
wheel for musl (Alpine), where bakegen must install; so this reads the few rules ARG needs:
the ``escape`` parser directive, line continuations, comment lines, heredoc bodies (skipped)
and quoted ``name=value`` words. The tests compare it with BuildKit's parser on every
Dockerfile bakegen ships and on hostile cases.
"""

from __future__ import annotations

import re
import shlex
from typing import NamedTuple

AUTOMATIC = frozenset({"TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT", "BUILDPLATFORM",
                       "BUILDOS", "BUILDARCH", "BUILDVARIANT"})
_DIRECTIVE = re.compile(r"^#\s*([A-Za-z]+)\s*=\s*(\S+)\s*$")
_HEREDOC = re.compile(r"<<(-?)(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _escape_char(lines: list[str]) -> str:
    """The ``# escape=`` directive of the leading directive block (default backslash)."""
    for line in lines:
        m = _DIRECTIVE.match(line.strip())
        if not m:
            break
        if m.group(1).lower() == "escape":
            return m.group(2)
    return "\\"


def instructions(text: str) -> list[str]:
    """Each instruction on one line: continuations joined, comments and heredoc bodies left out."""
    lines = text.splitlines()
    escape = _escape_char(lines)
    out: list[str] = []
    current = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if current and line.lstrip().startswith("#"):
            continue  # a comment inside a continuation
        stripped = line.rstrip()
        if stripped.endswith(escape):
            current += stripped[: -len(escape)] + " "
            continue
        current += line
        out.append(current.strip())
        i = _skip_heredocs(current, lines, i)
        current = ""
    if current.strip():
        out.append(current.strip())
    return out


def _skip_heredocs(instruction: str, lines: list[str], i: int) -> int:
    words = instruction.split(None, 1)
    if not words or words[0].upper() not in ("RUN", "COPY", "ADD"):
        return i
    for m in _HEREDOC.finditer(instruction):
        strip_tabs, word = m.group(1) == "-", m.group(3)
        while i < len(lines) and (lines[i].lstrip("\t") if strip_tabs else lines[i]) != word:
            i += 1
        i += 1
    return i


def declared_args(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """Names of the ``ARG``s a Dockerfile declares (BuildKit's automatic platform ARGs left out),
    and those that have no default in any declaration."""
    declared: set[str] = set()
    defaulted: set[str] = set()
    for inst in instructions(text):
        word, _, rest = inst.partition(" ")
        if word.upper() != "ARG":
            continue
        try:
            items = shlex.split(rest, comments=False, posix=True)
        except ValueError:
            items = rest.split()
        for item in items:
            name, eq, _ = item.partition("=")
            if _NAME.match(name):
                declared.add(name)
                if eq:
                    defaulted.add(name)
    return frozenset(declared - AUTOMATIC), frozenset(declared - defaulted - AUTOMATIC)


# ---------------------------------------------------------------- where RUN steps run
TARGET = "$TARGETPLATFORM"  # run_platforms: the platform the image is built for
_BUILD = frozenset({"$BUILDPLATFORM", "${BUILDPLATFORM}"})
_TARGET = frozenset({TARGET, "${TARGETPLATFORM}"})
_BUILD_MACHINE = ""  # a stage's platform: the build machine's


class _Stage(NamedTuple):
    name: str  # lower case, as BuildKit compares them; "" when unnamed
    platform: str  # _BUILD_MACHINE, TARGET or a fixed platform
    runs: bool  # it has a RUN step
    needs: frozenset[int]  # the stages it is built FROM or copies or mounts from


def _flag_values(words: list[str], name: str) -> list[str]:
    """The values of a flag given as ``--name=value`` (BuildKit's only spelling) among ``words``."""
    return [w.split("=", 1)[1].strip("\"'") for w in words if w.lower().startswith(f"--{name}=")]


def _stage(stages: list[_Stage], ref: str, *, index: bool) -> int | None:
    """The earlier stage ``ref`` names (its name; with ``index``, its number too), else None: an
    image or a named context."""
    ref = ref.strip("\"'").lower()
    if index and ref.isdigit():
        return int(ref) if int(ref) < len(stages) else None
    return next((i for i, s in enumerate(stages) if s.name and s.name == ref), None)


def _from(words: list[str], stages: list[_Stage]) -> _Stage:
    """A stage from its ``FROM [--platform=P] image [AS name]`` words."""
    rest = [w for w in words if not w.startswith("--")]
    base = _stage(stages, rest[0], index=False) if rest else None
    name = rest[2].lower() if len(rest) >= 3 and rest[1].upper() == "AS" else ""
    given = _flag_values(words, "platform")
    if not given:  # FROM an earlier stage runs where it runs; FROM an image, on the target platform
        platform = stages[base].platform if base is not None else TARGET
    elif given[-1] in _BUILD:
        platform = _BUILD_MACHINE
    else:
        platform = TARGET if given[-1] in _TARGET or "$" in given[-1] else given[-1].lower()
    return _Stage(name, platform, False, frozenset() if base is None else frozenset({base}))


def _stages(text: str) -> list[_Stage]:
    stages: list[_Stage] = []
    for inst in instructions(text):
        keyword, *words = inst.split()
        if keyword.upper() == "FROM":
            stages.append(_from(words, stages))
        elif stages and keyword.upper() in ("RUN", "COPY", "ADD"):
            refs = _flag_values(words, "from") + [field.split("=", 1)[1] for mount in _flag_values(words, "mount")
                                                  for field in mount.split(",") if field.lower().startswith("from=")]
            found = {_stage(stages[:-1], r, index=True) for r in refs} - {None}
            last = stages[-1]
            stages[-1] = last._replace(runs=last.runs or keyword.upper() == "RUN",
                                       needs=last.needs | {i for i in found if i is not None})
    return stages


def run_platforms(text: str, stage: str = "") -> frozenset[str]:
    """Where the ``RUN`` steps of building ``stage`` (bake's ``target``; "" the last stage) run:
    ``TARGET`` when one of it, or of a stage it needs (``FROM``, ``COPY --from``, ``RUN --mount=from=``),
    runs on the platform the image is built for, and the fixed platform of a ``FROM
    --platform=linux/arm64`` stage. A stage ``FROM --platform=$BUILDPLATFORM``, and one built FROM
    such a stage without ``--platform``, runs on the build machine: nothing to emulate. Any other
    ``--platform`` value (another ARG) counts as the target's; so does a stage that is not there."""
    stages = _stages(text)
    wanted = stage.lower()
    start = next((i for i, s in enumerate(stages) if s.name == wanted), None) if wanted else len(stages) - 1
    if start is None or start < 0:
        return frozenset({TARGET})
    seen, todo = set(), [start]
    while todo:
        i = todo.pop()
        if i not in seen:
            seen.add(i)
            todo += stages[i].needs
    return frozenset(stages[i].platform for i in seen if stages[i].runs and stages[i].platform != _BUILD_MACHINE)
