"""The targets and what they build FROM, as a Mermaid flowchart or a DOT digraph. Pure.

Subgraphs are the ``base`` and ``apps`` groups (every target is in exactly one); a published
base an app builds FROM is a node of its own, labelled with its reference.
"""

from __future__ import annotations

import re

from .model import BakeFile, Target

SUBGRAPHS = ("base", "apps")


def _edges(bake: BakeFile, registry: str) -> list[tuple[str, str, str]]:
    """(base target or published reference, consumer, the FROM reference), sorted."""
    return sorted((c.target or c.name.resolve(registry), t.name, c.name.resolve(registry))
                  for t in bake.targets for c in t.contexts if c.path is None)


def _first_tag(t: Target, registry: str) -> str:
    return t.tags[0].resolve(registry) if t.tags else "(tags from bakegen meta)"


def _id(name: str, prefix: str) -> str:
    return prefix + re.sub(r"[^A-Za-z0-9_]", "_", name)


def _mermaid_label(text: str) -> str:
    return text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def mermaid(bake: BakeFile, registry: str) -> str:
    ids = {t.name: _id(t.name, "t_") for t in bake.targets}
    edges = _edges(bake, registry)
    lines = ["flowchart LR"]
    for group in SUBGRAPHS:
        if bake.groups.get(group):
            lines.append(f'  subgraph g_{group}["group {group}"]')
            lines += [f"    {ids[m]}" for m in bake.groups[group]]
            lines.append("  end")
    for t in bake.targets:
        text = "<br/>".join(_mermaid_label(part) for part in (t.name, _first_tag(t, registry), ", ".join(t.platforms)))
        lines.append(f'  {ids[t.name]}["{text}"]')
    for base in sorted({b for b, _, _ in edges if b not in ids}):
        ids[base] = _id(base, "p_")
        lines.append(f'  {ids[base]}[("{_mermaid_label(base)}<br/>(published)")]')
    for base, consumer, name in edges:
        lines.append(f'  {ids[base]} -->|"FROM {_mermaid_label(name)}"| {ids[consumer]}')
    return "\n".join(lines) + "\n"


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def dot(bake: BakeFile, registry: str) -> str:
    lines = ["digraph bake {", "  rankdir=LR;", "  node [shape=box];"]
    for group in SUBGRAPHS:
        if bake.groups.get(group):
            lines.append(f"  subgraph {_q('cluster_' + group)} {{")
            lines.append(f"    label={_q('group ' + group)};")
            lines += [f"    {_q(m)};" for m in bake.groups[group]]
            lines.append("  }")
    names = {t.name for t in bake.targets}
    for t in bake.targets:
        label = "\n".join((t.name, _first_tag(t, registry), ", ".join(t.platforms)))
        lines.append(f"  {_q(t.name)} [label={_q(label)}];")
    edges = _edges(bake, registry)
    for base in sorted({b for b, _, _ in edges if b not in names}):
        lines.append(f"  {_q(base)} [shape=cylinder, label={_q(base + chr(10) + '(published)')}];")
    for base, consumer, name in edges:
        lines.append(f"  {_q(base)} -> {_q(consumer)} [label={_q('FROM ' + name)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
