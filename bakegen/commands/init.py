"""``bakegen init``: looks at the folder and the service's source, asks ``scaffold`` for the
files, writes them all or none (``output.write_new_files``), and adds what bakegen writes per
build (``.bakegen/``) to ``.gitignore``."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import click

from .. import hcl, loader, scaffold
from ..errors import BakegenError
from ..model import Runtime, Toolchain
from ..output import write_atomic, write_new_files
from ..schema import IMAGE_FILE, NAME, PROJECT_FILE, check_name
from ..versions import GoVersion
from . import CONTEXT, choices, options

DEFAULT_REGISTRY = "registry.example.com"
# The per-build files (bakegen meta -o .bakegen/meta.hcl, a build's digests): neither committed nor
# in a build's context, where they would change every image's inputs with every commit.
IGNORED = {".gitignore": ("/.bakegen/",), ".dockerignore": (".bakegen",)}


def _facts(c: Any, folder: Path, go_version: str | None) -> scaffold.Facts:
    """What the definitions folder already holds, and what init was asked to write into a new one."""
    project = folder / PROJECT_FILE
    has_project = project.is_file()
    for given, key in ((c.registry, "registry"), (c.registry_cache, "registry_cache")):
        if has_project and given is not None:
            flag = given.source if key == "registry" else "--registry-cache"
            raise BakegenError(f"{project} exists and init never overwrites a file: set {key} there", flag)
    local = loader.load(folder, "bake") if has_project and loader.glob(folder, f"*/{IMAGE_FILE}") else None
    registry = c.registry.value if c.registry else None
    if local:
        registry = local.project.registry
    elif has_project:
        attr = hcl.parse(loader.read_text(project) or "", str(project)).attributes.get("registry")
        registry = str(attr.expr.value) if attr else None
    images = local.images if local else ()
    runtimes = sorted((i for i in images if isinstance(i, Runtime)), key=lambda i: (i.static, i.name))
    return scaffold.Facts(folder, registry or DEFAULT_REGISTRY, has_project,
                          toolchains=tuple(i.name for i in images if isinstance(i, Toolchain)),
                          runtimes=tuple(i.name for i in runtimes), go_version=go_version,
                          registry_cache=bool(c.registry_cache))


def _go_version(c: Any, known: dict[str, dict[str, str]], published: bool) -> str | None:
    """``--go-version`` checked: a release bakegen has checksums for when init writes the toolchain
    (base images), any valid spelling when it names a published one; written as a tag (``1.25``)."""
    if c.go_version is None:
        return None
    try:
        v = GoVersion.parse(c.go_version.value)
        if not published:
            v.resolve([GoVersion.parse(k) for k in known])
    except BakegenError as e:
        raise BakegenError(e.message, c.go_version.source) from None
    return v.tag


def _service(c: Any, envs: tuple[str, ...], context: Path, folder: Path, cgo: bool) -> scaffold.Service:
    """The service's envs (``--env``, else its etc/app_<env>.yaml files), config and main package."""
    found = [p.name.removeprefix("app_").removesuffix(".yaml") for p in loader.glob(context, "etc/app_*.yaml")]
    if not envs:
        envs = tuple(sorted(e for e in found if NAME.fullmatch(e))) or ("dev",)
    for e in envs:
        check_name(e, "env", "--env")
    missing = [f"etc/app_{e}.yaml" for e in envs if e not in found]
    if missing and len(missing) < len(envs):
        raise BakegenError(f"{context / missing[0]} does not exist, but the other envs have their config file: "
                           "add it, or give --env only for the envs that have one", "--env")
    return scaffold.Service(c.app.value, os.path.relpath(context, folder / c.app.value).replace(os.sep, "/"),
                            envs, "" if missing else "etc/app_{env}.yaml", loader.main_package(context, c.app.value),
                            cgo)


@click.command("init", context_settings=CONTEXT, epilog="""\b
Examples:
  bakegen init                          the base images: toolchain, Debian and static runtimes
  bakegen init --go-version 1.25        ... for Go 1.25 (the newest 1.25.x bakegen knows)
  bakegen init --app svc                a service built FROM published (or local) base images
  bakegen init --app svc --context services/svc --registry registry.example.com/team
  bakegen init --app svc --env dev --env prd --cgo
then: bakegen -o docker-bake.hcl && docker buildx bake --print
""")
@options("app", "registry", "go_version", "registry_cache", "definitions")
@click.option("--env", "envs", multiple=True, metavar="ENV", envvar="BAKEGEN_ENV", show_envvar=True,
              help="An env of the service (with --app; repeat it). Default: from its etc/app_<env>.yaml files.")
@click.option("--context", "app_context", metavar="DIR", type=click.Path(file_okay=False, path_type=Path),
              help="The app's source folder (with --app). Default: the current directory.")
@click.option("--cgo", is_flag=True, help="The app uses cgo (with --app): CGO_ENABLED=1, on a Debian runtime.")
@click.pass_context
def init_cmd(ctx: click.Context, /, envs: tuple[str, ...], app_context: Path | None, cgo: bool,
             **params: Any) -> int:
    """Write bake/ for this repository: the base images, or (--app NAME) one service.

    Never overwrites a file: if one exists, nothing is written. Adds .bakegen/ (where bakegen
    writes the per-build files) to .gitignore.
    """
    c = choices(ctx, params)
    folder = Path(c.definitions.value) if c.definitions else c.cwd / "bake"
    builtin_folder = loader.package_path("bake")
    builtin = loader.load(builtin_folder, "bake")
    env = loader.templates()
    if c.app is None:
        for flag, given in (("--context", app_context), ("--cgo", cgo), ("--env", envs)):
            if given:
                raise BakegenError(f"{flag} needs --app NAME", flag)
        facts = _facts(c, folder, _go_version(c, builtin.checksums_go, published=False))
        files = scaffold.base_files(env, facts, {name: loader.folder_files(builtin_folder / name)
                                                 for name in scaffold.base_folders(builtin)})
    else:
        check_name(c.app.value, "app name", c.app.source)
        context = (app_context or c.cwd).resolve()
        if not context.is_dir():
            raise BakegenError(f"{app_context} is not a folder", "--context")
        facts = _facts(c, folder, None)
        local = bool(facts.toolchains and facts.runtimes)
        facts = dataclasses.replace(facts, go_version=_go_version(c, builtin.checksums_go, published=not local))
        published = scaffold.published_bases(builtin, None if local else facts.go_version, cgo)
        files = scaffold.app_files(env, facts, _service(c, envs, context, folder, cgo), published)
    write_new_files(files)
    for path in sorted(files):
        click.echo(f"bakegen: wrote {path}", err=True)
    for name, lines in IGNORED.items():
        _ignore(c.cwd / name, lines)
    return 0


def _ignore(path: Path, lines: tuple[str, ...]) -> None:
    """Add the ``lines`` that ``path`` lacks (it is created when missing)."""
    text = loader.read_text(path) or ""
    missing = [line for line in lines if line not in text.splitlines()]
    if missing:
        write_atomic(path, text + ("\n" if text and not text.endswith("\n") else "") + "\n".join(missing) + "\n")
        click.echo(f"bakegen: added {', '.join(missing)} to {path}", err=True)
