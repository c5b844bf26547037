"""The commands besides generating and ``meta``: tags, graph, explain, builder, init. Each is a
small function; ``cli`` holds the group, the shared options and the exit codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .builder import DRIVERS
from .cli import CONTEXT, GIT, SHARED, _session, cli, options
from .errors import BakegenError, did_you_mean
from .model import BakeFile


@cli.command("tags", context_settings=CONTEXT, epilog="""\b
Examples:
  bakegen tags golang-tools
  bakegen tags ci-demo-go-prd
  REGISTRY=localhost:5000 bakegen tags base
""")
@options(SHARED + GIT)
@click.argument("target")
@click.pass_context
def tags_cmd(ctx: click.Context, /, target: str, **params: Any) -> int:
    """Print every tag TARGET (or each target of a group) gets in this build, one per line.

    The registry is --registry, else $REGISTRY (as bake reads it), else the definitions'.
    """
    s = _session(ctx, params)
    bake = s.bake
    names = _targets_named(bake, target)
    registry = s.build_registry
    meta = s.meta() if any(_kind(bake, n) == "app" for n in names) else None
    for name in names:
        t = (meta.target(name) if meta and _kind(bake, name) == "app" else None) or bake.target(name)
        for tag in t.tags if t else []:
            click.echo(tag.ref(registry))
    return 0


def _kind(bake: BakeFile, name: str) -> str:
    t = bake.target(name)
    return t.kind if t else ""


@cli.command("graph", context_settings=CONTEXT, epilog="""\b
Examples:
  bakegen graph > docs/targets.mmd
  bakegen graph --format dot | dot -Tsvg > targets.svg
""")
@options(SHARED)
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid", show_default=True)
@click.pass_context
def graph_cmd(ctx: click.Context, /, fmt: str, **params: Any) -> int:
    """Print the targets and their target: links (build order) as Mermaid or DOT."""
    from . import graph

    s = _session(ctx, params)
    bake, registry = s.bake, s.build_registry
    click.echo(graph.mermaid(bake, registry) if fmt == "mermaid" else graph.dot(bake, registry), nl=False)
    return 0


@cli.command("explain", context_settings=CONTEXT, epilog="""\b
Examples:
  bakegen explain golang-tools
  bakegen explain ci-demo-go-prd
""")
@options(SHARED + GIT)
@click.argument("target")
@click.pass_context
def explain_cmd(ctx: click.Context, /, target: str, **params: Any) -> int:
    """Say where each tag, arg, label and context of TARGET comes from.

    Per-commit values (the app's tags, revision, created) need git, or --branch and --commit.
    """
    from .explain import explain

    s = _session(ctx, params)
    bake = s.bake
    if target in bake.groups:
        raise BakegenError(f'"{target}" is a group; explain one of its targets: {", ".join(bake.groups[target])}')
    (name,) = _targets_named(bake, target)
    t = bake.target(name)
    assert t is not None
    try:
        per_build, note = s.meta().target(name), None
    except BakegenError as e:
        if t.kind == "app":
            raise
        per_build, note = None, f"per-commit labels not shown: {e}"
    click.echo(explain(t, per_build, note, s.definitions, s.build_registry), nl=False)
    return 0


@cli.command("builder", context_settings=CONTEXT, epilog="""\b
Examples:
  bakegen builder --dry-run ssh://ci@amd64-1=linux/amd64 ssh://ci@arm64-1=linux/arm64
  bakegen builder --driver kubernetes default=linux/amd64 default=linux/arm64
  make builder NODES="tcp://buildkit-amd64:1234=linux/amd64 tcp://buildkit-arm64:1234=linux/arm64"
then: docker buildx bake --builder bakegen -f docker-bake.hcl -f meta.hcl
""")
@click.option("--name", default="bakegen", show_default=True, help="Builder name.")
@click.option("--driver", type=click.Choice(DRIVERS), default=DRIVERS[0], show_default=True)
@click.option("--namespace", default="buildkit", show_default=True, help="Kubernetes namespace (kubernetes driver).")
@click.option("--dry-run", is_flag=True, help="Print the docker buildx commands, run nothing.")
@click.argument("nodes", nargs=-1, metavar="ENDPOINT=PLATFORM[,PLATFORM]...")
def builder_cmd(name: str, driver: str, namespace: str, dry_run: bool, nodes: tuple[str, ...]) -> int:
    """Create a multi-node buildx builder: one native node per platform, no emulation."""
    from . import builder

    cmds = builder.commands(name, [builder.parse_node(n) for n in nodes], driver, namespace)
    builder.run(cmds, dry_run, click.echo)
    return 0


@cli.command("init", context_settings=CONTEXT, epilog="""\b
Examples:
  bakegen init                          the base images: toolchain, Debian and static runtimes
  bakegen init --app svc                a service built FROM published (or local) base images
  bakegen init --app svc --context services/svc --registry registry.example.com/team
  bakegen init --app svc --cgo          a service that calls C (import "C")
then: bakegen -o docker-bake.hcl && docker buildx bake --print
""")
@options(SHARED)
@click.option("--context", "app_context", metavar="DIR", type=click.Path(file_okay=False, path_type=Path),
              help="The app's source folder (with --app). Default: the current directory.")
@click.option("--cgo", is_flag=True, help="The app uses cgo (with --app): CGO_ENABLED=1, on a Debian runtime.")
@click.pass_context
def init_cmd(ctx: click.Context, /, app_context: Path | None, cgo: bool, **params: Any) -> int:
    """Write bake/ for this repository: the base images, or (--app NAME) one service.

    Never overwrites a file: if one exists, nothing is written.
    """
    from .init import run_init

    s = _session(ctx, params)
    for path in run_init(s, app_context, cgo):
        click.echo(f"bakegen: wrote {path}", err=True)
    return 0


def _targets_named(bake: BakeFile, name: str) -> list[str]:
    if name in bake.groups:
        return bake.groups[name]
    if bake.target(name):
        return [name]
    known = [t.name for t in bake.targets] + list(bake.groups)
    raise BakegenError(f'no target or group "{name}"{did_you_mean(name, known)}; known: {", ".join(sorted(known))}')


@cli.command("lock", context_settings=CONTEXT, epilog="""\b
Examples:
  bakegen lock                       checksums of every Go and protoc file the definitions use
  bakegen lock --upgrade             move each Go version to its line's newest release, then lock
  bakegen lock --go-version 1.25rc1  add a version (then: bakegen --go-version 1.25rc1 -o ...)
then: bakegen -o docker-bake.hcl, and review both diffs
""")
@options(SHARED)
@click.option("--upgrade", is_flag=True,
              help="First move each version in the definitions to its line's newest release.")
@click.option("--releases-url", default=None, metavar="URL", help="Go's release list (default: go.dev's).")
@click.pass_context
def lock_cmd(ctx: click.Context, /, upgrade: bool, releases_url: str | None, **params: Any) -> int:
    """Write bake/bakegen-lock.json: the sha256 of every Go and protoc release file the definitions
    use, from go.dev's release list and the protoc zips. A checksum that differs from a known one
    is an error; the file is written only when it changes.
    """
    from .lockrun import run_lock

    for line in run_lock(_session(ctx, params), upgrade, releases_url):
        click.echo(f"bakegen: {line}", err=True)
    return 0

