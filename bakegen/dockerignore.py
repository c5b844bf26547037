"""Which files of a build context a BuildKit build sees, decided from its ``.dockerignore``.

Pure: it takes the ignore file's text and clean, context-relative, '/'-separated paths, decoded
as UTF-8 with ``errors="surrogateescape"`` (BuildKit's JSON step turns each bad byte of a pattern
into U+FFFD, as its regexps read each bad byte of a name). The rules are those of the Go code
BuildKit runs, read in its sources and checked against a real BuildKit by
tests/test_dockerignore.py (BakegenError wherever the build would fail):

* ``moby/patternmatcher/ignorefile.ReadAll``: lines split at '\\n', one '\\r' and a first-line BOM
  dropped, a line of 64 KiB or more fails; '#' in column 1 is a comment; Go's ``TrimSpace``; '!'
  (then trimmed again) marks an exclusion; ``filepath.Clean``, then one leading '/' removed.
* ``session/filesync`` sends the list as a gRPC header: a control character fails the build
  unless some pattern has a non-ASCII character.
* ``patternmatcher.New`` trims and cleans again, '!' included (``! /`` is a bare '!', which fails;
  ``!../../a`` is ``a``; ``/ foo`` is ``foo``), and fails on a ``filepath.Match(p, ".")`` syntax
  error, which it finds only in the text up to the first ``*`` (the second, if the first matches
  "."): ``[a`` fails, ``x*[a`` does not.
* ``Pattern.compile`` makes an exact name, a prefix (``a/**``), a suffix (leading ``**``: ``**foo``
  matches ``xfoo``) or a Go regexp: ``*`` is ``[^/]*``, ``?`` is ``[^/]``, ``**`` is ``(.*/)?``
  (``a**b`` misses ``axb``), ``\\x`` stays, and ``[``, ``]``, ``^`` are the regexp's (``[!a]`` holds
  '!', ``[*]`` is ``[[^/]*]``, ``^`` anchors). An invalid regexp (``[z-a]``, ``\\y``) fails the
  build only when consulted, like the few this module does not model (``\\d``, ``[[:alpha:]]``).
* ``tonistiigi/fsutil`` ``filterFS.Walk``, top-down with ``MatchesUsingParentResults``: a pattern's
  match on a directory holds below it, a pattern is tried only when it could change the verdict so
  far, the last match wins; so ``D/*`` then ``!D`` keeps ``D/f`` out (``MatchesOrParentMatches``
  would not). A matched directory is skipped whole when no exclusion could re-include in it.

The Dockerfile and ``.dockerignore`` are not sent when excluded (the Dockerfile travels apart);
``<Dockerfile>.dockerignore`` beside the Dockerfile replaces ``.dockerignore`` (``frontend/dockerui``):
the caller picks the file to parse.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bakegen.errors import BakegenError

_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
            "\u2028\u2029\u202f\u205f\u3000"  # unicode.IsSpace
_GLOB_CHARS = set("*[]?^\\")  # an exclusion with one of these: fsutil skips no directory
_BAD_BYTE = dict.fromkeys(range(0xDC80, 0xDD00), "\ufffd")  # a byte not UTF-8, as surrogateescape decodes it
# filepath.Match's grammar: a class is [, an optional ^, ranges (c or c-c, c escaped or not - nor ]), ]
_GLOB_CHAR = r"(?:\\.|[^\\\-\]])"
_GLOB_RANGE = re.compile(rf"({_GLOB_CHAR})(?:-({_GLOB_CHAR}))?", re.S)
_GLOB_CLASS = re.compile(rf"\[\^?+(?:{_GLOB_CHAR}(?:-{_GLOB_CHAR})?)+\]", re.S)
_GLOB_CHUNK = re.compile(rf"(?:{_GLOB_CLASS.pattern}|\\.|[^\[\\])*", re.S)
# a Go regexp's tokens: a class (a first ] is a member; its members), an escape, a character
_GO_TOKEN = re.compile(r"\[(\^?)(\]?(?:\\.|[^\\\]])*)\]|(\\.?)|(.)", re.S)
_GO_RANGE = re.compile(r"(\\.|.)(?:-(\\.|.))?", re.S)


@dataclass(frozen=True)
class Pattern:
    """One pattern as BuildKit's matcher holds it: ``text`` without its '!'."""

    text: str
    exclusion: bool
    where: str  # "file:line"
    kind: str  # "exact", "prefix", "suffix" or "regexp"
    regex: re.Pattern[str] | None = None
    problem: str | None = None  # raised when the pattern is consulted

    def matches(self, path: str) -> bool:
        """Whether this pattern alone matches ``path`` (patternmatcher's ``Pattern.match``)."""
        if self.problem:
            raise BakegenError(self.problem, self.where)
        if self.kind == "exact":
            return path == self.text
        if self.kind == "prefix":
            return path.startswith(self.text[:-2])
        if self.kind == "suffix":
            suffix = self.text[2:]
            return path.endswith(suffix) or (suffix.startswith("/") and path == suffix[1:])
        return self.regex is not None and self.regex.match(path.translate(_BAD_BYTE)) is not None


