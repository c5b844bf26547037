"""TEMPORARY adapter over python-hcl2 with the strict reader's API (replaced by the real reader)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import BakegenError


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    line: int


@dataclass
class Expr:
    value: Any
    span: Span
    items: list[Expr] | None = None


@dataclass
class Attribute:
    name: str
    expr: Expr
    line: int


@dataclass
class Body:
    attributes: dict[str, Attribute] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Block:
    type: str
    labels: list[str]
    body: Body
    line: int


def _unescape(v: Any) -> Any:
    if isinstance(v, str):
        bare = v.replace("$${", "").replace("%%{", "")
        if "${" in bare or "%{" in bare:
            raise BakegenError("templates are not supported")
        return v.replace("$${", "${").replace("%%{", "%{")
    if isinstance(v, list):
        return [_unescape(x) for x in v]
    if isinstance(v, dict):
        return {_unescape(k): _unescape(x) for k, x in v.items() if k != "__is_block__"}
    return v


def _body(raw: dict[str, Any]) -> Body:
    body = Body()
    for k, v in raw.items():
        if k.startswith("__"):
            continue
        if isinstance(v, list) and v and all((isinstance(b, dict) and b.get("__is_block__")) or (isinstance(b, dict) and len(b) == 1 and isinstance(next(iter(b.values())), dict) and next(iter(b.values())).get("__is_block__")) for b in v):
            for b in v:
                if b.get("__is_block__"):
                    body.blocks.append(Block(k, [], _body(b), 1))
                else:
                    ((label, inner),) = b.items()
                    body.blocks.append(Block(k, [label.strip('"')], _body(inner), 1))
        else:
            body.attributes[k] = Attribute(k, Expr(_unescape(v), Span(0, 0, 1)), 1)
    return body


def parse(text: str, filename: str) -> Body:
    import hcl2

    try:
        raw = hcl2.loads(text + "\n", serialization_options=hcl2.SerializationOptions(strip_string_quotes=True))
    except Exception as e:
        raise BakegenError(f"HCL syntax error: {e}".splitlines()[0], filename) from None
    return _body(raw)
