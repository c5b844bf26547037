"""Read definitions: the literal subset of HCL, exactly as Go's HCL reads it, or refused.

Go's HCL is hashicorp/hcl v2 (hclsyntax), which buildx reads bake files with. A definition is a body
of attributes (``name = value``) and blocks (``type "label" ident { ... }``); values are literals only:
quoted strings, heredocs, numbers, ``true``/``false``, ``null``, lists and objects. Templates
(``${...}``, ``%{...}``), references, function calls, operators, conditionals, for-expressions and
anything Go's HCL refuses are refused with a ``BakegenError`` at ``file:line``: never a third reading.

How the rules follow Go's scanner (scan_tokens.rl, scan_string_lit.rl) and parser (parser.go,
parser_template.go in hclsyntax v2.24.0) and cty, the value library:
- Strings: escapes ``\\n \\r \\t \\" \\\\ \\uNNNN \\UNNNNNNNN`` (any other is refused); ``$${`` and
  ``%%{`` are a literal ``${``/``%{`` (so ``$$${`` is ``$${``), a lone ``$``/``%`` is literal. Values
  and quoted object keys are normalized to NFC (cty does); block labels are not (Go keeps them raw).
  Characters this Python's Unicode database does not know are refused, since their NFC is unknown.
- Heredocs keep every line with its newline (``\\r\\n`` too); no backslash escapes. The closing line
  is the marker with any Unicode white space around it (bytes.TrimSpace). ``<<-`` removes the
  smallest indentation (counted in Unicode white-space characters) from every line that is not
  blank; blank lines keep theirs. Go counts grapheme clusters there, so it would also remove a
  combining mark after the indentation: that one case is refused.
- Numbers: Go has one arbitrary-precision number type (512-bit). Digits only read as ``int`` (refused
  from 2**512, where Go rounds); a dot or exponent reads as ``float`` (``1.0`` is 1.0, Go's 1), refused
  when a float cannot keep it exactly (over 15 significant digits, overflow, underflow).
  ``-`` directly before a number is kept (Go negates the literal).
- ``null`` reads as None: buildx treats an attribute set to null as unset.
- Object keys are identifiers or quoted strings (``=`` or ``:``); a repeated key is refused (Go keeps
  the last one silently). A repeated attribute is refused, as Go does ("Attribute redefined").
- Identifiers are ASCII here (Go allows Unicode ones: refused).
- Unicode: Go normalizes with golang.org/x/text's Unicode 15.1 tables. Normalization is stable for
  assigned characters, so refusing the ones this Python does not know (3.11: Unicode 14.0) makes the
  two agree; on a Python with a newer database than Go's (3.14: 16.0) a character assigned after 15.1
  could still normalize differently.
Offsets in spans are ``str`` indices into the text given to ``parse``.

One module rather than a scanner and a parser: Go's rules here are one scanner's (which characters
end a token, where a newline counts) and read best side by side; each function follows one Go function.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import TypeAlias

from bakegen.errors import BakegenError

Value: TypeAlias = str | int | float | bool | list["Value"] | dict[str, "Value"] | None


@dataclass(frozen=True)
class Span:
    start: int  # offset of the first character of the literal (a quote, ``<<``, ``[``, ``{``...)
    end: int  # offset just after it (a heredoc ends after its closing marker, before the newline)
    line: int  # 1-based line of ``start``


@dataclass
class Expr:
    value: Value
    span: Span
    items: list[Expr] | None = None  # a list's elements, or an object's values, in source order
    keys: list[Expr] | None = None  # an object's keys, in source order


@dataclass
class Attribute:
    name: str
    expr: Expr
    line: int


@dataclass
class Block:
    type: str
    labels: list[str]
    body: Body
    line: int


@dataclass
class Body:
    attributes: dict[str, Attribute] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)


def parse(text: str, filename: str) -> Body:
    """Read a definition file's text; raise BakegenError("...", "filename:line") if not literal HCL."""
    return _Reader(text, filename).body()


