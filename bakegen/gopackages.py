"""What a Go main package's build reads from its module: the files that can change its binary,
and the packages from outside the module it imports (GO_DEPS). Pure: file contents come
through a callable.

An app's build copies its whole context and runs ``go build ./<main package>`` there (with
``-tags netgo,osusergo``, for linux, one architecture per platform). Go reads, of the module it
builds in: ``go.mod``, ``go.sum``, ``go.work`` and ``go.work.sum``; for each package of the main
package's import closure, the files directly in its folder (``.go`` files of any build constraint
for their headers, the compiled ones whole, ``.s``/``.h``/``.syso``, ``default.pgo`` beside the
main package); and the files its ``//go:embed`` patterns match, never outside the package's
folder nor in a nested module (a subfolder with its own ``go.mod``). ``Module.needs`` returns a
superset of that: every file directly in each package folder, the whole subtree of a folder with
an embed, the closure over the imports of every ``.go`` file of a folder whatever its build
constraints or ``_test`` suffix. Anything this cannot follow makes ``needs`` say so in
``fallback``: then the whole context counts.

The rules are Go's, read in its sources (``go/build``: ``read.go``'s import reader,
``parseFileHeader``, ``shouldBuild``, ``goodOSArchFile``, ``matchTag``; ``go/build/constraint``;
``golang.org/x/mod/modfile``'s lexer and ``parseReplace``) and checked against ``go list`` and
``go mod edit -json`` by tests/test_gopackages.py.
"""

from __future__ import annotations

import functools
import posixpath
import re
import unicodedata
from bisect import bisect_left
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

# `go tool dist list`'s linux ports: the architectures a build may target.
LINUX_GOARCHES = ("386", "amd64", "arm", "arm64", "loong64", "mips", "mips64", "mips64le", "mipsle", "ppc64",
                  "ppc64le", "riscv64", "s390x")
# internal/syslist: the names a file name's _GOOS / _GOARCH suffix and a build tag are matched against.
KNOWN_OS = frozenset({"aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "js", "linux",
                      "nacl", "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows", "zos"})
KNOWN_ARCH = frozenset({"386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be", "loong64", "mips", "mipsle",
                        "mips64", "mips64le", "mips64p32", "mips64p32le", "ppc", "ppc64", "ppc64le", "riscv",
                        "riscv64", "s390", "s390x", "sparc", "sparc64", "wasm"})
# True on every build of an app: linux (a unix), the gc compiler, and the Dockerfile's -tags.
TRUE_TAGS = frozenset({"linux", "unix", "gc", "netgo", "osusergo"})
MODULE_FILES = ("go.mod", "go.sum", "go.work", "go.work.sum")


