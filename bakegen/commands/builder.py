"""``bakegen builder``: a multi-node buildx builder, one native node per platform."""

from __future__ import annotations

import click

from .. import builder
from ..buildx import run_each
from . import CONTEXT, inherited


@click.command("builder", context_settings=CONTEXT, epilog="""\b
Examples:
  bakegen builder --dry-run ssh://ci@amd64-1=linux/amd64 ssh://ci@arm64-1=linux/arm64
  bakegen builder --driver kubernetes default=linux/amd64 default=linux/arm64
  make builder NODES="tcp://buildkit-amd64:1234=linux/amd64 tcp://buildkit-arm64:1234=linux/arm64"
then: docker buildx bake --builder bakegen -f docker-bake.hcl -f meta.hcl
""")
@click.option("--name", default="bakegen", show_default=True, help="Builder name.")
@click.option("--driver", type=click.Choice(builder.DRIVERS), default=builder.DRIVERS[0], show_default=True)
@click.option("--namespace", default="buildkit", show_default=True, help="Kubernetes namespace (kubernetes driver).")
@click.option("--dry-run", is_flag=True, help="Print the docker buildx commands, run nothing.")
@click.argument("nodes", nargs=-1, metavar="ENDPOINT=PLATFORM[,PLATFORM]...")
@click.pass_context
def builder_cmd(ctx: click.Context, /, *, name: str, driver: str, namespace: str, dry_run: bool,
                nodes: tuple[str, ...]) -> int:
    """Create a multi-node buildx builder: one native node per platform, no emulation."""
    inherited(ctx)  # it takes none of the root command's options
    cmds = builder.commands(name, [builder.parse_node(n) for n in nodes], driver, namespace)
    run_each(cmds, dry_run, click.echo)
    return 0