def parse(text: str, filename: str = ".dockerignore") -> tuple[Pattern, ...]:
    """The patterns of an ignore file, in order; BakegenError where BuildKit fails the build."""
    entries = list(_read_all(text, filename))
    for where, s in entries:
        if any(c < " " or c == "\x7f" for c in s) and all(e.isascii() for _, e in entries):
            raise BakegenError("a control character in a pattern fails the build (BuildKit's gRPC header)", where)
    return tuple(p for where, s in entries if (p := _new_pattern(s, where)))


def _read_all(text: str, filename: str) -> Iterable[tuple[str, str]]:
    """(where, entry) as ``ignorefile.ReadAll`` returns the entries."""
    lines = text.split("\n")
    for number, raw in enumerate(lines[:-1] if lines[-1] == "" else lines, 1):
        if len(raw.encode("utf-8", "surrogateescape")) >= 65536:  # bufio.Scanner's limit
            raise BakegenError("a line of 64 KiB or more fails the build (token too long)", f"{filename}:{number}")
        line = (raw.removeprefix("\ufeff") if number == 1 else raw).removesuffix("\r").translate(_BAD_BYTE)
        pattern = line.strip(_GO_SPACE)
        if line.startswith("#") or not pattern:
            continue
        invert = pattern.startswith("!")
        pattern = pattern[1:].strip(_GO_SPACE) if invert else pattern
        if pattern:
            pattern = _clean(pattern)
            pattern = pattern[1:] if len(pattern) > 1 and pattern.startswith("/") else pattern
        yield f"{filename}:{number}", "!" * invert + pattern


def _clean(path: str) -> str:
    """Go's ``filepath.Clean`` of a '/'-separated path."""
    rooted, parts = path.startswith("/"), list[str]()
    for part in path.split("/"):
        if part == ".." and parts and parts[-1] != "..":
            parts.pop()
        elif part not in ("", ".") and not (part == ".." and rooted):
            parts.append(part)
    joined = "/".join(parts)
    return "/" + joined if rooted else joined or "."


def _new_pattern(entry: str, where: str) -> Pattern | None:
    """One entry as ``patternmatcher.New`` takes it; None when it is blank."""
    if not entry.strip(_GO_SPACE):
        return None
    p = _clean(entry.strip(_GO_SPACE))
    exclusion, p = p.startswith("!"), p.removeprefix("!")
    if exclusion and not p:
        raise BakegenError('a bare "!" fails the build (illegal exclusion pattern)', where)
    if not _glob_ok(p):
        raise BakegenError(f"{p!r} fails the build: a bad [...] class or a trailing \\ (syntax error in pattern)",
                           where)
    kind, go_regexp = _compile(p)
    try:
        if p.startswith("\ufeff"):
            raise ValueError("starts with a byte-order mark")
        return Pattern(p, exclusion, where, kind, re.compile(_python_regex(go_regexp)) if kind == "regexp" else None)
    except (ValueError, re.error) as e:
        problem = f"{p!r}: {e} in the Go regexp {go_regexp!r} BuildKit makes of it (if invalid, the build fails)" \
                  "; bakegen cannot match it"
        return Pattern(p, exclusion, where, kind, problem=problem)


def _glob_ok(p: str) -> bool:
    """Whether ``filepath.Match(p, ".")`` finds no syntax error: it reads the first star-free
    chunk, and the second only when the first matches "."."""
    for chunk in _chunks(p)[:2]:
        if not _GLOB_CHUNK.fullmatch(chunk):
            return False
        if chunk not in (".", "\\.", "?") and not _class_holds_dot(chunk):
            break
    return True


def _chunks(p: str) -> list[str]:
    """The pieces between ``*``s (unescaped, outside ``[...]``), as Go's ``scanChunk`` cuts them."""
    chunks, start, i, in_class = [], 0, 0, False
    while i < len(p):
        if p[i] == "*" and not in_class:
            chunks.append(p[start:i])
            start = i + 1
        in_class = p[i] == "[" or (in_class and p[i] != "]")
        i += 2 if p[i] == "\\" else 1
    return [c for c in [*chunks, p[start:]] if c]


def _class_holds_dot(chunk: str) -> bool:
    """Whether ``chunk`` is one glob ``[...]`` class that matches "."."""
    if not _GLOB_CLASS.fullmatch(chunk):
        return False
    negate = chunk.startswith("[^")
    ranges = _GLOB_RANGE.findall(chunk[1 + negate : -1])
    return any(lo[-1] <= "." <= (hi or lo)[-1] for lo, hi in ranges) != negate