class GoSourceError(ValueError):
    """A go.mod or a Go file's header this cannot read (Go would not read it either, or this is
    stricter than Go: the caller keys the whole context). ``line`` is 1-based."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


# Go's unicode.IsSpace, as bytes.TrimSpace uses it.
_SPACE = " \t\n\v\f\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029" \
         "\u202f\u205f\u3000"
_ESCAPES = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, '"': 34}
_HEX = {"x": 2, "u": 4, "U": 8}


def unquote(literal: str) -> str:
    """A Go string literal's value, as ``strconv.Unquote``: raw (carriage returns dropped) or
    interpreted (escapes; ``\\x`` and octal are bytes, invalid UTF-8 becomes U+FFFD).
    ValueError when it is neither."""
    if len(literal) >= 2 and literal[0] == literal[-1] == "`" and "`" not in literal[1:-1]:
        return literal[1:-1].replace("\r", "")
    if len(literal) < 2 or literal[0] != '"' or literal[-1] != '"':
        raise ValueError(f"not a string literal: {literal}")
    body = literal[1:-1]
    if "\\" not in body and '"' not in body and "\n" not in body:
        return body
    out = bytearray()
    at = 0
    while at < len(body):
        c = body[at]
        if c in '"\n':
            raise ValueError(f"not a string literal: {literal}")
        if c != "\\":
            out += c.encode("utf-8", "surrogatepass")
            at += 1
            continue
        e = body[at + 1: at + 2]
        if e in _ESCAPES:
            out.append(_ESCAPES[e])
            at += 2
        elif e in _HEX:
            digits = body[at + 2: at + 2 + _HEX[e]]
            if len(digits) != _HEX[e] or not all(d in "0123456789abcdefABCDEF" for d in digits):
                raise ValueError(f"bad escape in {literal}")
            value = int(digits, 16)
            if e == "x":
                out.append(value)
            elif value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
                raise ValueError(f"bad escape in {literal}")
            else:
                out += chr(value).encode()
            at += 2 + _HEX[e]
        elif e and e in "01234567":
            digits = body[at + 1: at + 4]
            if len(digits) != 3 or not all(d in "01234567" for d in digits) or int(digits, 8) > 255:
                raise ValueError(f"bad escape in {literal}")
            out.append(int(digits, 8))
            at += 4
        else:
            raise ValueError(f"bad escape in {literal}")
    return out.decode("utf-8", "replace")


# -- go.mod ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Replace:
    old: str
    old_version: str  # "" for every version
    new: str
    new_version: str  # "" for a folder
    local: bool  # ``new`` is a folder (modfile.IsDirectoryPath): ./ ../ / . .. and Windows' forms


@dataclass(frozen=True)
class GoMod:
    module: str
    go: str  # "" when go.mod has no go line
    toolchain: str
    replaces: tuple[Replace, ...]


_MOD_PUNCT = "\n()[]{},"
_GO_VERSION = re.compile(r"([1-9][0-9]*)\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))?([a-z]+[0-9]+)?")
_TOOLCHAIN = re.compile(r"default$|go1($|\.)")
# golang.org/x/mod/semver: vMAJOR[.MINOR[.PATCH[-PRERELEASE][+BUILD]]]
_IDENT = r"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
_SEMVER = re.compile(rf"v(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*)(?:-{_IDENT}(?:\.{_IDENT})*)?"
                     r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)?)?")
_BLOCK_VERBS = frozenset({"module", "godebug", "require", "exclude", "replace", "retract", "tool", "ignore"})


class _Tok(NamedTuple):
    text: str
    line: int
    kind: str  # "word", "string", or the punctuation itself


def _mod_tokens(text: str) -> list[_Tok]:
    """modfile's lexer: ``//`` comments (also inside a word), ``"``/`` ` `` strings on one line,
    punctuation, and words: runs of printable non-space characters."""
    out: list[_Tok] = []
    line, at, n = 1, 0, len(text)
    while at < n:
        c = text[at]
        if c in " \t\r":
            at += 1
        elif text.startswith("//", at):
            end = text.find("\n", at)
            at = n if end < 0 else end
        elif text.startswith("/*", at):
            raise GoSourceError("mod files must use // comments (not /* */ comments)", line)
        elif c in _MOD_PUNCT:
            out.append(_Tok(c, line, c))
            line += c == "\n"
            at += 1
        elif c in "\"`":
            end = at + 1
            while end < n and text[end] != c:
                if text[end] == "\n":
                    raise GoSourceError("unexpected newline in string", line)
                end += 2 if text[end] == "\\" and c == '"' else 1
            if end >= n:
                raise GoSourceError("unexpected EOF in string", line)
            out.append(_Tok(text[at: end + 1], line, "string"))
            at = end + 1
        elif c.isprintable() and c not in _SPACE:
            end = at
            while end < n and text[end] not in _SPACE and text[end] not in "()[]{}," and text[end].isprintable():
                if text.startswith("/*", end):
                    raise GoSourceError("mod files must use // comments (not /* */ comments)", line)
                if text.startswith("//", end):
                    break
                end += 1
            out.append(_Tok(text[at:end], line, "word"))
            at = end
        else:
            raise GoSourceError(f"unexpected input character {c!r}", line)
    return out


def _mod_lines(text: str) -> list[list[_Tok]]:
    """Each statement's tokens, the verb of its block in front for one inside a block."""
    lines: list[list[_Tok]] = [[]]
    for t in _mod_tokens(text):
        if t.kind == "\n":
            lines.append([])
        else:
            lines[-1].append(t)
    out: list[list[_Tok]] = []
    rows = iter(line for line in lines if line)
    for row in rows:
        if row[-1].kind == "(" or [t.kind for t in row[-2:]] == ["(", ")"]:
            head = row[:-1] if row[-1].kind == "(" else row[:-2]
            if len(head) != 1 or head[0].text not in _BLOCK_VERBS:
                raise GoSourceError(f"unknown block type: {' '.join(t.text for t in head)}", row[0].line)
            if row[-1].kind == ")":
                continue
            for inner in rows:
                if inner[0].kind == ")":
                    if len(inner) > 1:
                        raise GoSourceError("syntax error (expected newline after closing paren)", inner[0].line)
                    break
                out.append(head + inner)
            else:
                raise GoSourceError("syntax error (unterminated block)", row[0].line)
        else:
            out.append(row)
    return out


def _mod_string(t: _Tok) -> str:
    """modfile.parseString: a quoted string's value, or a word without quotes."""
    if t.text.startswith('"'):
        try:
            return unquote(t.text)
        except ValueError:
            raise GoSourceError(f"invalid quoted string {t.text}", t.line) from None
    if any(q in t.text for q in "\"'`"):
        raise GoSourceError(f"invalid quoted string: unquoted string cannot contain quote: {t.text}", t.line)
    return t.text


