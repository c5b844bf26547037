"""Reading the image definitions (HCL) into the validated model, with file:line in every error.

Layout of a definitions folder (``bake/`` in the repository, or the built-in copy in the package):

    bakegen.hcl            project settings (registry, platforms, network, ...)
    <image>/image.hcl      one ``image "<image>" { ... }`` block
    <image>/Dockerfile     the image's Dockerfile (the app may bring its own in its context)

python-hcl2 is slow to import and to parse (see ``hclcache``), so parsed files are cached by
content; the HCL files stay the source of truth.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from importlib import resources
from pathlib import Path
from typing import Any, Callable

from . import hclcache
from .errors import BakegenError, did_you_mean
from .model import Definitions, Image, Project, Where
from .platforms import canonical_platform

PROJECT_FILE = "bakegen.hcl"
IMAGE_FILE = "image.hcl"
KINDS = ("toolchain", "runtime", "app")


def builtin_dir() -> Path:
    """The definitions shipped with bakegen: ``bakegen/bake`` in a wheel, ``bake/`` in a checkout."""
    return _resource("bake")


def _resource(name: str) -> Path:
    here = Path(__file__).resolve().parent
    packaged = here / name
    return packaged if packaged.is_dir() else here.parent / name


def default_dir(cwd: Path) -> tuple[Path, str]:
    """``./bake`` when it holds definitions, else the built-in ones (shown as ``bake``)."""
    local = cwd / "bake"
    if (local / PROJECT_FILE).is_file():
        return local, "bake"
    return builtin_dir(), "bake"


# ---------------------------------------------------------------- schema
def _str(v, key):
    if isinstance(v, bool) or not isinstance(v, (str, int, float)):
        raise TypeError(f"{key} must be a string")
    return str(v)


def _bool(v, key):
    if not isinstance(v, bool):
        raise TypeError(f"{key} must be true or false")
    return v


def _int(v, key):
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{key} must be a whole number")
    return v


def _strs(v, key):
    if not isinstance(v, list):
        raise TypeError(f"{key} must be a list of strings")
    return tuple(_str(x, key) for x in v)


def _map(v, key):
    if not isinstance(v, dict):
        raise TypeError(f"{key} must be a map of strings")
    return tuple(sorted((str(k), _str(x, key)) for k, x in v.items()))


def _map_of_maps(v, key):
    if not isinstance(v, dict) or not all(isinstance(x, dict) for x in v.values()):
        raise TypeError(f'{key} must be a map of maps, like {{ "1.24.99" = {{ "linux-amd64" = "<sha256>" }} }}')
    return tuple(sorted((str(k), _map(x, key)) for k, x in v.items()))


PROJECT_KEYS: dict[str, tuple[Callable, Any]] = {
    "registry": (_str, None),
    "authors": (_str, ""),
    "source": (_str, ""),
    "platforms": (_strs, ("linux/amd64", "linux/arm64")),
    "network": (_str, ""),
    "extra_hosts": (_map, ()),
    "debian_mirror": (_str, "http://deb.debian.org"),
    "registry_cache": (_bool, False),
}

COMMON_KEYS: dict[str, tuple[Callable, Any]] = {
    "kind": (_str, None),
    "repository": (_str, None),
    "description": (_str, ""),
    "context": (_str, "."),
    "dockerfile": (_str, "Dockerfile"),
    "platforms": (_strs, None),  # None: the project's
    "pull": (_bool, True),
    "provenance": (_bool, False),
    "network": (_str, None),
    "extra_hosts": (_map, None),
    "registry_cache": (_bool, None),
}
KIND_KEYS: dict[str, dict[str, tuple[Callable, Any]]] = {
    "toolchain": {
        "versions": (_strs, None),
        "variants": (_strs, ("bullseye",)),
        "aliases": (_strs, ("minor",)),
        "base_image": (_str, "debian:{suite}-slim"),
        "go_download_url": (_str, "https://dl.google.com/go"),
        "goproxy": (_str, "https://proxy.golang.org,direct"),
        "gosumdb": (_str, "sum.golang.org"),
        "protoc_version": (_str, ""),
        "protoc_download_url": (_str, "https://github.com/protocolbuffers/protobuf/releases/download"),
        "tools": (_strs, ()),
        "go_checksums": (_map_of_maps, ()),
        "protoc_checksums": (_map_of_maps, ()),
    },
    "runtime": {
        "variants": (_strs, ("bullseye",)),
        "base_image": (_str, "debian:{suite}-slim"),
        "tag_prefix": (_str, ""),
    },
    "app": {
        "env": (_str, "dev"),
        "toolchain": (_str, ""),
        "toolchain_version": (_str, ""),
        "toolchain_variant": (_str, ""),
        "runtime": (_str, ""),
        "runtime_variant": (_str, ""),
        "latest_envs": (_strs, ("prd",)),
        "latest_branches": (_strs, ("main", "master")),
        "short_length": (_int, 7),
        "main_package": (_str, "."),
    },
}
_REPOSITORY_FIELDS = {"app", "env"}


# ---------------------------------------------------------------- reading
def load(folder: Path, shown_as: str, cwd: Path | None = None) -> Definitions:
    """Read and validate every definition in ``folder``. ``shown_as`` is the folder's name in the
    bake file and in messages (``bake``), so the output does not depend on where bakegen runs."""
    folder = Path(folder)
    project_path = folder / PROJECT_FILE
    if not project_path.is_file():
        raise BakegenError(f"no {PROJECT_FILE} in definitions folder {folder}")
    paths = [(project_path, f"{shown_as}/{PROJECT_FILE}")] + [
        (p, f"{shown_as}/{p.parent.name}/{IMAGE_FILE}") for p in sorted(folder.glob(f"*/{IMAGE_FILE}"))]
    texts = [_read(path, shown) for path, shown in paths]
    parsed = hclcache.parse_all(list(zip(texts, (shown for _, shown in paths))))
    project = _project(texts[0], parsed[0], paths[0][1])
    images = []
    for (path, shown), text, raw in zip(paths[1:], texts[1:], parsed[1:]):
        folder_shown = shown.removesuffix(f"/{IMAGE_FILE}")
        images.extend(_images(path, text, raw, folder_shown, project, cwd or Path.cwd()))
    if not images:
        raise BakegenError(f"no */{IMAGE_FILE} definitions in {folder}")
    names = [i.name for i in images]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise BakegenError(f'image "{dupes[0]}" is defined twice')
    go, protoc = _checksums(images)
    return Definitions(project, tuple(images), go, protoc)


def _read(path: Path, shown: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise BakegenError(f"cannot read: {e}", shown) from None


def _find_line(lines: list[str], pattern: str, start: int = 0) -> int | None:
    """The 1-based number of the first line from ``start`` (0-based) that matches ``pattern`` at
    the nesting depth where the search began; None past the end of that block."""
    rx = re.compile(pattern)
    depth = 0
    for i in range(start, len(lines)):
        line = lines[i]
        if depth == 0 and rx.match(line):
            return i + 1
        depth += line.count("{") - line.count("}")
        if depth < 0:
            return None
    return None


def _attr_where(lines, shown, key, block_line=None) -> Where:
    """Where attribute ``key`` is set: in the block that starts on line ``block_line``, or at the
    top of the file. python-hcl2 gives values without positions, so the source is searched."""
    n = _find_line(lines, rf'^\s*"?{re.escape(key)}"?\s*=', block_line or 0)
    return Where(shown, n or (block_line or 1))


def _unescape(value: Any, where: Where, key: str):
    """python-hcl2 leaves ``$${`` and ``%%{`` as written; an unescaped ``${`` is an expression,
    which definitions do not evaluate."""
    if isinstance(value, str):
        bare = value.replace("$${", "").replace("%%{", "")
        if "${" in bare or "%{" in bare:
            raise BakegenError(f'{key}: expressions and "${{...}}" interpolation are not supported in '
                               f"definitions (write $${{ for a literal ${{): {value!r}", str(where))
        return value.replace("$${", "${").replace("%%{", "%{")
    if isinstance(value, list):
        return [_unescape(v, where, key) for v in value]
    if isinstance(value, dict):
        return {_unescape(k, where, key): _unescape(v, where, key) for k, v in value.items()
                if k != "__is_block__"}
    return value


def _apply(schema, raw: dict, lines, shown, block_line, what: str) -> tuple[dict, dict[str, Where]]:
    values, where = {}, {}
    for key, value in raw.items():
        if key == "__is_block__":
            continue
        w = _attr_where(lines, shown, key, block_line)
        if key not in schema:
            raise BakegenError(f'unknown key "{key}" in {what}{did_you_mean(key, schema)}', str(w))
        conv = schema[key][0]
        try:
            values[key] = conv(_unescape(value, w, key), key)
        except TypeError as e:
            raise BakegenError(f"{e}, got {value!r}", str(w)) from None
        where[key] = w
    for key, (_, default) in schema.items():
        if key not in values:
            if default is None and key in ("registry", "kind", "repository", "versions"):
                raise BakegenError(f'{what} has no "{key}"', shown + (f":{block_line}" if block_line else ""))
            values[key] = default
    return values, where


def _project(text: str, raw: dict, shown: str) -> Project:
    lines = text.splitlines()
    if "image" in raw:
        raise BakegenError(f"image blocks belong in <image>/{IMAGE_FILE}, not in {PROJECT_FILE}", shown)
    v, where = _apply(PROJECT_KEYS, raw, lines, shown, None, PROJECT_FILE)
    return Project(
        registry=v["registry"], authors=v["authors"], source=v["source"],
        platforms=_platforms(v["platforms"], where.get("platforms", Where(shown, 1))),
        network=_network(v["network"], where.get("network")),
        extra_hosts=v["extra_hosts"], debian_mirror=v["debian_mirror"], registry_cache=v["registry_cache"], where=where,
    )


def _platforms(values, where) -> tuple[str, ...]:
    if not values:
        raise BakegenError("platforms must not be empty", str(where))
    try:
        return tuple(sorted({canonical_platform(p) for p in values}))
    except BakegenError as e:
        raise BakegenError(e.message, str(where)) from None


def _network(value, where) -> str:
    if value not in ("", "host", "none", "default"):
        raise BakegenError(f'network "{value}" must be "", "host", "none" or "default"', str(where))
    return value


def _images(path: Path, text: str, raw: dict, folder: str, project: Project, cwd: Path) -> list[Image]:
    shown = f"{folder}/{IMAGE_FILE}"
    lines = text.splitlines()
    unknown = [k for k in raw if k != "image"]
    if unknown:
        raise BakegenError(f'unknown top-level key "{unknown[0]}": write image "NAME" {{ ... }}',
                           str(_attr_where(lines, shown, unknown[0])))
    blocks = raw.get("image", [])
    if not blocks:
        raise BakegenError('no image "NAME" { ... } block', shown)
    images = []
    for block in blocks:
        ((name, body),) = block.items()
        name = name.strip('"')
        block_line = _find_line(lines, rf'^\s*image\s+"{re.escape(name)}"\s*\{{') or 1
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
            raise BakegenError(f'image name "{name}" must be lower-case letters, digits, "-" and "_"',
                               f"{shown}:{block_line}")
        kind = body.get("kind")
        if kind not in KINDS:
            w = _attr_where(lines, shown, "kind", block_line) if "kind" in body else Where(shown, block_line)
            raise BakegenError(f'image "{name}": kind must be one of {", ".join(KINDS)}, got {kind!r}'
                               + (did_you_mean(str(kind), KINDS) if kind else ""), str(w))
        schema = {**COMMON_KEYS, **KIND_KEYS[kind]}
        v, where = _apply(schema, body, lines, shown, block_line, f'{kind} image "{name}"')
        where["image"] = Where(shown, block_line)
        images.append(_image(name, kind, v, where, path.parent, folder, project, cwd))
    return images


def _image(name, kind, v, where, folder_path: Path, folder: str, project: Project, cwd: Path) -> Image:
    at = lambda key: str(where.get(key) or where["image"])  # noqa: E731
    # Paths: the definition names them relative to its own folder; the bake file, relative to
    # where bake runs (the folder above the definitions).
    context_path = (folder_path / v["context"]).resolve()
    context = posixpath.normpath(posixpath.join(folder, v["context"]))
    if kind == "app" and "dockerfile" not in where and (context_path / "Dockerfile").is_file():
        dockerfile_path, dockerfile_shown = context_path / "Dockerfile", posixpath.join(context, "Dockerfile")
    else:
        dockerfile_path = folder_path / v["dockerfile"]
        dockerfile_shown = posixpath.normpath(posixpath.join(folder, v["dockerfile"]))
    if not dockerfile_path.is_file():
        raise BakegenError(f'image "{name}": Dockerfile {dockerfile_shown} does not exist', at("dockerfile"))
    declared, required = dockerfile_args(dockerfile_path.read_text(encoding="utf-8", errors="replace"))
    config_files: frozenset[str] = frozenset()
    config_dir = ""
    if kind == "app" and (context_path / "etc").is_dir():
        config_dir = posixpath.join(context, "etc")
        config_files = frozenset(p.name for p in (context_path / "etc").iterdir())

    repository = v["repository"]
    if kind == "app":
        fields = set(re.findall(r"\{(\w*)\}", repository))
        if fields - _REPOSITORY_FIELDS:
            raise BakegenError(f'repository "{repository}": unknown field {{{sorted(fields - _REPOSITORY_FIELDS)[0]}}}; '
                               "known: {app}, {env}", at("repository"))
    platforms = (_platforms(v["platforms"], where["platforms"]) if v["platforms"] is not None
                 else project.platforms)
    network = project.network if v["network"] is None else _network(v["network"], where.get("network"))
    extra_hosts = project.extra_hosts if v["extra_hosts"] is None else v["extra_hosts"]
    kw = {k: v[k] for k in KIND_KEYS[kind]}
    return Image(
        name=name, kind=kind, folder=folder, repository=repository, description=v["description"],
        context=context, dockerfile=posixpath.relpath(dockerfile_shown, context),
        dockerfile_args=frozenset(declared), dockerfile_required_args=frozenset(required),
        platforms=platforms, pull=v["pull"], provenance=v["provenance"], network=network,
        extra_hosts=extra_hosts, registry_cache=project.registry_cache if v["registry_cache"] is None else v["registry_cache"],
        config_dir=config_dir, config_files=config_files, where=where, **kw,
    )


_ARG = re.compile(r"^\s*ARG\s+(.+?)\s*$", re.IGNORECASE | re.MULTILINE)


def dockerfile_args(text: str) -> tuple[set[str], set[str]]:
    """Names of the ``ARG``s a Dockerfile declares, and those without a default anywhere."""
    text = re.sub(r"\\\n", " ", text)
    declared, defaulted = set(), set()
    for m in _ARG.finditer(text):
        for item in m.group(1).split():
            name, eq, _ = item.partition("=")
            if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                declared.add(name)
                if eq:
                    defaulted.add(name)
    builtin = {"TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT", "BUILDPLATFORM",
               "BUILDOS", "BUILDARCH", "BUILDVARIANT", "SOURCE_DATE_EPOCH"}
    return declared - builtin, declared - defaulted - builtin


def _checksums(images) -> tuple[dict, dict]:
    """Published checksums bakegen ships, plus what the definitions add (never different ones)."""
    go = _packaged("go-sha256.json")
    protoc = _packaged("protoc-sha256.json")
    for image in images:
        for table, extra, key in ((go, image.go_checksums, "go_checksums"),
                                  (protoc, image.protoc_checksums, "protoc_checksums")):
            for version, files in extra:
                known = table.setdefault(version, {})
                for file, sha in files:
                    if not re.fullmatch(r"[0-9a-f]{64}", sha):
                        raise BakegenError(f'{key}: "{version}" "{file}" = "{sha}" is not a sha256 '
                                           "(64 lower-case hex digits)", image.at(key))
                    if known.get(file, sha) != sha:
                        raise BakegenError(f'{key}: "{version}" "{file}" = "{sha}" differs from the '
                                           f"published checksum {known[file]}", image.at(key))
                    known[file] = sha
    return go, protoc


def _packaged(name: str) -> dict[str, dict[str, str]]:
    data = json.loads(resources.files("bakegen").joinpath("data", name).read_text(encoding="utf-8"))
    return {v: dict(files) for v, files in data["versions"].items()}


def relative_to_cwd(path: Path, cwd: Path) -> str:
    try:
        return os.path.relpath(path, cwd).replace(os.sep, "/")
    except ValueError:
        return str(path)
