"""``bakegen lock --upgrade``: the definition text with each Go version moved to its line's
newest release. Pure: edits only the string literals of ``versions`` in image blocks, found by
the HCL reader's spans, so comments, layout and every other value stay byte for byte."""

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