def _version(t: _Tok, verb: str) -> str:
    """modfile.parseVersion without a fixer: a semantic version (``v1.2`` too: Go canonicalizes
    it). The /vN suffix of the module path against the version's major is not checked."""
    value = _mod_string(t)
    if not _SEMVER.fullmatch(value):
        raise GoSourceError(f"{verb}: version {value!r} invalid: must be of the form v1.2.3", t.line)
    return value


def _retract(args: list[_Tok], line: int) -> None:
    """modfile.parseVersionInterval: ``v1.2.3`` or ``[v1.2.3, v1.4.0]``, nothing after."""
    kinds = [a.kind for a in args]
    if kinds == ["word"]:
        _version(args[0], "retract")
    elif kinds == ["[", "word", ",", "word", "]"]:
        _version(args[1], "retract")
        _version(args[3], "retract")
    else:
        raise GoSourceError("retract: expected a version or an interval [v1.2.3, v1.4.0]", line)


def is_directory_path(path: str) -> bool:
    """modfile.IsDirectoryPath: a replacement that is a folder, not a module."""
    return (path in (".", "..") or path.startswith(("./", ".\\", "../", "..\\", "/", "\\"))
            or (len(path) >= 2 and path[0].isascii() and path[0].isalpha() and path[1] == ":"))


def _replace(args: list[_Tok], line: int) -> Replace:
    arrow = 1 if len(args) >= 2 and args[1].text == "=>" else 2
    if not arrow + 2 <= len(args) <= arrow + 3 or args[arrow].text != "=>":
        raise GoSourceError("usage: replace module/path [v1.2.3] => other/module v1.4 or => ../local/directory", line)
    old = _mod_string(args[0])
    old_version = _version(args[1], "replace") if arrow == 2 else ""
    new = _mod_string(args[arrow + 1])
    local = is_directory_path(new)
    if len(args) == arrow + 2 and not local:
        raise GoSourceError("replacement module without version must be directory path (rooted or starting "
                            "with . or ..)", line)
    if len(args) == arrow + 3 and local:
        raise GoSourceError(f"replacement module directory path {new!r} cannot have version", line)
    new_version = _version(args[arrow + 2], "replace") if len(args) == arrow + 3 else ""
    return Replace(old, old_version, new, new_version, local and not new_version)


def parse_go_mod(text: str) -> GoMod:
    """A main module's go.mod, as the go command's strict ``modfile.Parse`` reads it: the
    directives it knows (module, go, toolchain, godebug, require, exclude, replace, retract, tool,
    ignore), one per line or in a ``verb (`` ... ``)`` block, ``//`` comments, quoted paths.
    GoSourceError wherever Go refuses the file (an unknown directive, ``/* */``, a raw string as a
    path, a bad go version, a version that is not semantic, a repeated module line, a replacement
    without version that is not a folder...) or has no module line. Not checked: a module path's
    syntax and its /vN suffix against its versions (Go refuses those: the build fails anyway).
    ``replaces`` are as written; Go keeps the last of those that replace one module version, and
    refuses the build where they differ."""
    found: dict[str, str] = {}
    replaces: list[Replace] = []
    for row in _mod_lines(text.removeprefix("\ufeff")):
        verb, args, line = row[0].text, row[1:], row[0].line
        if verb in ("module", "go", "toolchain"):
            if verb in found:
                raise GoSourceError(f"repeated {verb} statement", line)
            if len(args) != 1:
                raise GoSourceError(f"{verb} directive expects exactly one argument", line)
            value = _mod_string(args[0]) if verb == "module" else args[0].text
            if verb == "go" and not _GO_VERSION.fullmatch(value):
                raise GoSourceError(f"invalid go version {value!r}: must match format 1.23.0", line)
            if verb == "toolchain" and not _TOOLCHAIN.match(value):
                raise GoSourceError(f"invalid toolchain version {value!r}", line)
            found[verb] = value
        elif verb == "replace":
            replaces.append(_replace(args, line))
        elif verb in ("require", "exclude"):
            if len(args) != 2:
                raise GoSourceError(f"usage: {verb} module/path v1.2.3", line)
            _mod_string(args[0])
            _version(args[1], verb)
        elif verb in ("tool", "ignore", "godebug"):
            if len(args) != 1 or (verb == "godebug" and ("=" not in args[0].text or
                                                         any(q in args[0].text for q in "\"`',"))):
                raise GoSourceError(f"{verb} directive expects exactly one argument", line)
            _mod_string(args[0])
        elif verb == "retract":
            _retract(args, line)
        else:
            raise GoSourceError(f"unknown directive: {verb}", line)
    if "module" not in found:
        raise GoSourceError("no module directive", 1)
    return GoMod(found["module"], found.get("go", ""), found.get("toolchain", ""), tuple(replaces))


