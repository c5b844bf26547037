"""``bakegen init``: looks at the folder, asks ``scaffold`` for the files, writes them all or none
(``output.write_new_files``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .. import hcl, loader, scaffold
from ..errors import BakegenError
from ..model import Runtime, Toolchain
from ..output import write_new_files
from ..schema import check_name
from . import CONTEXT, choices, options

DEFAULT_REGISTRY = "registry.example.com"


def _facts(folder: Path, registry: str | None) -> scaffold.Facts:
    """What the definitions folder already holds: its settings and base images."""
    project = folder / loader.PROJECT_FILE
    has_project = project.is_file()
    local = loader.load(folder, "bake") if has_project and loader.glob(folder, f"*/{loader.IMAGE_FILE}") else None
    if registry is None and local:
        registry = local.project.registry
    elif registry is None and has_project:
        attr = hcl.parse(loader.read_text(project) or "", str(project)).attributes.get("registry")
        registry = str(attr.expr.value) if attr else None
    images = local.images if local else ()
    runtimes = sorted((i for i in images if isinstance(i, Runtime)), key=lambda i: (i.static, i.name))
    return scaffold.Facts(folder, registry or DEFAULT_REGISTRY, has_project,
                          toolchains=tuple(i.name for i in images if isinstance(i, Toolchain)),
                          runtimes=tuple(i.name for i in runtimes))


@click.command("init", context_settings=CONTEXT, epilog="""\b
Examples:
  bakegen init                          the base images: toolchain, Debian and static runtimes
  bakegen init --app svc                a service built FROM published (or local) base images
  bakegen init --app svc --context services/svc --registry registry.example.com/team
  bakegen init --app svc --cgo          a service that calls C (import "C")
then: bakegen -o docker-bake.hcl && docker buildx bake --print
""")
@options("app", "registry", "definitions")
@click.option("--context", "app_context", metavar="DIR", type=click.Path(file_okay=False, path_type=Path),
              help="The app's source folder (with --app). Default: the current directory.")
@click.option("--cgo", is_flag=True, help="The app uses cgo (with --app): CGO_ENABLED=1, on a Debian runtime.")
@click.pass_context
def init_cmd(ctx: click.Context, /, app_context: Path | None, cgo: bool, **params: Any) -> int:
    """Write bake/ for this repository: the base images, or (--app NAME) one service.

    Never overwrites a file: if one exists, nothing is written.
    """
    c = choices(ctx, params)
    folder = Path(c.definitions.value) if c.definitions else c.cwd / "bake"
    facts = _facts(folder, c.registry.value if c.registry else None)
    builtin_folder = loader.package_path("bake")
    builtin = loader.load(builtin_folder, "bake")
    env = loader.templates()
    if c.app is None:
        if app_context is not None or cgo:
            flag = "--context" if app_context is not None else "--cgo"
            raise BakegenError(f"{flag} needs --app NAME", flag)
        files = scaffold.base_files(env, facts, {name: loader.folder_files(builtin_folder / name)
                                                 for name in scaffold.base_folders(builtin)})
    else:
        check_name(c.app.value, "app name", c.app.source)
        context = (app_context or c.cwd).resolve()
        if not context.is_dir():
            raise BakegenError(f"{app_context} is not a folder", "--context")
        # The default application Dockerfile: the one an app folder holds (cgo-demo uses ci-demo-go's).
        dockerfile = next(text for i in builtin.images if i.kind == "app"
                          if (text := loader.read_text(builtin_folder / Path(i.folder).name / "Dockerfile")))
        configs = [p.name for p in loader.glob(context, "etc/app_*.yaml")]
        files = scaffold.app_files(env, facts, c.app.value, context=context, config_files=configs,
                                   app_dockerfile=dockerfile, published=scaffold.published_bases(builtin), cgo=cgo)
    write_new_files(files)
    for path in sorted(files):
        click.echo(f"bakegen: wrote {path}", err=True)
    return 0
