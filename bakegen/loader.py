"""Every read bakegen makes: the definitions folder into the validated model (with file:line in
every error), its Dockerfiles' ARGs, the checksum tables (shipped data, lock file, definitions),
the packaged templates and the built-in files ``init`` copies. The pure modules get what this
reads; nothing else opens a file.

Layout of a definitions folder (``bake/`` in a repository, or the built-in copy in the package):

    bakegen.hcl            project settings (registry, platforms, network, ...)
    <image>/image.hcl      one or more ``image "<name>" { ... }`` blocks
    <image>/Dockerfile     the image's Dockerfile (an app may bring its own in its context)
    bakegen-lock.json      checksums written by ``bakegen lock`` (optional)

HCL is read by ``hcl`` exactly as Go's HCL (buildx's parser) reads it, or refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from . import dockerignore, hcl
from .checksums import LOCK_FILE, Checksums, Table, definition_checksums, merge, parse_lock
from .dockerargs import declared_args
from .errors import BakegenError, did_you_mean
from .keys import File
from .model import App, Definitions, Image, Listing, Project, Runtime, Toolchain
from .platforms import canonical_platform
from .schema import (
    COMMON_KEYS,
    DEFAULT_ENVS,
    GENERATED_ARGS,
    IMAGE_FILE,
    KIND_KEYS,
    KINDS,
    LATEST_ENVS,
    PROJECT_FILE,
    PROJECT_KEYS,
    REQUIRED,
    Keys,
    Plain,
    check_name,
    fill,
    hcl_value,
)
from .tags import check_registry

if TYPE_CHECKING:
    import jinja2

INIT_HINT = "`bakegen init` writes definitions for this repository (`bakegen init --app NAME` for a service)"
TYPES: dict[str, type[Image]] = {"toolchain": Toolchain, "runtime": Runtime, "app": App}
_HERE = Path(__file__).resolve().parent


def package_path(name: str) -> Path:
    """``templates`` or ``bake``: the packaged folder when installed, else the checkout's."""
    packaged = _HERE / name
    return packaged if packaged.is_dir() else _HERE.parent / name