# -- a Go file's header -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Import:
    path: str
    name: str = ""  # "" (the package's own name), "_", "." or an alias


@dataclass(frozen=True)
class Header:
    package: str
    imports: tuple[Import, ...]
    go_build: tuple[str, ...]  # the //go:build lines' expressions Go reads (two or more: Go refuses the file)
    plus_build: tuple[str, ...]  # the // +build lines' expressions, which count only without //go:build
    embeds: bool  # imports "embed" and has a //go:embed comment: its folder's files may be embedded

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(i.path for i in self.imports)

    @property
    def cgo(self) -> bool:
        return any(i.path == "C" for i in self.imports)


_GO_TOKEN = re.compile(r"""
    [ \t\r\n\f;]+ | //[^\n]* | /\*.*?\*/         # space and comments (";" ends a spec: space here)
  | (?P<string>"(?:[^"\\\n]|\\[^\n])*"|`[^`]*`)
  | (?P<word>[^\W\d]\w*)
  | (?P<punct>[().])
""", re.X | re.S)


_ILLEGAL = frozenset("!\"#$%&'()*,:;<=>?[\\]^{|}`\ufffd")  # go/build isValidImport, with non-graphic and space


_KEYWORDS = frozenset({"break", "case", "chan", "const", "continue", "default", "defer", "else", "fallthrough", "for",
                       "func", "go", "goto", "if", "import", "interface", "map", "package", "range", "return",
                       "select", "struct", "switch", "type", "var"})


class _Reader:
    """The tokens of a Go file's package clause and imports: words, strings and ( ) . ;
    comments and space skipped; ``("", "")`` at the end of the text or at a character that
    starts none of them."""

    def __init__(self, text: str) -> None:
        self.text, self.at = text, 0

    def next(self) -> tuple[str, str]:
        while True:
            m = _GO_TOKEN.match(self.text, self.at)
            if not m:
                return "", ""
            self.at = m.end()
            if m.lastgroup:
                return m.lastgroup, m[0]

    def line(self) -> int:
        return self.text.count("\n", 0, self.at) + 1

    def fail(self, what: str) -> GoSourceError:
        return GoSourceError(f"{what} in the package clause or imports", self.line())


def _spec(r: _Reader, kind: str, text: str) -> Import:
    name = ""
    if kind == "word" and text in _KEYWORDS:
        raise r.fail(f"expected an import path, found the keyword {text}")
    if kind == "word" or (kind, text) == ("punct", "."):
        name, (kind, text) = text, r.next()
    if kind != "string":
        raise r.fail(f"expected an import path, found {text!r}" if text else "unexpected text or end")
    try:
        path = unquote(text)
    except ValueError as e:
        raise r.fail(str(e)) from None
    if not path or any(c in _ILLEGAL or unicodedata.category(c)[0] not in "LMNPS" for c in path):
        raise r.fail(f"invalid import path {path!r}")
    return Import(path, name)


def parse_header(source: str) -> Header:
    """A Go file's package name, imports and build constraints, as ``go/build`` reads them: a
    tokenizer over the package clause and the import declarations (comments anywhere; strings,
    raw or with escapes, that hold ``//``, ``import`` or ``)``; ``;`` between specs), which stops at
    the first token that is not ``import``. GoSourceError for text Go's parser would refuse there."""
    text = source.removeprefix("\ufeff")
    r = _Reader(text)
    if r.next() != ("word", "package"):
        raise r.fail("expected 'package'")
    kind, package = r.next()
    if kind != "word" or package in _KEYWORDS:
        raise r.fail("expected the package name")
    imports: list[Import] = []
    while r.next() == ("word", "import"):
        kind, token = r.next()
        if (kind, token) != ("punct", "("):
            imports.append(_spec(r, kind, token))
            continue
        while (spec := r.next()) != ("punct", ")"):
            imports.append(_spec(r, *spec))
    go_build, plus_build = _constraint_lines(text)
    embeds = any(i.path == "embed" for i in imports) and "//go:embed" in text
    return Header(package, tuple(imports), go_build, plus_build, embeds)


