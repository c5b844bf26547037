"""``bakegen init``: the files of a new definitions folder. Pure: given what exists, returns
{path: text}; the command writes them (all or none, never over an existing file).

- ``init``: ``bakegen.hcl`` (when missing) and the built-in base images (toolchain, Debian and
  static runtimes) with their Dockerfiles, as bakegen ships them.
- ``init --app NAME``: ``bakegen.hcl`` (when missing), ``NAME/image.hcl`` and ``NAME/Dockerfile``;
  the app builds FROM the base images of the same folder when there are any, else FROM the
  published ones (``{registry}/common/tools/golang:1.24``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .model import Definitions
from .render import render_template

BASE_ARG_LINE = re.compile(r"^ARG (TOOLCHAIN_IMAGE|RUNTIME_IMAGE|APP)(=.*)?$", re.MULTILINE)


@dataclass(frozen=True)
class Facts:
    """What ``init`` found: the folder, the registry to name, and the images defined there."""

    folder: Path
    registry: str
    has_project: bool
    toolchains: tuple[str, ...] = ()
    runtimes: tuple[str, ...] = ()  # Debian runtimes first


def project_file(facts: Facts) -> dict[Path, str]:
    if facts.has_project:
        return {}
    return {facts.folder / "bakegen.hcl": render_template("init/bakegen.hcl.j2", registry=facts.registry)}


def base_files(facts: Facts, builtin: Path, builtin_defs: Definitions) -> dict[Path, str]:
    """Every file of the built-in base images' folders, under the same names."""
    files = project_file(facts)
    root = builtin_defs.folder + "/"
    for image in builtin_defs.images:
        if image.kind == "app":
            continue
        for folder in [image.folder] + [path for _, path in image.folders]:
            name = folder.removeprefix(root)
            for path in sorted((builtin / name).iterdir()):
                if path.is_file():
                    files[facts.folder / name / path.name] = path.read_text(encoding="utf-8")
    return files


def published_bases(builtin_defs: Definitions) -> tuple[str, str]:
    """The references a service uses when its repository defines no bases: the toolchain's Go
    line (``1.24``) and the Debian runtime's variant tag, as the built-in definitions publish them."""
    import datetime as dt

    from .plan import plan

    bake = plan(builtin_defs, dt.date.min)
    tools = next(t for t in bake.targets if t.kind == "toolchain")
    runtime = next(t for t in bake.targets if t.kind == "runtime" and not builtin_defs.image(t.image).static)
    line = next(tag for tag in tools.tags if tag.tag.count(".") == 1)
    return (f"{{registry}}/{line.path}:{line.tag}", f"{{registry}}/{runtime.tags[0].path}:{runtime.tags[0].tag}")


def app_files(facts: Facts, name: str, context: Path, app_dockerfile: str,
              published: tuple[str, str], *, cgo: bool = False) -> dict[Path, str]:
    files = project_file(facts)
    folder = facts.folder / name
    names = [p.name.removeprefix("app_").removesuffix(".yaml") for p in context.glob("etc/app_*.yaml")]
    envs = sorted(n for n in names if re.fullmatch(r"[a-z0-9][a-z0-9_-]*", n))
    local = bool(facts.toolchains and facts.runtimes)
    toolchain = facts.toolchains[0] if local else published[0]
    runtime = facts.runtimes[0] if local else published[1]
    files[folder / "image.hcl"] = render_template(
        "init/app.hcl.j2", name=name, context=os.path.relpath(context, folder).replace(os.sep, "/"),
        envs=envs or ["dev"], config="etc/app_{env}.yaml" if envs else "",
        toolchain=toolchain, runtime=runtime, published=not local, cgo=cgo)
    defaults = {"APP": name,
                "TOOLCHAIN_IMAGE": toolchain.replace("{registry}", facts.registry) if not local else "",
                "RUNTIME_IMAGE": runtime.replace("{registry}", facts.registry) if not local else ""}
    files[folder / "Dockerfile"] = BASE_ARG_LINE.sub(
        lambda m: f"ARG {m.group(1)}={defaults[m.group(1)]}" if defaults[m.group(1)] else f"ARG {m.group(1)}",
        app_dockerfile)
    return files