def read_text(path: Path, shown: str | None = None) -> str | None:
    """A file's text, or None when it does not exist; a bad byte is blamed by file:line."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise BakegenError(f"cannot read: {e.strerror or e}", shown or str(path)) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        where, line = shown or str(path), data.count(b"\n", 0, e.start) + 1
        raise BakegenError(f"not UTF-8 text (byte 0x{data[e.start]:02x})", f"{where}:{line}") from None


def read_source(path: Path) -> str:
    """A source file's text for reading its imports: a byte that is not UTF-8 as U+FFFD (the Go
    parser's reading of it does not matter: a file it cannot parse counts whole); "" when it is
    gone or cannot be read."""
    try:
        return Path(path).read_bytes().decode("utf-8", "replace")
    except OSError:
        return ""


class Folder(NamedTuple):
    path: Path
    shown: str  # the folder's name in the bake file and in messages
    builtin: bool  # bakegen's own example definitions


def definitions_folder(cwd: Path, given: Path | None, source: str = "--definitions") -> Folder:
    """``given``, else ``./bake`` when it holds definitions, else the built-in ones."""
    if given is not None:
        if not (given / PROJECT_FILE).is_file():
            raise BakegenError(f"no {PROJECT_FILE} there; {INIT_HINT}", source)
        try:
            shown = os.path.relpath(given.resolve(), cwd).replace(os.sep, "/")
        except ValueError:
            shown = str(given)
        return Folder(given, shown, False)
    local = cwd / "bake"
    if (local / PROJECT_FILE).is_file():
        return Folder(local, "bake", False)
    if local.is_dir():
        raise BakegenError(f"bake/ has no {PROJECT_FILE}, so it holds no definitions bakegen reads; {INIT_HINT}")
    return Folder(package_path("bake"), "bake", True)


# ---------------------------------------------------------------- definitions
def _parse(path: Path, shown: str) -> hcl.Body:
    text = read_text(path, shown)
    if text is None:
        raise BakegenError("does not exist", shown)
    return hcl.parse(text, shown)


def load(folder: Path, shown: str) -> Definitions:
    """Read and validate every definition in ``folder``. ``shown`` is the folder's name in the
    bake file and in messages (``bake``), so the output does not depend on where bakegen runs."""
    project = _project(_parse(folder / PROJECT_FILE, f"{shown}/{PROJECT_FILE}"), f"{shown}/{PROJECT_FILE}")
    _unread(folder, shown)
    images: list[Image] = []
    for path in sorted(folder.glob(f"*/{IMAGE_FILE}")):
        sub = f"{shown}/{path.parent.name}"
        images.extend(_images(path.parent, _parse(path, f"{sub}/{IMAGE_FILE}"), sub, project))
    if not images:
        raise BakegenError(f"no */{IMAGE_FILE} definitions in {folder}; {INIT_HINT}")
    names = [i.name for i in images]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise BakegenError(f'image "{dupes[0]}" is defined twice')
    go, protoc = offline_tables(folder, images_checksums(images), shown)
    return Definitions(project=project, images=tuple(images), checksums_go=go, checksums_protoc=protoc, folder=shown)


def _unread(folder: Path, shown: str) -> None:
    """A file that looks like a definition but is not where bakegen reads one is an error: the
    image it defines would silently never be built."""
    for path in glob(folder, "**/*.hcl"):
        rel = path.relative_to(folder)
        if rel.as_posix() != PROJECT_FILE and not (len(rel.parts) == 2 and rel.name == IMAGE_FILE):
            raise BakegenError(f"{shown}/{rel.as_posix()} is not read: bakegen reads {shown}/{PROJECT_FILE} and one "
                               f"{IMAGE_FILE} per image folder ({shown}/<image>/{IMAGE_FILE}); move its blocks "
                               "there")


def _apply(schema: Keys, body: hcl.Body, shown: str, what: str,
           block_line: int | None) -> tuple[dict[str, Any], dict[str, str]]:
    values: dict[str, Any] = {}
    where: dict[str, str] = {}
    for key, attr in body.attributes.items():
        at = f"{shown}:{attr.line}"
        if key not in schema:
            raise BakegenError(f'unknown key "{key}" in {what}{did_you_mean(key, schema)}', at)
        if attr.expr.value is None:
            continue  # `key = null` means unset, as bake reads it
        try:
            values[key] = schema[key][0](attr.expr.value, key)
        except Plain as e:
            raise BakegenError(str(e), at) from None
        except TypeError as e:
            raise BakegenError(f"{e}, got {hcl_value(attr.expr.value)}", at) from None
        where[key] = at
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
    v["platforms"] = _platforms(v["platforms"], where.get("platforms", shown))
    v["network"] = _network(v["network"], where.get("network", shown))
    v["registry"] = check_registry(v["registry"], where.get("registry", shown))
    return Project(**v, file=shown, where=where)


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
        name = check_name(block.labels[0], "image name", at)
        images.append(_image(name, _kind(name, block, file), block, folder=folder, shown=shown, project=project))
    return images


def _kind(name: str, block: hcl.Block, file: str) -> str:
    attr = block.body.attributes.get("kind")
    kind = attr.expr.value if attr else None
    if kind not in KINDS:
        line = attr.line if attr else block.line
        raise BakegenError(f'image "{name}": kind must be one of {", ".join(KINDS)}, got {kind!r}'
                           + (did_you_mean(str(kind), KINDS) if kind else ""), f"{file}:{line}")
    return str(kind)


def _envs(name: str, v: dict[str, Any], where: dict[str, str]) -> tuple[str, ...]:
    env, envs = v.pop("env"), v["envs"]
    if env is not None and envs is not None:
        raise BakegenError(f'image "{name}": set env or envs, not both', where["envs"])
    if env is not None:
        where["envs"] = where["env"]
    envs = (env,) if env is not None else (envs or DEFAULT_ENVS)
    if not envs or len(set(envs)) != len(envs):
        raise BakegenError(f'image "{name}": ' + ("envs must not be empty" if not envs else "an env is listed twice"),
                           where.get("envs"))
    for e in envs:
        check_name(e, f'image "{name}": env', where.get("envs"))
    return tuple(envs)


def _folders(contexts: tuple[tuple[str, str], ...], shown: str, where: str) -> tuple[tuple[str, str], ...]:
    """Named build contexts (``bakegen-lib = "../lib"``), as the bake file names them."""
    for name, _ in contexts:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", name):
            raise BakegenError(f'context name "{name}" must be lower-case letters, digits, ".", "-" and "_"', where)
    return tuple((name, posixpath.normpath(posixpath.join(shown, path))) for name, path in contexts)


def _image(name: str, kind: str, block: hcl.Block, *, folder: Path, shown: str, project: Project) -> Image:
    file = f"{shown}/{IMAGE_FILE}"
    v, where = _apply({**COMMON_KEYS, **KIND_KEYS[kind]}, block.body, file, f'{kind} image "{name}"', block.line)
    where["image"] = f"{file}:{block.line}"
    del v["kind"]
    # Paths: the definition names them relative to its own folder; the bake file, relative to
    # where bake runs (the folder above the definitions).
    context_path = (folder / v["context"]).resolve()
    context = posixpath.normpath(posixpath.join(shown, v["context"]))
    if v["dockerfile"] is None:  # an app that builds with the Dockerfile bakegen generates
        if (folder / "Dockerfile").is_file():
            raise BakegenError(f'{shown}/Dockerfile is not used: app "{name}" builds with the Dockerfile bakegen '
                               'generates (in the bake file); delete it, or set dockerfile = "Dockerfile" to build '
                               "with yours", where["image"])
        v.update(dockerfile="", dockerfile_args=GENERATED_ARGS,
                 dockerfile_required_args=frozenset({"TOOLCHAIN_IMAGE", "RUNTIME_IMAGE"}))
    else:
        shown_file = posixpath.normpath(posixpath.join(shown, v["dockerfile"]))
        text = read_text(folder / v["dockerfile"], shown_file) if (folder / v["dockerfile"]).is_file() else None
        if text is None:
            raise BakegenError(f'image "{name}": Dockerfile {shown_file} does not exist',
                               where.get("dockerfile", where["image"]))
        v["dockerfile_args"], v["dockerfile_required_args"] = declared_args(text)
        v["dockerfile"] = posixpath.relpath(shown_file, context)
    if kind == "app":
        _app_values(name, v, where, context_path, shown_context=context, main_branches=project.main_branches)

    def inherit(key: str, check: Any = None) -> Any:
        value = getattr(project, key) if v[key] is None else v[key]
        return check(value, where.get(key, where["image"])) if check and v[key] is not None else value

    v.update(platforms=inherit("platforms", _platforms), network=inherit("network", _network),
             extra_hosts=inherit("extra_hosts"), registry_cache=inherit("registry_cache"),
             folders=_folders(v.pop("contexts"), shown, where.get("contexts", where["image"])), context=context)
    return TYPES[kind](name=name, folder=shown, where=where, **v)


def _app_values(name: str, v: dict[str, Any], where: dict[str, str], context: Path, *, shown_context: str,
                main_branches: tuple[str, ...]) -> None:
    """An app's envs and the defaults that depend on them, and what of its context generation
    checks: each env's config file, go.mod (and go.sum) and its ``go`` line, the main package's
    .go files and those of ``cmd/<app>`` (the package an app of that name usually builds). A file
    the context's .dockerignore leaves out of the build is an error here: the build would not see
    it."""
    v["envs"] = _envs(name, v, where)
    if v["latest_envs"] is None:
        v["latest_envs"] = tuple(e for e in v["envs"] if e in LATEST_ENVS)
    if v["latest_branches"] is None:
        v["latest_branches"] = main_branches
    owned = dict(v["env_branches"] or ())
    stray = sorted(set(owned) - set(v["envs"]))
    if stray:
        raise BakegenError(f'image "{name}": env_branches names env "{stray[0]}", which is not one of its envs '
                           f'({", ".join(v["envs"])})', where.get("env_branches"))
    v["env_branches"] = tuple((e, owned.get(e, ("*",) if i == 0 and not v["env_branches"] else
                                            () if v["env_branches"] else main_branches))
                              for i, e in enumerate(v["envs"]))
    wanted = {posixpath.normpath(fill(v["config"], "config", where.get("config"), env=e, app=name)): e
              for e in v["envs"] if v["config"]}
    needed = {c for c in [*wanted, "go.mod", "go.sum"] if (context / c).is_file()}
    found = set(needed)
    for folder in ((context / v["main_package"]).resolve(), context / "cmd" / name):
        if folder.is_dir() and folder.resolve().is_relative_to(context):
            go = {p.relative_to(context).as_posix() for p in glob(folder, "*.go")}
            found |= go
            if folder == (context / v["main_package"]).resolve():
                needed |= go
    v["context_files"], v["context_present"] = frozenset(found), context.is_dir()
    mod = go_mod(context, shown_context)
    v["go_version"], v["go_version_at"] = (mod.go, mod.go_at) if mod else ("", "")
    _check_sent(v, where, context, shown_context, wanted=wanted, found=needed)


def _check_sent(v: dict[str, Any], where: dict[str, str], folder: Path, shown: str, *, wanted: dict[str, str],
                found: set[str]) -> None:
    """A file the build needs (``found``: configs, go.mod, go.sum, the main package's .go files)
    that the context's .dockerignore leaves out is an error: the build would not see it."""
    text = read_text(folder / ".dockerignore", f"{shown}/.dockerignore") if v["context_present"] else None
    patterns = dockerignore.parse(text, f"{shown}/.dockerignore") if text else ()
    for path in sorted(f for f in found if not f.endswith("_test.go")):  # tests are not built
        pattern = _hidden_by(patterns, path)
        if pattern is None:
            continue
        env = wanted.get(path)
        why, key = (f"env {env!r} needs it (config = {v['config']!r}): the image would start without it",
                    "envs" if "envs" in where else "config") if env else \
            ("the build needs the Go module", "context") if path == "go.mod" else \
            ("the build verifies the modules with it", "context") if path == "go.sum" else \
            ("the build compiles the main package from it", "main_package")
        raise BakegenError(f"{shown}/{path} is left out of the build context by {pattern.where} "
                           f"({'!' if pattern.exclusion else ''}{pattern.text}): {why}; change the .dockerignore",
                           where.get(key, where["image"]))


def _hidden_by(patterns: Sequence[dockerignore.Pattern], path: str) -> dockerignore.Pattern | None:
    """The .dockerignore pattern that leaves ``path`` out of the build context (the last one that
    turned it from sent to left out); None when the build sees it."""
    if not dockerignore.excluded(patterns, path):
        return None
    return next(patterns[n] for n in range(len(patterns) - 1, -1, -1) if not dockerignore.excluded(patterns[:n], path))


# ---------------------------------------------------------------- checksums
def shipped_checksums() -> list[Checksums]:
    """The published checksums bakegen ships (``bakegen/data``)."""
    return [Checksums(f"bakegen/data/{name}", **{key: data_json(name)["versions"]})
            for name, key in (("go-sha256.json", "go"), ("protoc-sha256.json", "protoc"))]


def read_lock(path: Path, shown: str | None = None) -> Checksums:
    """The lock file's checksums; none when there is no lock file."""
    shown = shown or str(path)
    return parse_lock(read_text(path, shown), shown)


def images_checksums(images: Sequence[Image]) -> list[Checksums]:
    """The checksums every toolchain definition adds."""
    return [c for i in images if isinstance(i, Toolchain) for c in definition_checksums(
        i.name, i.go_checksums, i.at("go_checksums"), i.protoc_checksums, i.at("protoc_checksums"))]


def offline_tables(folder: Path, definitions: Sequence[Checksums] = (),
                   shown: str | None = None) -> tuple[Table, Table]:
    """What every run knows without the network: shipped data, ``<folder>/bakegen-lock.json`` and
    the definitions' checksums, merged (``shown``: the folder as messages name it)."""
    lock_file = read_lock(folder / LOCK_FILE, f"{shown}/{LOCK_FILE}" if shown else None)
    return merge([*shipped_checksums(), lock_file, *definitions])


# ---------------------------------------------------------------- packaged files
def docker_config() -> dict[str, Any]:
    """The docker CLI's config file ($DOCKER_CONFIG/config.json): where ``docker login`` keeps
    credentials; empty when there is none or it cannot be read."""
    folder = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return config if isinstance(config, dict) else {}


def data_json(name: str) -> Any:
    """A file of ``bakegen/data/``, parsed."""
    return json.loads((_HERE / "data" / name).read_text(encoding="utf-8"))


@cache
def templates() -> jinja2.Environment:
    """The Jinja2 environment of bakegen's templates (with ``render``'s filters), its compiled
    templates cached in a private folder (``cache``)."""
    import jinja2

    from .cache import bytecode_cache
    from .render import FILTERS

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(package_path("templates"))),
        bytecode_cache=bytecode_cache(jinja2.__version__),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True, autoescape=False,
    )
    env.filters.update(FILTERS)
    return env


