"""Commands that show what a build does: ``tags``, ``graph``, ``explain``."""

from __future__ import annotations

from typing import Any

import click

from .. import pipeline
from ..errors import BakegenError, did_you_mean
from ..explain import content_key, explain
from ..graph import dot, mermaid
from ..model import BakeFile
from . import CONTEXT, GIT, choices, options

SELECT = ("definitions", "registry", "go_version", "app", "env")  # the targets, and how their tags resolve


def targets_named(bake: BakeFile, name: str) -> list[str]:
    if name in bake.groups:
        return bake.groups[name]
    if bake.target(name):
        return [name]
    known = [t.name for t in bake.targets] + list(bake.groups)
    raise BakegenError(f'no target or group "{name}"{did_you_mean(name, known)}; known: {", ".join(sorted(known))}')


@click.command("tags", context_settings=CONTEXT, epilog="""\b
Examples:
  bakegen tags golang-tools
  bakegen tags ci-demo-go-prd
  REGISTRY=localhost:5000 bakegen tags base
""")
@options(*SELECT, *GIT)
@click.argument("target")
@click.pass_context
def tags_cmd(ctx: click.Context, /, target: str, **params: Any) -> int:
    """Print every tag TARGET (or each target of a group) gets in this build, one per line.

    The registry is --registry, else $REGISTRY (as bake reads it), else the definitions'.
    """
    c = choices(ctx, params)
    defs = pipeline.load(c)
    bake = pipeline.bake(c, defs)
    names = targets_named(bake, target)
    registry = pipeline.build_registry(defs, c)
    apps = {t.name for t in bake.targets if t.name in names and t.kind == "app"}
    meta = pipeline.meta(c, defs, bake) if apps else None
    for name in names:
        t = meta.target(name) if meta and name in apps else bake.target(name)
        for tag in t.tags if t else []:
            click.echo(tag.resolve(registry))
    return 0


@click.command("graph", context_settings=CONTEXT, epilog="""\b
Examples:
  bakegen graph > docs/targets.mmd
  bakegen graph --format dot | dot -Tsvg > targets.svg
""")
@options(*SELECT)
@click.option("--format", "graph_format", type=click.Choice(["mermaid", "dot"]), default="mermaid",
              show_default=True)
@click.pass_context
def graph_cmd(ctx: click.Context, /, graph_format: str, **params: Any) -> int:
    """Print the targets and their target: links (build order) as Mermaid or DOT."""
    c = choices(ctx, params)
    defs = pipeline.load(c)
    render = mermaid if graph_format == "mermaid" else dot
    click.echo(render(pipeline.bake(c, defs), pipeline.build_registry(defs, c)), nl=False)
    return 0


@click.command("explain", context_settings=CONTEXT, epilog="""\b
Examples:
  bakegen explain golang-tools
  bakegen explain ci-demo-go-prd
""")
@options(*SELECT, *GIT)
@click.argument("target")
@click.pass_context
def explain_cmd(ctx: click.Context, /, target: str, **params: Any) -> int:
    """Say where each tag, arg, label and context of TARGET comes from, and its content key.

    Per-commit values (the app's tags, revision, created) need git, or --branch and --commit.
    """
    c = choices(ctx, params)
    defs = pipeline.load(c)
    bake = pipeline.bake(c, defs)
    if target in bake.groups:
        raise BakegenError(f'"{target}" is a group; explain one of its targets: {", ".join(bake.groups[target])}')
    (name,) = targets_named(bake, target)
    t = bake.target(name)
    assert t is not None
    try:
        g = pipeline.git(c, defs)
        ky = pipeline.content_keys(c, defs, bake, g)
        per_build, note = pipeline.meta(c, defs, bake, ky, g).target(name), None
        key = content_key(t, ky.keys.get(name), ky.inputs.get(name), ky.unknown.get(name), ky.found[name].scope)
    except BakegenError as e:
        if t.kind == "app":
            raise
        per_build, note, key = None, f"per-commit labels not shown: {e}", content_key(t, None, None, str(e))
    click.echo(explain(t, per_build, note, defs, pipeline.build_registry(defs, c)) + key, nl=False)
    return 0
