"""``bakegen [-o FILE | --check FILE]``: the committed bake file, printed, written or checked."""

from __future__ import annotations

from pathlib import Path

import click

from .. import loader, pipeline, render
from ..output import write_atomic
from ..pipeline import Choices


def emit(text: str, output: Path | None) -> None:
    """Print ``text``, or write it atomically to ``output``."""
    if output is None:
        click.echo(text, nl=False)
        return
    write_atomic(output, text)
    click.echo(f"bakegen: wrote {output}", err=True)


def generate(c: Choices, output: Path | None, check_file: Path | None) -> int:
    """0 when written, printed or up to date; 1 when ``check_file`` is stale (the diff on stdout)."""
    bake = pipeline.bake(c, pipeline.load(c))
    for w in bake.warnings:
        click.echo(f"bakegen: {w}", err=True)
    notice = pipeline.check_location(c, bake, check_file or output)
    if notice:
        click.echo(notice, err=True)
    env = loader.templates()
    text = render.render_json(env, bake) if c.json else render.render_hcl(env, bake, pipeline.command(c))
    target = check_file or output
    diff = render.diff(str(target), loader.read_text(target), text) if target else text
    if diff is None:
        click.echo(f"bakegen: {target} is up to date", err=True)
        return 0
    if check_file is None:
        emit(text, output)
        return 0
    click.echo(diff, nl=False)
    click.echo(f"bakegen: {check_file} is stale; regenerate it with: {pipeline.command(c)}", err=True)
    return 1