def _compile(p: str) -> tuple[str, str]:
    """patternmatcher's kind of ``p`` and the Go regexp it builds from it."""
    kind, out, i = "exact", ["^"], 0
    while i < len(p):
        c, i = p[i], i + 1
        if c == "*" and p.startswith("*", i):
            start, i = i == 1, i + 1 + p.startswith("/", i + 1)
            grows = i < len(p) or kind != "exact"  # else "a/**", a prefix
            if grows:
                out.append("(.*/)?" if i < len(p) else ".*")
            kind = "suffix" if start else "regexp" if grows else "prefix"
        elif c in "*?[]" or (c == "\\" and i < len(p)):
            out.append({"*": "[^/]*", "?": "[^/]"}.get(c, p[i - 1 : i + (c == "\\")]))
            i, kind = i + (c == "\\"), "regexp"
        else:
            out.append("\\" + c if c in ".+()|{}$" else c)
    return kind, "".join(out) + "$"  # a trailing "\" escapes this "$"


def _python_regex(go: str) -> str:
    """The Python equivalent of ``go``, a regexp of the shapes ``_compile`` makes."""
    out = []
    for m in _GO_TOKEN.finditer(go):
        negate, members, escape, char = m.groups()
        if members is not None:
            if "[:" in members:
                raise ValueError("a [:name:] class")
            out.append(f"[{negate}{''.join(_python_range(*r) for r in _GO_RANGE.findall(members))}]")
        elif escape is not None:
            out.append(re.escape(_go_char(escape)))
        elif char == "[":
            raise ValueError("a [ without ]")
        else:
            out.append(r"\Z" if char == "$" else char if char in ".*?()^" else re.escape(char))
    return "".join(out)


def _python_range(lo: str, hi: str) -> str:
    lo, hi = _go_char(lo), _go_char(hi or lo)
    if hi < lo:
        raise ValueError(f"the range {lo}-{hi}")
    return re.escape(lo) + ("-" + re.escape(hi)) * (hi != lo)


def _go_char(token: str) -> str:
    """The character a class member or an escape stands for: Go reads ``\\`` + ASCII punctuation
    as that character (letters make classes and anchors, which this module does not model)."""
    c = token[1:] if token.startswith("\\") else token
    if token.startswith("\\") and (not c or not c.isascii() or c.isalnum()):
        raise ValueError(f"the escape {token}")
    return c


def _decide(patterns: Sequence[Pattern], path: str, above: list[bool] | None) -> tuple[bool, list[bool]]:
    """``MatchesUsingParentResults``: whether ``path`` is excluded, and which patterns hold for it."""
    matched, hits = False, []
    for n, p in enumerate(patterns):
        hit = bool(above and above[n]) or (p.exclusion == matched and p.matches(path))
        hits.append(hit)
        matched = not p.exclusion if hit else matched
    return matched, hits


def _prunes(patterns: Sequence[Pattern], directory: str) -> bool:
    """fsutil's shortcut for an excluded directory: no exclusion could reach inside it."""
    exceptions = [p.text.removesuffix("/**").removesuffix("/*") for p in patterns if p.exclusion]
    return not any(_GLOB_CHARS.intersection(e) or (e + "/").startswith(directory + "/") for e in exceptions)


class _Walk:
    """fsutil's top-down walk, remembering each directory's verdict."""

    def __init__(self, patterns: Iterable[Pattern]) -> None:
        self.patterns = tuple(patterns)
        self.dirs: dict[str, tuple[bool, list[bool]] | None] = {}

    def decide(self, path: str) -> tuple[bool, list[bool]] | None:
        """(excluded, pattern hits) of ``path``; None when the walk skips a directory above it."""
        parent = path.rpartition("/")[0]
        above = self.directory(parent) if parent else (False, None)
        return None if above is None else _decide(self.patterns, path, above[1])

    def directory(self, path: str) -> tuple[bool, list[bool]] | None:
        """``decide`` for a directory, which is None too when the walk skips it."""
        if path not in self.dirs:
            state = self.decide(path)
            self.dirs[path] = None if state is None or (state[0] and _prunes(self.patterns, path)) else state
        return self.dirs[path]

    def excluded(self, path: str) -> bool:
        if path in ("", ".", "..") or path.startswith(("/", "../")) or _clean(path) != path:
            raise ValueError(f"not a clean context-relative path: {path!r}")
        state = self.decide(path)
        return state is None or state[0]


def excluded(patterns: Iterable[Pattern], path: str) -> bool:
    """Whether the file at ``path`` is left out of the build context."""
    return _Walk(patterns).excluded(path)


def prunable_dir(patterns: Iterable[Pattern], dirpath: str) -> bool:
    """Whether the walk skips directory ``dirpath`` and all below it, as fsutil's sender does."""
    return _Walk(patterns).directory(dirpath) is None


def visible(patterns: Iterable[Pattern], paths: Iterable[str]) -> list[str]:
    """The files among ``paths`` (e.g. from ``git ls-files``) the build can see, sorted."""
    walk = _Walk(patterns)
    return sorted(p for p in paths if not walk.excluded(p))
