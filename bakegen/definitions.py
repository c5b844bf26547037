"""Reading the image definitions into the validated model, with file:line in every error.

Layout of a definitions folder (``bake/`` in a repository, or the built-in copy in the package):

    bakegen.hcl            project settings (registry, platforms, network, ...)
    <image>/image.hcl      one or more ``image "<name>" { ... }`` blocks
    <image>/Dockerfile     the image's Dockerfile (an app may bring its own in its context)
    bakegen-lock.json      checksums written by ``bakegen lock`` (optional)

HCL is read by ``hcl`` exactly as Go's HCL (buildx's parser) reads it, or refused.
"""

from __future__ import annotations

import os
import posixpath
import re
from pathlib import Path
from typing import Any

from . import hcl
from .checksums import checksum_tables
from .dockerargs import declared_args
from .errors import BakegenError, did_you_mean
from .model import Definitions, Image, Kind, Project, Where
from .platforms import canonical_platform
from .resources import package_path
from .schema import COMMON_KEYS, DEFAULT_ENVS, KIND_KEYS, KINDS, PROJECT_KEYS, REQUIRED, Keys

PROJECT_FILE = "bakegen.hcl"
IMAGE_FILE = "image.hcl"
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")


def builtin_dir() -> Path:
    """The definitions shipped with bakegen (the seed's images and sample app)."""
    return package_path("bake")


def default_dir(cwd: Path) -> tuple[Path, bool]:
    """``./bake`` when it holds definitions, else the built-in ones (True: built-in)."""
    local = cwd / "bake"
    if (local / PROJECT_FILE).is_file():
        return local, False
    return builtin_dir(), True


def relative_to_cwd(path: Path, cwd: Path) -> str:
    try:
        return os.path.relpath(path, cwd).replace(os.sep, "/")
    except ValueError:
        return str(path)


# ---------------------------------------------------------------- reading
def _read(path: Path, shown: str) -> hcl.Body:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise BakegenError(f"cannot read: {e}", shown) from None
    return hcl.parse(text, shown)


def load(folder: Path, shown_as: str) -> Definitions:
    """Read and validate every definition in ``folder``. ``shown_as`` is the folder's name in the
    bake file and in messages (``bake``), so the output does not depend on where bakegen runs."""
    folder = Path(folder)
    project_path = folder / PROJECT_FILE
    if not project_path.is_file():
        raise BakegenError(f"no {PROJECT_FILE} in definitions folder {folder}")
    project = _project(_read(project_path, f"{shown_as}/{PROJECT_FILE}"), f"{shown_as}/{PROJECT_FILE}")
    images: list[Image] = []
    for path in sorted(folder.glob(f"*/{IMAGE_FILE}")):
        shown = f"{shown_as}/{path.parent.name}"
        images.extend(_images(path.parent, _read(path, f"{shown}/{IMAGE_FILE}"), shown, project))
    if not images:
        raise BakegenError(f"no */{IMAGE_FILE} definitions in {folder}; `bakegen init` writes them")
    names = [i.name for i in images]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise BakegenError(f'image "{dupes[0]}" is defined twice')
    go, protoc = checksum_tables(images, folder, shown_as)
    return Definitions(project, tuple(images), go, protoc, shown_as)


Located = dict[str, Where | str]  # where each key was set


def _apply(schema: Keys, body: hcl.Body, shown: str, what: str,
           block_line: int | None) -> tuple[dict[str, Any], Located]:
    values: dict[str, Any] = {}
    where: dict[str, Where | str] = {}
    for key, attr in body.attributes.items():
        w = Where(shown, attr.line)
        if key not in schema:
            raise BakegenError(f'unknown key "{key}" in {what}{did_you_mean(key, schema)}', str(w))
        if attr.expr.value is None:
            continue  # `key = null` means unset, as bake reads it
        try:
            values[key] = schema[key][0](attr.expr.value, key)
        except TypeError as e:
            raise BakegenError(f"{e}, got {attr.expr.value!r}", str(w)) from None
        where[key] = w
    for key, (_, default) in schema.items():
        if key not in values:
            if default is REQUIRED:
                raise BakegenError(f'{what} has no "{key}"', shown + (f":{block_line}" if block_line else ""))
            values[key] = default
    return values, where


def _project(body: hcl.Body, shown: str) -> Project:
    if body.blocks:
        b = body.blocks[0]
        raise BakegenError(f"{b.type} blocks belong in <image>/{IMAGE_FILE}, not in {PROJECT_FILE}",
                           f"{shown}:{b.line}")
    v, where = _apply(PROJECT_KEYS, body, shown, PROJECT_FILE, None)
    at = {k: str(w) for k, w in where.items()}
    return Project(
        registry=v["registry"], authors=v["authors"], source=v["source"],
        platforms=_platforms(v["platforms"], at.get("platforms", shown)),
        network=_network(v["network"], at.get("network", shown)),
        extra_hosts=v["extra_hosts"], debian_mirror=v["debian_mirror"], registry_cache=v["registry_cache"],
        file=shown, where={k: w for k, w in where.items() if isinstance(w, Where)},
    )


def _platforms(values: tuple[str, ...], where: str) -> tuple[str, ...]:
    if not values:
        raise BakegenError("platforms must not be empty", where)
    try:
        return tuple(sorted({canonical_platform(p) for p in values}))
    except BakegenError as e:
        raise BakegenError(e.message, where) from None


def _network(value: str, where: str) -> str:
    if value not in ("", "host", "none", "default"):
        raise BakegenError(f'network "{value}" must be "", "host", "none" or "default"', where)
    return value


