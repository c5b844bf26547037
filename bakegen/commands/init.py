"""``bakegen init``: looks at the folder and the service's source, asks ``scaffold`` for the
files, writes them all or none (``output.write_new_files``), and adds what bakegen writes per
build (``.bakegen/``) to ``.gitignore``."""

from __future__ import annotations

import dataclasses
import os
import posixpath
from pathlib import Path
from typing import Any

import click

from .. import hcl, loader, scaffold
from ..apps import older
from ..errors import BakegenError
from ..model import App, Definitions, Runtime, Toolchain
from ..output import write_atomic, write_new_files
from ..schema import IMAGE_FILE, NAME, PROJECT_FILE, check_name
from ..versions import GoVersion, known_versions
from . import CONTEXT, choices, options

DEFAULT_REGISTRY = "registry.example.com"
# The per-build files (bakegen meta -o .bakegen/meta.hcl, a build's digests): neither committed nor
# in a build's context, where they would change every image's inputs with every commit.
IGNORED = {".gitignore": ("/.bakegen/",), ".dockerignore": (".bakegen",)}


def _facts(c: Any, folder: Path, go_version: str | None) -> tuple[scaffold.Facts, Definitions | None]:
    """What the definitions folder already holds (and its definitions, when it has images), and
    what init was asked to write into a new one."""
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
                          cgo_toolchains=tuple(i.name for i in images if isinstance(i, Toolchain) and i.cgo),
                          runtimes=tuple(i.name for i in runtimes), go_version=go_version,
                          registry_cache=bool(c.registry_cache)), local


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


def _app_go(c: Any, known: dict[str, dict[str, str]], mod: loader.GoMod | None, local: Definitions | None,
            shown: str, *, toolchain: str | None) -> str | None:
    """The Go the app's toolchain is named by: ``--go-version``, else (published bases) the line
    ``scaffold.go_line`` chooses from go.mod, else (bases beside it, ``toolchain`` the one it
    builds FROM) none: its newest. Never older than go.mod's ``go`` line, which generation would
    refuse."""
    where = mod.go_at if mod and mod.go else ("go.mod" if shown == "." else f"{shown}/go.mod")
    try:
        need = GoVersion.parse(mod.go) if mod and mod.go else None
    except BakegenError as e:
        raise BakegenError(e.message, where) from None
    too_old = f"older than the go {need} its module asks for ({where}), and the build cannot fetch a newer Go " \
              "(GOTOOLCHAIN=local)"
    if c.go_version is not None:
        given = _go_version(c, known, published=local is None)
        assert given is not None
        if need and older(GoVersion.parse(given), need):
            raise BakegenError(f"Go {given} is {too_old}", c.go_version.source)
        return given
    if local is None:
        return scaffold.go_line(scaffold.newest_go(known), mod.go if mod else "", mod.toolchain if mod else "", where)
    tools = [i for i in local.images if isinstance(i, Toolchain) and i.name == toolchain]
    have = [GoVersion.parse(v).resolve(known_versions(local.checksums_go)) for i in tools for v in i.versions]
    if need and have and all(older(v, need) for v in have):
        raise BakegenError(f'the toolchain "{tools[0].name}" defined beside it builds Go '
                           f'{", ".join(map(str, have))}, {too_old}: add "{need.line}" to its versions '
                           f'({tools[0].at("versions")}) first', "--app")
    return None


def _service(c: Any, envs: tuple[str, ...], context: Path, folder: Path, *, cgo: bool,
             main_package: str | None, local: Definitions | None) -> scaffold.Service:
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
                            envs, "" if missing else "etc/app_{env}.yaml",
                            _main_package(c.app.value, context, main_package, local, folder), cgo)


def _main_package(app: str, context: Path, main_package: str | None, local: Definitions | None,
                  folder: Path) -> str:
    """``--main-package``, checked, else the one ``scaffold.main_package`` finds in the source
    (less those the apps defined in ``local`` already build from the same source)."""
    if main_package is None:
        taken = {posixpath.normpath(a.main_package): a.name for a in (local.images if local else ())
                 if isinstance(a, App) and not a.dockerfile and (folder.parent / a.context).resolve() == context}
        return scaffold.main_package(app, loader.main_packages(context), taken)
    given = Path(main_package)
    folder = (context / given).resolve()
    if given.is_absolute() or not folder.is_relative_to(context):
        raise BakegenError(f"{main_package} is not a folder inside the app's source ({context})", "--main-package")
    if not loader.has_main(folder):
        raise BakegenError(f"{context / given} holds no main package (a .go file saying package main)",
                           "--main-package")
    return folder.relative_to(context).as_posix()


@click.command("init", context_settings=CONTEXT, epilog="""\b
Examples:
  bakegen init                          the base images: toolchain, Debian and static runtimes
  bakegen init --go-version 1.25        ... for Go 1.25 (the newest 1.25.x bakegen knows)
  bakegen init --app svc                a service built FROM published (or local) base images
  bakegen init --app svc --context services/svc --registry registry.example.com/team
  bakegen init --app svc --env dev --env prd --cgo
  bakegen init --app worker --main-package cmd/worker
then: bakegen -o docker-bake.hcl && docker buildx bake --print
""")
@options("app", "registry", "go_version", "registry_cache", "definitions")
@click.option("--env", "envs", multiple=True, metavar="ENV", envvar="BAKEGEN_ENV", show_envvar=True,
              help="An env of the service (with --app; repeat it). Default: from its etc/app_<env>.yaml files.")
@click.option("--context", "app_context", metavar="DIR", type=click.Path(file_okay=False, path_type=Path),
              help="The app's source folder (with --app). Default: the current directory.")
@click.option("--cgo", is_flag=True, help="The app uses cgo (with --app): CGO_ENABLED=1, on a Debian runtime.")
@click.option("--main-package", "main_package", metavar="DIR",
              help="The app's main package, relative to its source (with --app). Default: cmd/<app> when it has "
                   "one, else the one folder (. or cmd/*) that has one.")
@click.pass_context
def init_cmd(ctx: click.Context, /, envs: tuple[str, ...], app_context: Path | None, cgo: bool,
             main_package: str | None, **params: Any) -> int:
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
        for flag, given in (("--context", app_context), ("--cgo", cgo), ("--env", envs),
                            ("--main-package", main_package)):
            if given:
                raise BakegenError(f"{flag} needs --app NAME", flag)
        go = _go_version(c, builtin.checksums_go, published=False) or scaffold.newest_go(builtin.checksums_go).tag
        facts, _ = _facts(c, folder, go)
        files = scaffold.base_files(env, facts, {name: loader.folder_files(builtin_folder / name)
                                                 for name in scaffold.base_folders(builtin)})
    else:
        check_name(c.app.value, "app name", c.app.source)
        context = (app_context or c.cwd).resolve()
        if not context.is_dir():
            raise BakegenError(f"{app_context} is not a folder", "--context")
        facts, defined = _facts(c, folder, None)
        local = defined if facts.toolchains and facts.runtimes else None
        toolchain = scaffold.local_toolchain(facts, cgo) if local else None
        shown = os.path.relpath(context, c.cwd).replace(os.sep, "/")
        mod = loader.go_mod(context, shown)
        facts = dataclasses.replace(facts, go_version=_app_go(c, builtin.checksums_go, mod, local, shown,
                                                                     toolchain=toolchain))
        published = scaffold.published_bases(builtin, facts.go_version or "", cgo) if local is None else ("", "")
        service = _service(c, envs, context, folder, cgo=cgo, main_package=main_package, local=defined)
        files = scaffold.app_files(env, facts, service, published)
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