_SPACES = re.compile(r"[ \t]*")
_GAP = re.compile(r"(?:[ \t]+|/\*.*?\*/)*", re.DOTALL)
_GAP_NEWLINES = re.compile(r"(?:[ \t]+|/\*.*?\*/|\r?\n|#[^\n]*\n?|//[^\n]*\n?)*", re.DOTALL)
_NEWLINE = re.compile(r"\r?\n|#|//")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NUMBER = re.compile(r"[0-9](?:[0-9.]|[eE][+-]?[0-9])*(?<!\.)")  # Go's NumberLit token
_DECIMAL = re.compile(r"([0-9]+)(?:\.([0-9]*))?(?:[eE][+-]?[0-9]+)?")
_PLAIN = re.compile(r'[^"\\$%\r\n]+')
_HEREDOC = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_-]*)\r?\n")
_SEQUENCE = re.compile(r"\$\$\{|%%\{|\$\{|%\{")
_HEX = {"u": (4, re.compile(r"[0-9A-Fa-f]{4}")), "U": (8, re.compile(r"[0-9A-Fa-f]{8}"))}
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_KEYWORDS: dict[str, Value] = {"true": True, "false": False, "null": None}
# Go's unicode.IsSpace, and the part of it that a following combining mark joins (not Control).
_JOINING_SPACE = " \xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u202f\u205f\u3000"
_GO_SPACE = "\t\n\v\f\r\x85\u2028\u2029" + _JOINING_SPACE
_TEMPLATE = "templates are not allowed in definitions: write $${ for a literal ${"
_DIRECTIVE = "template directives are not allowed in definitions: write %%{ for a literal %{"


