"""``bakegen init``: the files of a new definitions folder. Pure: given what exists (read by the
command), returns {path: text}; the command writes them (all or none, never over a file).

- ``init``: ``bakegen.hcl`` (when missing) and the built-in base images (toolchain, Debian and
  static runtimes) with their Dockerfiles, as bakegen ships them.
- ``init --app NAME``: ``bakegen.hcl`` (when missing), ``NAME/image.hcl`` and ``NAME/Dockerfile``;
  the app builds FROM the base images of the same folder when there are any, else FROM the
  published ones (``{registry}/common/tools/golang:1.24``).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .model import Definitions, Runtime, Toolchain
from .plan import plan
from .render import render_template
from .schema import NAME, defaults

if TYPE_CHECKING:
    import jinja2

BASE_ARG_LINE = re.compile(r"^ARG (TOOLCHAIN_IMAGE|RUNTIME_IMAGE|APP)(=.*)?$", re.MULTILINE)


@dataclass(frozen=True)
class Facts:
    """What ``init`` found: the folder, the registry to name, and the images defined there."""

    folder: Path
    registry: str
    has_project: bool
    toolchains: tuple[str, ...] = ()
    runtimes: tuple[str, ...] = ()  # Debian runtimes first


def project_file(env: jinja2.Environment, facts: Facts) -> dict[Path, str]:
    if facts.has_project:
        return {}
    return {facts.folder / "bakegen.hcl": render_template(env, "init/bakegen.hcl.j2", registry=facts.registry,
                                                          defaults=defaults())}


def base_files(env: jinja2.Environment, facts: Facts, builtin: dict[str, dict[str, str]]) -> dict[Path, str]:
    """Every file of the built-in base images' folders (``builtin``: folder -> {name: text}),
    under the same names."""
    files = project_file(env, facts)
    for name, texts in builtin.items():
        files.update({facts.folder / name / file: text for file, text in texts.items()})
    return files


def base_folders(builtin: Definitions) -> list[str]:
    """The folders (below the definitions folder) that hold the built-in base images and what they use."""
    root = builtin.folder + "/"
    return sorted({f.removeprefix(root) for i in builtin.images if i.kind != "app"
                   for f in [i.folder, *(path for _, path in i.folders)]})


def published_bases(builtin: Definitions) -> tuple[str, str]:
    """The references a service uses when its repository defines no bases: the toolchain's Go
    line (``1.24``) and the Debian runtime's variant tag, as the built-in definitions publish them."""
    bake = plan(builtin, dt.date.min)
    tools = next(t for t in bake.targets if isinstance(builtin.image(t.image), Toolchain))
    runtime = next(t for t in bake.targets if isinstance(i := builtin.image(t.image), Runtime) and not i.static)
    line = next(tag for tag in tools.tags if tag.tag.count(".") == 1)
    return f"{{registry}}/{line.name}", f"{{registry}}/{runtime.tags[0].name}"


def app_files(env: jinja2.Environment, facts: Facts, name: str, *, context: Path, config_files: list[str],
              app_dockerfile: str, published: tuple[str, str], cgo: bool = False) -> dict[Path, str]:
    """``config_files``: the names of the context's ``etc/app_*.yaml`` files."""
    files = project_file(env, facts)
    folder = facts.folder / name
    names = [p.removeprefix("app_").removesuffix(".yaml") for p in config_files]
    envs = sorted(n for n in names if NAME.fullmatch(n))
    local = bool(facts.toolchains and facts.runtimes)
    toolchain = facts.toolchains[0] if local else published[0]
    runtime = facts.runtimes[0] if local else published[1]
    files[folder / "image.hcl"] = render_template(
        env, "init/app.hcl.j2", name=name, context=os.path.relpath(context, folder).replace(os.sep, "/"),
        envs=envs or ["dev"], config="etc/app_{env}.yaml" if envs else "",
        toolchain=toolchain, runtime=runtime, published=not local, cgo=cgo, defaults=defaults("app"))
    args = {"APP": name,
                "TOOLCHAIN_IMAGE": toolchain.replace("{registry}", facts.registry) if not local else "",
                "RUNTIME_IMAGE": runtime.replace("{registry}", facts.registry) if not local else ""}
    files[folder / "Dockerfile"] = BASE_ARG_LINE.sub(
        lambda m: f"ARG {m.group(1)}={args[m.group(1)]}" if args[m.group(1)] else f"ARG {m.group(1)}",
        app_dockerfile)
    return files
