"""Edits of a definition's text: ``bakegen lock --upgrade`` moves each Go version to its line's
newest release, ``init`` sets the lists of the definitions it copies. Pure: edits only the values
it names, found by the HCL reader's spans, so comments, layout and every other value stay byte
for byte."""

from __future__ import annotations

from collections.abc import Sequence

from . import hcl
from .render import hcl_string


def upgraded(text: str, filename: str, pairs: Sequence[tuple[str, str]]) -> str:
    """``text`` with every ``versions`` item equal to an ``old`` of ``pairs`` replaced by its new."""
    new = dict(pairs)
    edits = []
    for block in hcl.parse(text, filename).blocks:
        attr = block.body.attributes.get("versions")
        if block.type != "image" or attr is None or not attr.expr.items:
            continue
        for item in attr.expr.items:
            if isinstance(item.value, str) and item.value in new:
                edits.append((item.span.start, item.span.end, hcl_string(new[item.value])))
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def replaced(text: str, filename: str, key: str, values: Sequence[str]) -> str:
    """``text`` with the value of ``key`` in every image block replaced by the list ``values``
    (``init`` sets ``variants`` and ``versions`` of the definitions it copies), nothing else moved."""
    spans = [a.expr.span for b in hcl.parse(text, filename).blocks
             if b.type == "image" and (a := b.body.attributes.get(key)) is not None]
    for span in sorted(spans, key=lambda s: s.start, reverse=True):
        text = text[:span.start] + "[" + ", ".join(hcl_string(v) for v in values) + "]" + text[span.end:]
    return text