def _images(folder: Path, body: hcl.Body, shown: str, project: Project) -> list[Image]:
    file = f"{shown}/{IMAGE_FILE}"
    if body.attributes:
        attr = next(iter(body.attributes.values()))
        raise BakegenError(f'unknown top-level key "{attr.name}": write image "NAME" {{ ... }}', f"{file}:{attr.line}")
    if not body.blocks:
        raise BakegenError('no image "NAME" { ... } block', file)
    images = []
    for block in body.blocks:
        at = f"{file}:{block.line}"
        if block.type != "image" or len(block.labels) != 1:
            raise BakegenError(f'expected image "NAME" {{ ... }}, got {block.type} with {len(block.labels)} labels', at)
        name = block.labels[0]
        if not _NAME.fullmatch(name):
            raise BakegenError(f'image name "{name}" must be lower-case letters, digits, "-" and "_"', at)
        images.append(_image(name, _kind(name, block, file), block, folder=folder, shown=shown, project=project))
    return images


def _kind(name: str, block: hcl.Block, file: str) -> Kind:
    attr = block.body.attributes.get("kind")
    kind = attr.expr.value if attr else None
    if kind not in KINDS:
        line = attr.line if attr else block.line
        raise BakegenError(f'image "{name}": kind must be one of {", ".join(KINDS)}, got {kind!r}'
                           + (did_you_mean(str(kind), KINDS) if kind else ""), f"{file}:{line}")
    return kind  # type: ignore[return-value]


def _envs(name: str, v: dict[str, Any], where: dict[str, Where | str]) -> tuple[str, ...]:
    if v["env"] is not None and v["envs"] is not None:
        raise BakegenError(f'image "{name}": set env or envs, not both', str(where["envs"]))
    if v["env"] is not None:
        where["envs"] = where["env"]
    envs: tuple[str, ...] = (v["env"],) if v["env"] is not None else (v["envs"] or DEFAULT_ENVS)
    bad = [e for e in envs if not _NAME.fullmatch(e)]
    if bad or not envs or len(set(envs)) != len(envs):
        what = f'env "{bad[0]}" must be lower-case letters, digits, "-" and "_"' if bad else (
            "envs must not be empty" if not envs else "an env is listed twice")
        raise BakegenError(f'image "{name}": {what}', str(where.get("envs", "")))
    return envs


Pairs = tuple[tuple[str, str], ...]


def _folders(contexts: Pairs, folder: Path, shown: str, where: str) -> Pairs:
    """Named build contexts (``bakegen-lib = "../lib"``): each must be a folder."""
    out = []
    for name, path in contexts:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", name):
            raise BakegenError(f'context name "{name}" must be lower-case letters, digits, ".", "-" and "_"', where)
        shown_path = posixpath.normpath(posixpath.join(shown, path))
        if not (folder / path).is_dir():
            raise BakegenError(f'context "{name}": {shown_path} is not a folder', where)
        out.append((name, shown_path))
    return tuple(out)


def _image(name: str, kind: Kind, block: hcl.Block, *, folder: Path, shown: str, project: Project) -> Image:
    file = f"{shown}/{IMAGE_FILE}"
    v, where = _apply({**COMMON_KEYS, **KIND_KEYS[kind]}, block.body, file, f'{kind} image "{name}"', block.line)
    where["image"] = Where(file, block.line)

    def at(key: str) -> str:
        return str(where.get(key) or where["image"])

    # Paths: the definition names them relative to its own folder; the bake file, relative to
    # where bake runs (the folder above the definitions).
    context_path = (folder / v["context"]).resolve()
    context = posixpath.normpath(posixpath.join(shown, v["context"]))
    if kind == "app" and "dockerfile" not in where and (context_path / "Dockerfile").is_file():
        dockerfile_path, dockerfile_shown = context_path / "Dockerfile", posixpath.join(context, "Dockerfile")
    else:
        dockerfile_path = folder / v["dockerfile"]
        dockerfile_shown = posixpath.normpath(posixpath.join(shown, v["dockerfile"]))
    if not dockerfile_path.is_file():
        raise BakegenError(f'image "{name}": Dockerfile {dockerfile_shown} does not exist', at("dockerfile"))
    declared, required = declared_args(dockerfile_path.read_text(encoding="utf-8", errors="replace"))
    kw = {k: v[k] for k in KIND_KEYS[kind] if k not in ("env", "envs", "go_checksums", "protoc_checksums")}
    if kind == "app":
        kw["envs"] = _envs(name, v, where)
        configs = [v["config"].replace("{env}", e) for e in kw["envs"]]
        kw["context_files"] = frozenset(c for c in configs if (context_path / c).is_file())
        kw["context_present"] = context_path.is_dir()
    return Image(
        name=name, kind=kind, folder=shown, repository=v["repository"], description=v["description"],
        context=context, dockerfile=posixpath.relpath(dockerfile_shown, context),
        dockerfile_args=declared, dockerfile_required_args=required,
        platforms=_platforms(v["platforms"], at("platforms")) if v["platforms"] is not None else project.platforms,
        pull=v["pull"], provenance=v["provenance"],
        network=project.network if v["network"] is None else _network(v["network"], at("network")),
        extra_hosts=project.extra_hosts if v["extra_hosts"] is None else v["extra_hosts"],
        registry_cache=project.registry_cache if v["registry_cache"] is None else v["registry_cache"],
        go_checksums=v.get("go_checksums", ()), protoc_checksums=v.get("protoc_checksums", ()),
        folders=_folders(v["contexts"], folder, shown, at("contexts")),
        where=where, **kw,
    )