def glob(folder: Path, pattern: str) -> list[Path]:
    """The paths below ``folder`` that match ``pattern``, sorted."""
    return sorted(folder.glob(pattern))


def has_main(folder: Path) -> bool:
    """Whether a .go file of ``folder`` (not a test) says ``package main``."""
    return any(re.search(r"(?m)^package main\b", read_text(p) or "") for p in glob(folder, "*.go")
               if not p.name.endswith("_test.go"))


def main_packages(context: Path) -> list[str]:
    """The folders of a service's source that hold a main package, relative to it: the top folder
    (``.``) and each ``cmd/*``; what ``init --app`` chooses from."""
    return [p.relative_to(context).as_posix() or "." for p in [context, *glob(context, "cmd/*")]
            if p.is_dir() and has_main(p)]


class GoMod(NamedTuple):
    """What a module's go.mod says about the Go that builds it: its ``go`` line (``1.27``; "" when
    it has none) and where that line is, and its ``toolchain`` directive (``go1.27.3``, or "")."""

    go: str
    go_at: str  # "svc/go.mod:3"
    toolchain: str


_GO_DIRECTIVE = re.compile(r"^[ \t]*(go|toolchain)[ \t]+([^\s/]+)", re.M)


def go_mod(context: Path, shown: str) -> GoMod | None:
    """The ``go`` and ``toolchain`` lines of ``context/go.mod`` (``shown``: the context as messages
    name it); None when there is no go.mod."""
    file = "go.mod" if shown == "." else f"{shown}/go.mod"
    text = read_text(context / "go.mod", file)
    if text is None:
        return None
    found = {m[1]: m for m in reversed(list(_GO_DIRECTIVE.finditer(text)))}
    go, toolchain = found.get("go"), found.get("toolchain")
    return GoMod(go[2] if go else "", f"{file}:{text.count(chr(10), 0, go.start()) + 1}" if go else "",
                 toolchain[2] if toolchain else "")


