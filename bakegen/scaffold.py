"""``bakegen init``: the files of a new definitions folder. Pure: given what exists (read by the
command), returns {path: text}; the command writes them (all or none, never over a file).

- ``init``: ``bakegen.hcl`` (when missing) and the built-in base images (toolchain, compile
  image, Debian and static runtimes) with their Dockerfiles, as bakegen ships them, on the current
  Debian release (``INIT_SUITE``) and the newest Go release bakegen has checksums for (``newest_go``).
- ``init --app NAME``: ``bakegen.hcl`` (when missing) and ``NAME/image.hcl``; the app builds FROM
  the base images of the same folder when there are any, else FROM the published ones
  (``{registry}/common/tools/golang-build:1.27``: ``go_line``; a cgo app the toolchain with a C
  compiler, ``golang:1.27-debian13``), with the Dockerfile bakegen generates, of its main package
  (``main_package``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import BakegenError
from .model import ChecksumTable, Definitions, Ref, Runtime, Toolchain
from .plan import plan
from .platforms import current_suite, suite
from .render import render_template
from .schema import IMAGE_FILE, LATEST_ENVS, defaults
from .tags import runtime_tag, variant_suffix
from .upgrade import replaced
from .versions import GoVersion, known_versions

if TYPE_CHECKING:
    import jinja2

INIT_SUITE = current_suite().name  # the Debian of the base images init writes


def newest_go(known: ChecksumTable) -> GoVersion:
    """The newest Go release (not a pre-release) of a checksum table: what new base images build."""
    return max((v for v in known_versions(known) if not v.prerelease), key=lambda v: v.key)


def go_line(newest: GoVersion, go: str, toolchain: str, where: str) -> str:
    """The Go line of the published toolchain a new service names: the newest bakegen knows (what
    new base images build), or the line its go.mod asks for when that is newer (its ``go`` line,
    the oldest Go that builds it, or its ``toolchain`` directive, the Go its developers use)."""
    lines = [newest]
    for text in (go, toolchain):
        try:
            lines += [GoVersion.parse(text)] if text else []
        except BakegenError as e:
            raise BakegenError(e.message, where) from None
    return max(lines, key=lambda v: (v.major, v.minor)).line


def main_package(app: str, candidates: list[str], taken: dict[str, str]) -> str:
    """The package ``init --app`` builds, from the folders of the source that hold a main package
    (``.`` and ``cmd/*``) less those another app of the same source already builds (``taken``:
    package -> app): ``cmd/<app>``, else the only one left, else (no main package yet) the top
    folder. Where it cannot tell, an error listing them."""
    free = [f"cmd/{app}"] if f"cmd/{app}" in candidates else [c for c in candidates if c not in taken]
    others = ", ".join(f'{c} (app "{taken[c]}")' for c in candidates if c in taken)
    if len(free) == 1 and free[0] not in taken:
        return free[0]
    if not candidates:
        return "."
    if len(free) > 1:
        found = f'{", ".join(free)} each hold one and there is no cmd/{app}' + (f"; {others}" if others else "")
    elif free:
        found = f'its own, {free[0]}, is built by app "{taken[free[0]]}" already'
    else:
        found = f"each main package of its source is built by another app: {others}"
    raise BakegenError(f'cannot tell which main package app "{app}" builds: {found}; name it with --main-package DIR',
                       "--app")


@dataclass(frozen=True)
class Facts:
    """What ``init`` found and was asked for: the folder, the registry to name, the images defined
    there, the Go version (of the base images; of an app's toolchain, None: the newest its bases
    beside it build) and whether to share a registry cache."""

    folder: Path
    registry: str
    has_project: bool
    toolchains: tuple[str, ...] = ()
    cgo_toolchains: tuple[str, ...] = ()  # those of toolchains with a C compiler
    runtimes: tuple[str, ...] = ()  # Debian runtimes first
    go_version: str | None = None
    registry_cache: bool = False


def project_file(env: jinja2.Environment, facts: Facts) -> dict[Path, str]:
    if facts.has_project:
        return {}
    return {facts.folder / "bakegen.hcl": render_template(env, "init/bakegen.hcl.j2", registry=facts.registry,
                                                          registry_cache=facts.registry_cache, defaults=defaults())}


def base_folders(builtin: Definitions) -> list[str]:
    """The folders (below the definitions folder) that hold the built-in base images and what they use."""
    root = builtin.folder + "/"
    return sorted({f.removeprefix(root) for i in builtin.images if i.kind != "app"
                   for f in [i.folder, *(path for _, path in i.folders)]})


def base_files(env: jinja2.Environment, facts: Facts, builtin: dict[str, dict[str, str]]) -> dict[Path, str]:
    """Every file of the built-in base images' folders (``builtin``: folder -> {name: text}), under
    the same names, their definitions set to ``INIT_SUITE`` (and ``facts.go_version``)."""
    files = project_file(env, facts)
    for name, texts in builtin.items():
        for file, text in texts.items():
            files[facts.folder / name / file] = _set(text, f"{name}/{file}", facts) if file == IMAGE_FILE else text
    return files


def _set(text: str, shown: str, facts: Facts) -> str:
    text = replaced(text, shown, "variants", [INIT_SUITE])
    return replaced(text, shown, "versions", [facts.go_version]) if facts.go_version else text


def published_bases(builtin: Definitions, go_tag: str, cgo: bool = False) -> tuple[str, str]:
    """The references a service uses when its repository defines no bases: the toolchain of Go
    ``go_tag`` (``1.27``) and the Debian runtime of ``INIT_SUITE``, named as the base images
    ``init`` writes publish them: the compile image (no C compiler), or for a cgo app the
    toolchain, named by its suite too (``1.27-debian13``): its C library must be the runtime's."""
    bake = plan(builtin, dt.date.min)
    tools = next(t for t in bake.targets if isinstance(image := builtin.image(t.image), Toolchain)
                 and image.cgo == cgo)
    runtime = next(i for i in builtin.images if isinstance(i, Runtime) and not i.static)
    suffix = variant_suffix(suite(INIT_SUITE).number)
    variant = runtime_tag(runtime.tag_prefix, suffix, runtime.at("tag_prefix"))
    line = go_tag + (f"-{suffix}" if cgo else "")
    return Ref(tools.tags[0].path, line).resolve("{registry}"), Ref(runtime.repository, variant).resolve("{registry}")


@dataclass(frozen=True)
class Service:
    """What ``init --app`` found in (or was told about) the service's source."""

    name: str
    context: str  # relative to the app's definition folder
    envs: tuple[str, ...]
    config: str  # "etc/app_{env}.yaml", or "" when the envs have no config file
    main_package: str
    cgo: bool


def local_toolchain(facts: Facts, cgo: bool) -> str:
    """The toolchain defined beside a new app that it builds FROM: for an app without cgo the
    compile image (no C compiler) where there is one, for a cgo app one with a C compiler."""
    with_c = [t for t in facts.toolchains if t in facts.cgo_toolchains]
    if cgo and not with_c:
        says = ", ".join(f"{t}: cgo = false" for t in facts.toolchains)
        raise BakegenError(f"no toolchain defined beside the app has a C compiler ({says}): define one first "
                           "(golang-tools, as `bakegen init` writes it)", "--cgo")
    return with_c[0] if cgo else ([t for t in facts.toolchains if t not in with_c] or with_c)[0]


def app_files(env: jinja2.Environment, facts: Facts, service: Service, published: tuple[str, str]) -> dict[Path, str]:
    files = project_file(env, facts)
    local = bool(facts.toolchains and facts.runtimes)
    files[facts.folder / service.name / IMAGE_FILE] = render_template(
        env, "init/app.hcl.j2", name=service.name, context=service.context, envs=list(service.envs),
        config=service.config, main_package=service.main_package, cgo=service.cgo, published=not local,
        toolchain=local_toolchain(facts, service.cgo) if local else published[0],
        runtime=facts.runtimes[0] if local else published[1],
        toolchain_version=facts.go_version if local else "",
        latest_envs=[e for e in service.envs if e in LATEST_ENVS], defaults=defaults("app"))
    return files
