"""The targets and their ``target:`` links as a Mermaid flowchart or a DOT digraph. Pure."""

from __future__ import annotations

import re

from .model import BakeFile


def _edges(bake: BakeFile) -> list[tuple[str, str, str]]:
    """(base target, consumer, the FROM name it satisfies), sorted."""
    out = []
    for t in bake.targets:
        for name, value in t.contexts.items():
            if value.startswith("target:"):
                out.append((value.removeprefix("target:"), t.name, name))
    return sorted(out)


def _first_tag(t, registry: str) -> str:
    return t.tags[0].ref(registry) if t.tags else "(tags from bakegen meta)"


def mermaid(bake: BakeFile) -> str:
    registry = bake.variables[0].default if bake.variables else ""
    ids = {t.name: "t_" + re.sub(r"[^A-Za-z0-9_]", "_", t.name) for t in bake.targets}

    def label(text: str) -> str:
        return text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")

    lines = ["flowchart LR"]
    for group, members in bake.groups.items():
        if group == "default":
            continue
        lines.append(f'  subgraph g_{re.sub(r"[^A-Za-z0-9_]", "_", group)}["group {label(group)}"]')
        lines += [f"    {ids[m]}" for m in members]
        lines.append("  end")
    for t in bake.targets:
        platforms = ", ".join(t.platforms)
        lines.append(f'  {ids[t.name]}["{label(t.name)}<br/>{label(_first_tag(t, registry))}<br/>{label(platforms)}"]')
    for base, consumer, name in _edges(bake):
        lines.append(f'  {ids[base]} -->|"FROM {label(name)}"| {ids[consumer]}')
    return "\n".join(lines) + "\n"


def dot(bake: BakeFile) -> str:
    registry = bake.variables[0].default if bake.variables else ""

    def q(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

    lines = ["digraph bake {", "  rankdir=LR;", "  node [shape=box];"]
    for group, members in bake.groups.items():
        if group == "default":
            continue
        lines.append(f"  subgraph {q('cluster_' + group)} {{")
        lines.append(f"    label={q('group ' + group)};")
        lines += [f"    {q(m)};" for m in members]
        lines.append("  }")
    for t in bake.targets:
        lines.append(f"  {q(t.name)} [label={q(t.name + chr(10) + _first_tag(t, registry) + chr(10) + ', '.join(t.platforms))}];")
    for base, consumer, name in _edges(bake):
        lines.append(f"  {q(base)} -> {q(consumer)} [label={q('FROM ' + name)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