def context_files(folder: Path, shown: str, listing: Listing,
                  hashes: dict[Path, tuple[str, str]] | None = None) -> list[File]:
    """Every file of a build context that the build sees (its ``.dockerignore`` applied as
    BuildKit applies it), with its mode and content id: git's blob id for a file git vouches for,
    else the sha256 of what is on disk (changed, untracked and ignored files: the build sends
    them too), read once per run when ``hashes`` is the run's memo."""
    text = read_text(folder / ".dockerignore", f"{shown}/.dockerignore")
    patterns = dockerignore.parse(text, f"{shown}/.dockerignore") if text else ()
    found = {p: (m, f"git:{blob}") for p, (m, blob) in listing.tracked.items() if p not in listing.deleted}
    memo = {} if hashes is None else hashes
    for path in ("",) if listing.whole else listing.unsure:
        if path.endswith("/") and dockerignore.prunable_dir(patterns, path.rstrip("/")):
            continue
        below = [path] if path and not path.endswith("/") else [
            p.relative_to(folder).as_posix() for p in glob(folder, path + "**/*") if p.is_file() or p.is_symlink()]
        for rel in below:
            if (folder / rel) not in memo:
                memo[folder / rel] = _on_disk(folder / rel)
            found[rel] = memo[folder / rel]
    return [File(p, *found[p]) for p in dockerignore.visible(patterns, found)]


def _on_disk(path: Path) -> tuple[str, str]:
    if path.is_symlink():
        return "120000", "sha256:" + hashlib.sha256(os.fsencode(os.readlink(path))).hexdigest()
    mode = "100755" if path.stat().st_mode & 0o111 else "100644"
    return mode, "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def folder_files(folder: Path) -> dict[str, str]:
    """Every file directly in ``folder``, by name: what ``init`` copies from the built-in images."""
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir()) if p.is_file()}
