"""``bakegen init``: the files of a new definitions folder. Pure: given what exists (read by the
command), returns {path: text}; the command writes them (all or none, never over a file).

- ``init``: ``bakegen.hcl`` (when missing) and the built-in base images (toolchain, Debian and
  static runtimes) with their Dockerfiles, as bakegen ships them, on Debian ``INIT_SUITE``.
- ``init --app NAME``: ``bakegen.hcl`` (when missing) and ``NAME/image.hcl``; the app builds FROM
  the base images of the same folder when there are any, else FROM the published ones
  (``{registry}/common/tools/golang:1.24``), with the Dockerfile bakegen generates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .model import Definitions, Ref, Runtime, Toolchain
from .plan import plan
from .platforms import suite
from .render import render_template
from .schema import IMAGE_FILE, LATEST_ENVS, defaults
from .tags import runtime_tag, variant_suffix
from .upgrade import replaced

if TYPE_CHECKING:
    import jinja2

INIT_SUITE = "bookworm"  # the Debian of the base images init writes (supported, unlike the seed's bullseye)


@dataclass(frozen=True)
class Facts:
    """What ``init`` found and was asked for: the folder, the registry to name, the images defined
    there, the Go version (None: the built-in one) and whether to share a registry cache."""

    folder: Path
    registry: str
    has_project: bool
    toolchains: tuple[str, ...] = ()
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


def published_bases(builtin: Definitions, go_tag: str | None, cgo: bool = False) -> tuple[str, str]:
    """The references a service uses when its repository defines no bases: the toolchain's Go
    line (``1.24``, or ``go_tag``) and the Debian runtime of ``INIT_SUITE``, named as the base
    images ``init`` writes publish them. A cgo app names the toolchain by its suite too
    (``1.24-debian12``): its C library must be the runtime's."""
    bake = plan(builtin, dt.date.min)
    tools = next(t for t in bake.targets if isinstance(builtin.image(t.image), Toolchain))
    runtime = next(i for i in builtin.images if isinstance(i, Runtime) and not i.static)
    line = go_tag or next(tag.tag for tag in tools.tags if tag.tag.count(".") == 1)
    suffix = variant_suffix(suite(INIT_SUITE).number)
    variant = runtime_tag(runtime.tag_prefix, suffix, runtime.at("tag_prefix"))
    line += f"-{suffix}" if cgo else ""
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


def app_files(env: jinja2.Environment, facts: Facts, service: Service, published: tuple[str, str]) -> dict[Path, str]:
    files = project_file(env, facts)
    local = bool(facts.toolchains and facts.runtimes)
    files[facts.folder / service.name / IMAGE_FILE] = render_template(
        env, "init/app.hcl.j2", name=service.name, context=service.context, envs=list(service.envs),
        config=service.config, main_package=service.main_package, cgo=service.cgo, published=not local,
        toolchain=facts.toolchains[0] if local else published[0], runtime=facts.runtimes[0] if local else published[1],
        toolchain_version=facts.go_version if local else "",
        latest_envs=[e for e in service.envs if e in LATEST_ENVS], defaults=defaults("app"))
    return files
