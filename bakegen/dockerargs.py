"""The ``ARG``s a Dockerfile declares, and which of them have no default.

BuildKit's own parser is available from Python only as the ``dockerfile`` package, which has no
wheel for musl (Alpine), where bakegen must install; so this reads the few rules ARG needs:
the ``escape`` parser directive, line continuations, comment lines, heredoc bodies (skipped)
and quoted ``name=value`` words. The tests compare it with BuildKit's parser on every
Dockerfile bakegen ships and on hostile cases.
"""

from __future__ import annotations

import re
import shlex

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
