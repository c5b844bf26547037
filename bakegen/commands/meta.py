"""``bakegen meta``: the per-commit values, a bake file passed after the committed one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .. import loader, pipeline, render
from . import CONTEXT, GIT, choices, options
from .generate import emit


@click.command("meta", context_settings=CONTEXT, epilog="""\b
Examples:
  bakegen meta -o meta.hcl
  docker buildx bake -f docker-bake.hcl -f meta.hcl --print
  bakegen meta --env prd --branch main --commit "$CI_COMMIT_SHA" -o meta.hcl
""")
# What decides which targets the per-commit file has: its targets are the committed file's. The
# registry and the registry cache do not change it (its tags name ${REGISTRY}).
@options("definitions", "go_version", "app", "env", *GIT)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE (atomically).")
@options("fmt")
@click.pass_context
def meta_cmd(ctx: click.Context, /, output: Path | None, **params: Any) -> int:
    """Print the per-commit values (app tags, revision, created, git args) as a bake file.

    Pass it after the committed file: docker buildx bake -f docker-bake.hcl -f META.
    """
    c = choices(ctx, params)
    defs = pipeline.load(c)
    m = pipeline.meta(c, defs, pipeline.bake(c, defs))
    text = render.render_json(loader.templates(), m, per_build=True) if c.json else \
        render.render_meta_hcl(loader.templates(), m, pipeline.command(c, "meta"))
    emit(text, output)
    return 0
