"""``bakegen init``, the edge: looks at the folder, asks ``scaffold`` for the files, writes them
all or none (``output.write_new_files``)."""

from __future__ import annotations

import re
from pathlib import Path

from . import definitions, scaffold
from .errors import BakegenError
from .output import write_new_files
from .session import Session
from .tags import check_registry

DEFAULT_REGISTRY = "registry.example.com"


def _facts(s: Session, folder: Path) -> scaffold.Facts:
    has_project = (folder / definitions.PROJECT_FILE).is_file()
    has_images = any(folder.glob(f"*/{definitions.IMAGE_FILE}"))
    local = definitions.load(folder, "bake") if has_project and has_images else None
    if s.get("registry"):
        registry = check_registry(s.get("registry"), s.sources.get("registry", "--registry"))
    elif has_project:
        registry = local.project.registry if local else _project_registry(folder)
    else:
        registry = DEFAULT_REGISTRY
    images = local.images if local else ()
    return scaffold.Facts(
        folder, registry, has_project,
        toolchains=tuple(i.name for i in images if i.kind == "toolchain"),
        runtimes=tuple(i.name for i in sorted(images, key=lambda i: (i.static, i.name)) if i.kind == "runtime"),
    )


def _project_registry(folder: Path) -> str:
    from . import hcl

    path = folder / definitions.PROJECT_FILE
    attr = hcl.parse(path.read_text(encoding="utf-8"), str(path)).attributes.get("registry")
    return str(attr.expr.value) if attr else DEFAULT_REGISTRY


def run_init(s: Session, app_context: Path | None, cgo: bool = False) -> list[Path]:
    """Write the new definitions; returns the files written."""
    folder = Path(s.get("definitions") or s.cwd / "bake")
    facts = _facts(s, folder)
    builtin = definitions.builtin_dir()
    builtin_defs = definitions.load(builtin, "bake")
    app = s.get("app")
    if app is None:
        if app_context is not None or cgo:
            flag = "--context" if app_context is not None else "--cgo"
            raise BakegenError(f"{flag} needs --app NAME", flag)
        files = scaffold.base_files(facts, builtin, builtin_defs)
    else:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", app):
            raise BakegenError(f'app name "{app}" must be lower-case letters, digits, "-" and "_"',
                               s.sources.get("app", "--app"))
        context = (app_context or s.cwd).resolve()
        if not context.is_dir():
            raise BakegenError(f"{app_context} is not a folder", "--context")
        # The default application Dockerfile: the one an app folder holds (cgo-demo uses ci-demo-go's).
        template = next(builtin / Path(i.folder).name / "Dockerfile" for i in builtin_defs.images
                        if i.kind == "app" and (builtin / Path(i.folder).name / "Dockerfile").is_file())
        files = scaffold.app_files(facts, app, context, template.read_text(encoding="utf-8"),
                                   scaffold.published_bases(builtin_defs), cgo=cgo)
    write_new_files(files)
    return sorted(files)