def _constraint_lines(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """go/build's ``parseFileHeader``: the leading run of blank lines and comments before the first
    other text; a ``//go:build`` line anywhere in it (not inside ``/* */``), ``// +build`` lines
    only up to its last blank line."""
    go_build: list[str] = []
    end = at = 0
    ended = in_star = False
    while at < len(text):
        nl = text.find("\n", at)
        stop = len(text) if nl < 0 else nl + 1
        line, at = text[at:stop].strip(_SPACE), stop
        if not line and not ended:
            end = at
            continue
        ended = ended or not line.startswith("//")
        if not in_star and line.startswith("//go:build") and (len(line) == 10 or line[10] in _SPACE):
            go_build.append(line[10:].strip(_SPACE))
        while line:
            if in_star:
                close = line.find("*/")
                if close < 0:
                    break
                in_star, line = False, line[close + 2:].strip(_SPACE)
            elif line.startswith("//"):
                break
            elif line.startswith("/*"):
                in_star, line = True, line[2:].strip(_SPACE)
            else:
                return tuple(go_build), _plus_build(text[:end])
    return tuple(go_build), _plus_build(text[:end])


def _plus_build(head: str) -> tuple[str, ...]:
    out = []
    for raw in head.split("\n"):
        line = raw.strip(_SPACE)
        if line.startswith("//") and "+build" in line:
            rest = line[2:].strip(_SPACE)
            if rest.startswith("+build") and (len(rest) == 6 or rest[6] in _SPACE):
                out.append(rest[6:].strip(_SPACE))
    return tuple(out)


# -- build constraints ----------------------------------------------------------------------------

Truth = bool | None  # None: depends on what this cannot know (cgo, a newer Go, GOAMD64, an experiment)


def _not(x: Truth) -> Truth:
    return None if x is None else not x


def _and(x: Truth, y: Truth) -> Truth:
    return False if x is False or y is False else (None if x is None or y is None else True)


def _or(x: Truth, y: Truth) -> Truth:
    return True if x is True or y is True else (None if x is None or y is None else False)


Tags = Callable[[str], Truth]
Constraint = Callable[[Tags], Truth]  # a parsed expression: its truth for a tag function
_EXPR_TOKEN = re.compile(r"[ \t]*(?:(\(|\)|!|&&|\|\|)|([\w.]+)|(.)|$)")


@functools.lru_cache(maxsize=4096)
def parse_constraint(text: str) -> Constraint:
    """go/build/constraint ``parseExpr``: a //go:build line's expression (``||`` below ``&&``
    below ``!``, parentheses, tags of letters, digits, ``_`` and ``.``), as a function of the
    tags' truth. ValueError where Go reports a syntax error."""
    tokens: list[tuple[str, bool]] = []  # (token, is a tag)
    at = 0
    while at < len(text):
        m = _EXPR_TOKEN.match(text, at)
        if m is None or m[3] is not None or m.end() == at:
            raise ValueError(f"invalid syntax in {text!r}")
        if m[1] or m[2]:
            tokens.append((m[1] or m[2], m[2] is not None))
        at = m.end()
    tokens.append(("", False))
    pos = 0

    def take(token: str) -> bool:
        nonlocal pos
        if tokens[pos] == (token, False):
            pos += 1
            return True
        return False

    def either() -> Constraint:
        x = both()
        while take("||"):
            x = functools.partial(lambda a, b, t: _or(a(t), b(t)), x, both())
        return x

    def both() -> Constraint:
        x = unary()
        while take("&&"):
            x = functools.partial(lambda a, b, t: _and(a(t), b(t)), x, unary())
        return x

    def unary() -> Constraint:
        if take("!"):
            if tokens[pos] == ("!", False):
                raise ValueError("double negation not allowed")
            return functools.partial(lambda a, t: _not(a(t)), atom())
        return atom()

    def atom() -> Constraint:
        nonlocal pos
        if take("("):
            x = either()
            if not take(")"):
                raise ValueError("missing close paren")
            return x
        token, is_tag = tokens[pos]
        if not is_tag:
            raise ValueError(f"unexpected token {token!r}" if token else "unexpected end of expression")
        pos += 1
        return lambda t: t(token)

    x = either()
    if tokens[pos][0]:
        raise ValueError(f"unexpected token {tokens[pos][0]!r}")
    return x


def _release(go: str) -> int:
    """The minor version of a go.mod's go line ("1.22.3": 22); 0 when there is none."""
    m = _GO_VERSION.match(go)
    return int(m[2]) if m and m[1] == "1" else 0


def tag_truth(tag: str, goarch: str, go: str = "") -> Truth:
    """A build tag on a linux/``goarch`` build of an app (go/build ``matchTag``): the release tags
    up to the go.mod's ``go`` line are true (the toolchain is at least that; newer ones unknown);
    ``cgo``, GOEXPERIMENTs and the architecture's feature tags (``amd64.v3``) unknown; any other
    tag false: the build passes only ``-tags netgo,osusergo``."""
    if tag in TRUE_TAGS or tag == goarch:
        return True
    if tag in ("cgo", "boringcrypto") or tag.startswith("goexperiment."):
        return None
    release = re.fullmatch(r"go1\.([1-9][0-9]*)", tag)
    if release:
        return True if int(release[1]) <= _release(go) else None
    if tag.partition(".")[0] == goarch:
        return None
    return False


def _name_for(name: str, goarch: str) -> bool:
    """go/build ``goodOSArchFile`` on linux/``goarch``: a file name's _GOOS, _GOARCH or
    _GOOS_GOARCH suffix (before ``_test`` and the first dot)."""
    stem = name.partition(".")[0]
    cut = stem.find("_")
    if cut < 0:
        return True
    parts = stem[cut:].split("_")
    if parts[-1] == "test":
        parts.pop()
    if len(parts) >= 2 and parts[-2] in KNOWN_OS and parts[-1] in KNOWN_ARCH:
        return parts[-2] == "linux" and parts[-1] == goarch
    if parts and parts[-1] in KNOWN_OS:
        return parts[-1] == "linux"
    if parts and parts[-1] in KNOWN_ARCH:
        return parts[-1] == goarch
    return True


def compiles(name: str, header: Header, goarch: str, go: str = "") -> Truth:
    """Whether ``go build`` on linux/``goarch`` compiles the Go file ``name`` (its base name) of
    a package it builds: ``matches``, and not a ``_test.go`` file."""
    return False if name.endswith("_test.go") else matches(name, header, goarch, go)


def matches(name: str, header: Header, goarch: str, go: str = "") -> Truth:
    """go/build ``matchFile`` on linux/``goarch`` with the tags of ``tag_truth`` (``go``: the
    go.mod's go line): not a file Go ignores (``_x.go``, ``.x.go``), nor one for another system by
    its name; then its //go:build line, else its // +build lines. A constraint Go cannot parse
    counts as unknown (Go refuses the package)."""
    if name.startswith(("_", ".")) or not _name_for(name, goarch):
        return False
    def tag(t: str) -> Truth:
        return tag_truth(t, goarch, go)
    if header.go_build:
        if len(header.go_build) > 1:
            return None
        try:
            return parse_constraint(header.go_build[0])(tag)
        except ValueError:
            return None
    value: Truth = True
    for line in header.plus_build:
        value = _and(value, _plus_build_value(line, tag))
    return value


def _plus_build_value(line: str, tag: Callable[[str], Truth]) -> Truth:
    """go/build/constraint ``parsePlusBuildExpr``: space-separated options, any of which may hold;
    each a comma-separated list of [!]tag that must all hold; a malformed tag is ``ignore``."""
    value: Truth = False
    for clause in line.split() or ["ignore"]:
        term: Truth = True
        for lit in clause.split(","):
            negate = lit.startswith("!") and not lit.startswith("!!") and lit != "!"
            word = lit[1:] if negate else lit
            t = tag(word if re.fullmatch(r"[\w.]+", word) else "ignore")
            term = _and(term, _not(t) if negate else t)
        value = _or(value, term)
    return value


# -- the module ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Needs:
    files: tuple[str, ...]  # sorted: what the main package's build may read (every file, with a fallback)
    external: tuple[str, ...]  # sorted: what its packages import from outside the module, for linux
    packages: tuple[str, ...]  # sorted: the module's package folders in its import closure ("." the root)
    fallback: str  # "" when the closure was read; else one line: why the whole context counts


class _Folder(NamedTuple):
    parsed: tuple[tuple[str, Header], ...]  # its .go files Go reads (not _x.go, .x.go) whose header parsed
    imports: frozenset[str]  # the module folders any of them imports
    problems: tuple[str, ...]  # what makes its closure unknown (fallback reasons)
    embeds: bool


def _folder(path: str) -> str:
    cut = path.rfind("/")
    return path[:cut] if cut >= 0 else "."


def _go_file(path: str) -> bool:
    base = path.rpartition("/")[2]
    return base.endswith(".go") and not base.startswith(("_", "."))


_ASM_INCLUDE = re.compile(r"#\s*include\b(.*)")
_ASM_NAME = re.compile(r'\s*"([^"/\\]+)"\s*$')


class Module:
    """The Go module of one build context, read once and asked per main package. ``files`` are
    the context's paths as the build sees them (after .dockerignore), relative and "/"-separated;
    ``read`` returns a file's text (decoded with ``errors="replace"``), and is asked for go.mod
    and for the .go and .s files of the package folders a closure reaches, each at most once;
    ``symlinks`` are the paths among ``files`` that are symbolic links. ``fallback`` is why no
    closure of this context can be trusted ("" when they can): no go.mod, a go.mod this cannot
    read, a go.work, a vendor folder, a replacement by a local folder."""

    def __init__(self, files: Iterable[str], read: Callable[[str], str], symlinks: Collection[str] = ()) -> None:
        self.all = tuple(sorted(set(files)))
        self._read = read
        self._links = frozenset(symlinks)
        self._by_folder: dict[str, list[str]] = {}
        for path in self.all:
            self._by_folder.setdefault(_folder(path), []).append(path)
        self._nested = frozenset(f for f, names in self._by_folder.items() if f != "." and f + "/go.mod" in names)
        self._roots: dict[str, str] = {}
        self._folders: dict[str, _Folder] = {}
        self._linux: dict[tuple[str, str], tuple[frozenset[str], frozenset[str]]] = {}
        self._archs: dict[str, frozenset[str]] = {}
        self._trees: dict[str, tuple[str, ...]] = {}
        self.go_mod, self.module, self.fallback = self._load_go_mod()

    def _load_go_mod(self) -> tuple[GoMod | None, str, str]:
        """(go.mod, the module path, why no closure can be trusted or "")."""
        if "go.mod" not in self._by_folder.get(".", ()):
            return None, "", "the context has no go.mod at its root"
        text = self._read("go.mod")
        try:
            mod = parse_go_mod(text)
        except GoSourceError as e:
            lax = re.search(r'^[ \t]*module[ \t]+"?([^\s"/(][^\s"]*)"?[ \t]*(//.*)?$', text, re.M)
            return None, lax[1] if lax else "", f"go.mod cannot be read: {e}"
        if "go.work" in self._by_folder["."]:
            return mod, mod.module, "go.work: a workspace can take packages from any folder"
        vendor = next((p for p in self.all if p.startswith("vendor/")), "")
        if vendor:
            return mod, mod.module, f"{vendor}: the build may read packages from vendor/"
        local = next((r for r in mod.replaces if r.local), None)
        if local:
            return mod, mod.module, f"go.mod replaces {local.old} with the folder {local.new}"
        return mod, mod.module, ""

    def nested_module(self, folder: str) -> str:
        """The folder of the nested module (its own go.mod) that ``folder`` is in, or ""."""
        found = self._roots.get(folder)
        if found is None:
            parent = folder
            found = ""
            while parent not in (".", ""):
                if parent in self._nested:
                    found = parent
                    break
                parent = parent.rpartition("/")[0]
            self._roots[folder] = found
        return found

    def package_folder(self, path: str) -> str | None:
        """The folder of the module's package ``path``; None for a package from outside it (the
        standard library, another module, a nested module)."""
        if path == self.module:
            return "."
        if not self.module or not path.startswith(self.module + "/"):
            return None
        folder = path[len(self.module) + 1:]
        return None if self.nested_module(folder) else folder

    def needs(self, main_package: str, goarchs: Iterable[str] = LINUX_GOARCHES) -> Needs:
        """What building ``main_package`` (its folder: "." or "cmd/api") reads, and the outside
        packages its compiled files import on any of ``goarchs`` (linux)."""
        archs = tuple(dict.fromkeys(goarchs))
        if not set(archs) <= set(LINUX_GOARCHES):
            raise ValueError(f"not linux architectures: {sorted(set(archs) - set(LINUX_GOARCHES))}")
        main = posixpath.normpath(main_package or ".")
        problem = self._main_problem(main)
        if problem or not self.module:
            return Needs(self.all, (), (), self.fallback or problem)
        packages = self._closure(main)
        files = self._files(packages)
        why = (self.fallback or next((p for f in packages for p in self._folder_info(f).problems), "")
               or self._link_problem(files))
        return Needs(self.all if why else files, self._external(main, packages, archs), packages, why)

    def _main_problem(self, main: str) -> str:
        if main == ".." or main.startswith(("../", "/")):
            return f"the main package {main} is outside the context"
        root = self.nested_module(main)
        if root:
            return f"the main package {main} is in the nested module {root} (its own go.mod)"
        if not any(_go_file(p) for p in self._by_folder.get(main, ())):
            return f"the main package folder {main} holds no .go file"
        return ""

    def _closure(self, main: str) -> tuple[str, ...]:
        seen = {main}
        todo = [main]
        while todo:
            for target in self._folder_info(todo.pop()).imports - seen:
                seen.add(target)
                todo.append(target)
        return tuple(sorted(seen))

    def _files(self, packages: Sequence[str]) -> tuple[str, ...]:
        out: set[str] = set()
        for folder in packages:
            out.update(self._by_folder.get(folder, ()))
            if self._folder_info(folder).embeds:
                out.update(self._tree(folder))
        out.update(name for name in MODULE_FILES if name in self._by_folder.get(".", ()))
        return tuple(sorted(out))

    def _tree(self, folder: str) -> tuple[str, ...]:
        """Every file under ``folder`` but those of nested modules: what an embed may match."""
        found = self._trees.get(folder)
        if found is None:
            prefix = "" if folder == "." else folder + "/"
            start = bisect_left(self.all, prefix)
            end = bisect_left(self.all, prefix[:-1] + chr(ord("/") + 1)) if prefix else len(self.all)
            found = self._trees[folder] = tuple(p for p in self.all[start:end] if not self.nested_module(_folder(p)))
        return found

    def _link_problem(self, files: Iterable[str]) -> str:
        if not self._links:
            return ""
        for path in files:
            at = path
            while at:
                if at in self._links:
                    return f"{at} is a symbolic link: the build reads what it points to"
                at = at.rpartition("/")[0]
        return ""

    def _folder_info(self, folder: str) -> _Folder:
        info = self._folders.get(folder)
        if info is None:
            info = self._folders[folder] = self._read_folder(folder)
        return info

    def _read_folder(self, folder: str) -> _Folder:
        files = self._by_folder.get(folder, [])
        parsed: list[tuple[str, Header]] = []
        imports: set[str] = set()
        problems: list[str] = []
        for path in filter(_go_file, files):
            try:
                h = parse_header(self._read(path))
            except GoSourceError as e:
                problems.append(f"{path}: {e}")
                continue
            parsed.append((path, h))
            for imported in h.paths:
                problem = self._import_problem(path, imported)
                if problem:
                    problems.append(problem)
                elif (target := self.package_folder(imported)) is not None:
                    imports.add(target)
        for path in files:
            if path.endswith(".s"):
                problems += (f"{path} includes {m[1].strip()}, which may be outside its folder"
                             for m in _ASM_INCLUDE.finditer(self._read(path)) if not _ASM_NAME.match(m[1]))
        return _Folder(tuple(parsed), frozenset(imports), tuple(problems), any(h.embeds for _, h in parsed))

    def _import_problem(self, path: str, imported: str) -> str:
        if imported == "C":
            return f'{path} uses cgo (import "C"): its #cgo and #include lines can read any file'
        if imported.startswith(("./", "../")) or imported in (".", ".."):
            return f"{path} imports the relative path {imported}"
        target = self.package_folder(imported)
        if target is None:
            return ""
        if target != "." and posixpath.normpath(target) != target:
            return f"{path} imports {imported}, which is not a clean path"
        if not any(_go_file(p) for p in self._by_folder.get(target, ())):
            return f"{path} imports {imported}, but {target} holds no .go file (missing, or generated by the build)"
        return ""

    def _arch_set(self, path: str, header: Header) -> frozenset[str]:
        """The linux architectures on which the build compiles the file (or may)."""
        found = self._archs.get(path)
        if found is None:
            name = path.rpartition("/")[2]
            go = self.go_mod.go if self.go_mod else ""
            found = frozenset(a for a in LINUX_GOARCHES if compiles(name, header, a, go) is not False)
            self._archs[path] = found
        return found

    def _linux_imports(self, folder: str, goarch: str) -> tuple[frozenset[str], frozenset[str]]:
        """(module folders, outside packages) that the folder's files compiled on linux/goarch import."""
        key = (folder, goarch)
        found = self._linux.get(key)
        if found is None:
            info = self._folder_info(folder)
            inside: set[str] = set()
            outside: set[str] = set()
            for path, h in info.parsed:
                if goarch in self._arch_set(path, h):
                    for imported in h.paths:
                        target = self.package_folder(imported)
                        if target is None:
                            outside.add(imported)
                        elif target in info.imports:
                            inside.add(target)
            outside -= {"C", ".", ".."}
            found = self._linux[key] = (frozenset(inside), frozenset(p for p in outside if not p.startswith(".")))
        return found

    def _external(self, main: str, packages: Iterable[str], goarchs: Iterable[str]) -> tuple[str, ...]:
        """The outside imports of the linux closure, for each architecture; those that compile the
        same files of the closure are asked once."""
        kinds = list({self._arch_set(p, h) for f in packages for p, h in self._folder_info(f).parsed})
        asked: dict[tuple[bool, ...], str] = {}
        for arch in goarchs:
            asked.setdefault(tuple(arch in k for k in kinds), arch)
        out: set[str] = set()
        for arch in asked.values():
            seen = {main}
            todo = [main]
            while todo:
                inside, outside = self._linux_imports(todo.pop(), arch)
                out |= outside
                todo += inside - seen
                seen |= inside
        return tuple(sorted(out))