class _Reader:
    def __init__(self, text: str, filename: str) -> None:
        self.text = text
        self.filename = filename
        self.pos = 1 if text.startswith("\ufeff") else 0  # Go skips a UTF-8 byte order mark
        self._line_pos = self._line_no = 0

    # -- positions, errors, gaps between tokens --------------------------------------------------

    def line(self, pos: int) -> int:
        if pos < self._line_pos:  # rare (an error behind the cursor): count from the start
            return self.text.count("\n", 0, pos) + 1
        self._line_no += self.text.count("\n", self._line_pos, pos)
        self._line_pos = pos
        return self._line_no + 1

    def error(self, message: str, pos: int) -> BakegenError:
        return BakegenError(message, f"{self.filename}:{self.line(pos)}")

    def peek(self, n: int = 1) -> str:
        return self.text[self.pos : self.pos + n]

    def at_newline(self) -> bool:
        """A newline token here: a line break, or a # or // comment (which ends with one)."""
        return _NEWLINE.match(self.text, self.pos) is not None

    def skip(self, newlines: bool) -> None:
        """Skip spaces, tabs and /* */ comments (never a newline token); newline tokens too if asked."""
        self.pos = _end(_GAP_NEWLINES if newlines else _GAP, self.text, self.pos)
        if self.text.startswith("/*", self.pos):
            raise self.error("unterminated /* comment", self.pos)

    def newline(self) -> None:
        end = self.text.find("\n", self.pos)
        self.pos = len(self.text) if end < 0 else end + 1

    def end_of_line(self, after: str) -> None:
        self.skip(newlines=False)
        if self.pos == len(self.text):
            return
        if not self.at_newline():
            raise self.unexpected(f"after {after}: it must end its line")
        self.newline()

    def unexpected(self, where: str) -> BakegenError:
        c = self.peek()
        if not c:
            return self.error(f"unexpected end of file {where}", self.pos)
        hint = ""
        if c in "+-*/%<>=!&|?:.[(":
            hint = " (definitions hold literal values: no operators, references or calls)"
        return self.error(f"unexpected {c!r} {where}{hint}", self.pos)

    # -- bodies and blocks -------------------------------------------------------------------------

    def body(self, block: int | None = None) -> Body:
        """The file's body, or the body of the block that starts at offset `block` (up to its })."""
        body = Body()
        while True:
            self.skip(newlines=True)
            if self.pos == len(self.text):
                if block is None:
                    return body
                raise self.error("unclosed block: no } before the end of the file", block)
            if block is not None and self.peek() == "}":
                self.pos += 1
                return body
            self.item(body)

    def ident(self, what: str) -> str:
        m = _IDENT.match(self.text, self.pos)
        if not m:
            raise self.unexpected(f"where {what} should start")
        self.pos = m.end()
        return m.group()

    def item(self, body: Body) -> None:
        start, line = self.pos, self.line(self.pos)
        name = self.ident("an attribute or a block")
        self.skip(newlines=False)
        if self.peek() != "=":
            body.blocks.append(self.block(name, start, line))
            return
        self.pos += 1
        expr = self.value(newlines=False)
        self.end_of_line(f'the value of "{name}"')
        if name in body.attributes:
            raise self.error(f'"{name}" is already set on line {body.attributes[name].line}', start)
        body.attributes[name] = Attribute(name, expr, line)

    def block(self, kind: str, start: int, line: int) -> Block:
        labels = []
        while self.peek() != "{":
            if self.peek() == '"':
                labels.append(self.quoted()[0])  # Go does not normalize labels
            else:
                labels.append(self.ident(f'a label or the {{ of block "{kind}"'))
            self.skip(newlines=False)
        self.pos += 1
        self.skip(newlines=False)
        if self.pos == len(self.text) or self.at_newline() or self.peek() == "}":
            body = self.body(start)
        else:  # one line: `name { attribute = value }`
            name, at = self.ident("an attribute"), self.line(self.pos)
            self.skip(newlines=False)
            if self.peek() != "=":
                raise self.unexpected(f'after "{name}": a one-line block holds one attribute')
            self.pos += 1
            body = Body({name: Attribute(name, self.value(newlines=False), at)})
            self.skip(newlines=False)
            if self.peek() != "}":
                raise self.unexpected("where the } of a one-line block should be")
            self.pos += 1
        self.end_of_line(f'block "{kind}"')
        return Block(kind, labels, body, line)

    # -- values ------------------------------------------------------------------------------------

    def value(self, newlines: bool) -> Expr:
        self.skip(newlines)
        start, c = self.pos, self.peek()
        if c == '"':
            raw, end = self.quoted()
            return Expr(self.string(raw, start), Span(start, end, self.line(start)))
        if c == "[":
            return self.list_value()
        if c == "{":
            return self.object_value()
        if c == "-" or "0" <= c <= "9":
            return self.number()
        if self.peek(2) == "<<":
            return self.heredoc()
        m = _IDENT.match(self.text, start)
        if not m:
            raise self.unexpected("where a value should start")
        self.pos, name = m.end(), m.group()
        if name not in _KEYWORDS:
            raise self.error(
                f"{name}: definitions hold literal values, not references, calls or "
                f'for-expressions (quote it for the string "{name}")',
                start,
            )
        return Expr(_KEYWORDS[name], Span(start, self.pos, self.line(start)))

    def list_value(self) -> Expr:
        start, line = self.pos, self.line(self.pos)
        self.pos += 1
        items: list[Expr] = []
        while True:
            self.skip(newlines=True)
            if self.peek() == "]":
                break
            items.append(self.value(newlines=True))
            self.skip(newlines=True)
            if self.peek() == "]":
                break
            if self.peek() != ",":
                raise self.unexpected(f"in the list opened on line {line}: expected , or ]")
            self.pos += 1
        self.pos += 1
        return Expr([i.value for i in items], Span(start, self.pos, line), items)

    def object_value(self) -> Expr:
        start, line = self.pos, self.line(self.pos)
        self.pos += 1
        keys: list[Expr] = []
        items: list[Expr] = []
        value: dict[str, Value] = {}
        while True:
            self.skip(newlines=True)
            if self.peek() == "}":
                break
            key = self.key()
            self.skip(newlines=False)
            if self.peek() not in ("=", ":"):
                raise self.unexpected(f"after the key {_show(key.value)}: expected = or :")
            self.pos += 1
            item = self.value(newlines=False)
            if key.value in value:
                raise self.error(f"the key {_show(key.value)} appears twice in this object", key.span.start)
            keys.append(key)
            items.append(item)
            value[str(key.value)] = item.value
            self.skip(newlines=False)
            if self.peek() == "}":
                break
            if self.peek() == ",":
                self.pos += 1
            elif self.at_newline():
                self.newline()
            else:
                raise self.unexpected(f"in the object opened on line {line}: expected , or a new line")
        self.pos += 1
        return Expr(value, Span(start, self.pos, line), items, keys)

    def key(self) -> Expr:
        start = self.pos
        if self.peek() == '"':
            raw, end = self.quoted()
            return Expr(self.string(raw, start), Span(start, end, self.line(start)))
        name = self.ident("a key")
        if name in _KEYWORDS or name == "for":
            raise self.error(f'write the key {name} quoted ("{name}"): unquoted, it is a keyword', start)
        return Expr(name, Span(start, self.pos, self.line(start)))

    def number(self) -> Expr:
        start = self.pos
        digits = _end(_SPACES, self.text, start + 1) if self.peek() == "-" else start
        m = _NUMBER.match(self.text, digits)
        if not m:
            raise self.error("a minus sign must be followed by a number", start)
        self.pos, text = m.end(), m.group()
        d = _DECIMAL.fullmatch(text)
        if not d:
            raise self.error(f"{text} is not a number", start)
        number: int | float
        if "." in text or "e" in text or "E" in text:
            number = float(text)
            significant = (d.group(1) + (d.group(2) or "")).strip("0")
            tiny = number < 2.2250738585072014e-308  # below the smallest normal float (or 0)
            if len(significant) > 15 or number == float("inf") or (tiny and significant):
                raise self.error(
                    f"{text} cannot be kept exactly as a float (15 significant digits, 1e-307 to 1e308)", start
                )
        else:
            number = int(text)
            if number >= 2**512:
                raise self.error(f"{text} is too large (Go's HCL rounds numbers from 2**512)", start)
        value = -number if digits != start else number
        return Expr(value, Span(start, self.pos, self.line(start)))

    # -- strings -----------------------------------------------------------------------------------

    def quoted(self) -> tuple[str, int]:
        """The characters of the quoted string at pos (escapes resolved), and the offset after it."""
        text, start = self.text, self.pos
        parts, i = [], start + 1
        while True:
            m = _PLAIN.match(text, i)
            if m:
                parts.append(m.group())
                i = m.end()
            c = text[i : i + 1]
            if c == '"':
                self.pos = i + 1
                return "".join(parts), i + 1
            if c == "\\":
                s, i = self.escape(i)
                parts.append(s)
            elif c in ("$", "%"):
                if text[i + 1 : i + 2] == "{":
                    raise self.error(_TEMPLATE if c == "$" else _DIRECTIVE, i)
                escaped = text[i + 1 : i + 3] == c + "{"
                parts.append(c + "{" if escaped else c)
                i += 3 if escaped else 1
            elif c:
                raise self.error("a quoted string cannot span lines: write \\n, or use a heredoc", i)
            else:
                raise self.error("unterminated string: no closing quote", start)

    def escape(self, i: int) -> tuple[str, int]:
        c = self.text[i + 1 : i + 2]
        if c in _ESCAPES:
            return _ESCAPES[c], i + 2
        if c in ("u", "U"):
            digits, pattern = _HEX[c]
            m = pattern.match(self.text, i + 2)
            if not m:
                raise self.error(f"\\{c} needs {digits} hexadecimal digits", i)
            code = int(m.group(), 16)
            if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
                raise self.error(f"\\{c}{m.group()} is not a Unicode character", i)
            return chr(code), m.end()
        shown = f"\\{c}" if c.isprintable() else f"a backslash before {c!r}"
        raise self.error(f'invalid escape {shown}: strings know \\n \\r \\t \\" \\\\ \\uNNNN \\UNNNNNNNN', i)

    def string(self, s: str, at: int) -> str:
        """The value Go keeps for the string s: NFC, which needs every character known."""
        if s.isascii():
            return s
        for c in s:
            if unicodedata.category(c) in ("Cn", "Cs"):
                raise self.error(
                    f"U+{ord(c):04X} is not a character of Unicode {unicodedata.unidata_version}"
                    " here, so its normalization is unknown: use another character",
                    at,
                )
        return unicodedata.normalize("NFC", s)

    def heredoc(self) -> Expr:
        start, line = self.pos, self.line(self.pos)
        opener = _HEREDOC.match(self.text, start)
        if not opener:
            raise self.error("a heredoc starts with <<NAME or <<-NAME and then a line break", start)
        marker, i, lines = opener.group(2), opener.end(), []
        while True:
            end = self.text.find("\n", i)
            if end < 0:
                raise self.error(f"unterminated heredoc: no line {marker} closes it", start)
            content = self.text[i : end - 1 if self.text[end - 1 : end] == "\r" else end]
            if "\r" in content:
                raise self.error("a carriage return inside a heredoc line", i)
            if content.strip(_GO_SPACE) == marker:
                break
            lines.append(self.unescape(self.text[i : end + 1], i))
            i = end + 1
        self.pos = i + len(content)  # the line break after the marker is the attribute's end
        if opener.group(1):
            lines = self.flush(lines, line + 1)
        return Expr(self.string("".join(lines), start), Span(start, self.pos, line))

    def unescape(self, line: str, at: int) -> str:
        """A heredoc line's text: $${ and %%{ are a literal ${ and %{; ${ and %{ are refused."""
        if "{" not in line:
            return line
        for m in _SEQUENCE.finditer(line):
            if len(m.group()) == 2:
                raise self.error(_TEMPLATE if m.group() == "${" else _DIRECTIVE, at + m.start())
        return line.replace("$${", "${").replace("%%{", "%{")

    def flush(self, lines: list[str], first: int) -> list[str]:
        """<<-: remove the smallest indentation of the lines that are not blank from each of them."""
        indents = [len(s) - len(s.lstrip(_GO_SPACE)) if s.strip(_GO_SPACE) else None for s in lines]
        n = min((k for k in indents if k is not None), default=0)
        if n == 0:
            return lines
        for number, (s, k) in enumerate(zip(lines, indents, strict=True), first):
            if k == n and s[n - 1] in _JOINING_SPACE and _combines(s[n]):
                raise BakegenError(
                    "a heredoc line may not start with a combining character after its indentation "
                    "(Go's HCL would remove it with the indentation)",
                    f"{self.filename}:{number}",
                )
        return [s if k is None else s[n:] for s, k in zip(lines, indents, strict=True)]


def _show(value: Value) -> str:
    """A string quoted for a one-line message."""
    s = str(value)
    return f'"{s}"' if s.isprintable() else ascii(s)


def _end(pattern: re.Pattern[str], text: str, pos: int) -> int:
    """Where a match of pattern (which may be empty) from pos ends."""
    m = pattern.match(text, pos)
    return m.end() if m else pos


def _combines(c: str) -> bool:
    """May c join the space before it into one grapheme cluster (Extend, ZWJ, SpacingMark)?"""
    if c.isascii():
        return False
    return c in "\u0e33\u0eb3" or unicodedata.category(c) in ("Mn", "Mc", "Me", "Cf", "Sk", "Lm", "Cn")
