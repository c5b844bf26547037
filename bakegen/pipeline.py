"""The pipeline every command runs, top to bottom:

    load(choices)                -> Definitions   loader: reads bake/ (every read is there)
    plan(definitions, choices)   -> BakeFile      plan: pure
    render.render_hcl(...)       -> text          render: pure
    output.write_atomic(...)                      output: every write is there

and per commit: ``git`` -> ``meta`` (the per-build file). Commands (``bakegen/commands``) are
these steps plus their own options; nothing here knows about the command line.
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from . import buildx, gitmeta, keys, loader, render
from .errors import BakegenError
from .keys import File
from .meta import plan_meta
from .model import BakeFile, Definitions, GitMeta, Stamp
from .plan import Choice, Overrides, apply_overrides, plan
from .tags import app_version, check_registry

# Options that change the committed file, in the order the header's command names them.
OUTPUT_OPTIONS = ("registry", "go_version", "app", "env", "registry_cache", "definitions")


@dataclass(frozen=True)
class Choices(Overrides):
    """What the command line (or a ``BAKEGEN_*`` variable) chose, each value with its source:
    what ``plan`` takes (``Overrides``), and where to read."""

    definitions: Choice | None = None
    repo: Path | None = None
    branch: str | None = None
    commit: str | None = None
    unshallow: bool = False
    json: bool = False
    cwd: Path = field(default_factory=Path.cwd)


def folder(c: Choices) -> loader.Folder:
    given = Path(c.definitions.value) if c.definitions else None
    return loader.definitions_folder(c.cwd, given, c.definitions.source if c.definitions else "--definitions")


def load(c: Choices) -> Definitions:
    f = folder(c)
    return apply_overrides(loader.load(f.path, f.shown), c)


def bake(c: Choices, defs: Definitions) -> BakeFile:
    return plan(defs, dt.date.today(), c)


def build_registry(defs: Definitions, c: Choices) -> str:
    """The registry a build uses, resolved as bake does: --registry, else $REGISTRY (bake's
    variable), else the definitions'."""
    if c.registry is None and os.environ.get("REGISTRY"):
        return check_registry(os.environ["REGISTRY"], "$REGISTRY")
    return defs.project.registry


SHALLOW_FIX = ("fetch the whole history (GitLab: GIT_DEPTH: \"0\"; GitHub: actions/checkout with fetch-depth: 0), "
               "or pass --unshallow to fetch it now")


def git(c: Choices, defs: Definitions | None = None) -> GitMeta:
    """Branch, commit, stamps. A shallow clone is refused where it would change the result (base
    images' stamps come from history, release aliases from every tag), or deepened on request."""
    g = gitmeta.read(c.repo or c.cwd, os.environ, branch=c.branch, commit=c.commit)
    if not g.shallow or g.repo is None:
        return g
    if c.unshallow:
        gitmeta.unshallow(g.repo)
        return gitmeta.read(c.repo or c.cwd, os.environ, branch=c.branch, commit=c.commit)
    bases = [i.name for i in defs.images if i.kind != "app"] if defs else []
    if bases or g.state.version_tag:
        why = (f"the base images' created, revision and SOURCE_DATE_EPOCH come from the last commit that changed "
               f"each definition ({', '.join(bases)})" if bases else
               f"the release aliases of {g.state.version_tag} come from every release tag")
        raise BakegenError(f"{g.repo} is a shallow clone, and {why}, which it does not have: {SHALLOW_FIX}")
    return g


def stamps(defs: Definitions, g: GitMeta) -> dict[str, Stamp]:
    """Each base image's stamp: the last commit that changed its definition, the project
    settings or the lock file."""
    shared = [defs.project.file, f"{defs.folder}/bakegen-lock.json"]
    return {i.name: gitmeta.last_change(g, [i.folder, i.context, *shared], os.environ)
            for i in defs.images if i.kind != "app"}


def meta(c: Choices, defs: Definitions, b: BakeFile, keyed: Keys | None = None, g: GitMeta | None = None) -> BakeFile:
    """The per-commit file; with ``keyed`` (what ``bakegen bake`` passes), each image also gets its
    content key's tag and label, so a later build with the same inputs reuses it."""
    g = g or git(c, defs)
    deps = {t.image: loader.go_deps(c.cwd / t.context, files)
            for t in b.targets if t.kind == "app" and t.inherits and (files := _files(c.cwd, t.context)) is not None}
    return plan_meta(defs, b, g, stamps(defs, g), keys=keyed.keys if keyed else None, deps=deps)


class Keys(NamedTuple):
    keys: dict[str, str | None]  # target -> its content key (None: unknown, so it is built)
    bases: dict[str, str]  # published base (as the bake file names it) -> its digest in the registry
    registry: str
    inputs: dict[str, dict[str, Any]]  # target -> what went into its key
    unknown: dict[str, str]  # target without a key -> why


def content_keys(c: Choices, defs: Definitions, b: BakeFile, g: GitMeta) -> Keys:
    """Each target's content key (``keys``), from the files its build sees; a published base
    counts by its digest, asked of the registry (no answer: no key for the apps on it)."""
    registry = build_registry(defs, c)
    published = {x.name.name: x.name.resolve(registry) for t in b.targets for x in t.contexts
                 if x.target is None and x.path is None}
    answers = buildx.inspect(dict.fromkeys(published.values(), ()), loader.docker_config())
    bases = {name: d.digest for name, ref in published.items() if (d := answers[ref]) and d.digest}
    env = loader.templates()
    release = app_version(g.state, 7) if g.state.version_tag and not g.state.dirty else ""
    out: dict[str, str | None] = {}
    docs: dict[str, dict[str, Any]] = {}
    unknown: dict[str, str] = {}
    for t in sorted(b.targets, key=lambda t: t.kind == "app"):  # bases first
        files = _files(c.cwd, t.context)
        folders = {x.name.name: _files(c.cwd, x.path) for x in t.contexts if x.path is not None}
        links = {x.name.name: out.get(x.target) if x.target else bases.get(x.name.name)
                 for x in t.contexts if x.path is None}
        dockerfile = render.dockerfile(env, b.dockerfiles[t.inherits]) if t.inherits else \
            loader.read_text(c.cwd / t.context / t.dockerfile)
        outside = ([t.context] if files is None else []) + [str(x.path) for x in t.contexts
                                                            if x.path is not None and folders[x.name.name] is None]
        if outside or dockerfile is None:
            unknown[t.name] = f"{', '.join(outside) or t.dockerfile} is not in a git work tree: its files are unknown"
        elif missing := [n for n, k in links.items() if not k]:
            unknown[t.name] = (f"{missing[0]} has no key: its digest is not in the registry (or it did not answer)"
                               if missing[0] in published else f"{missing[0]}: the base it links has no key")
        if t.name in unknown:
            out[t.name] = None
            continue
        assert files is not None and dockerfile is not None
        docs[t.name] = keys.inputs(render.shape(t), dockerfile=dockerfile, files=files,
                                   folders={n: f for n, f in folders.items() if f is not None},
                                   bases={n: k for n, k in links.items() if k},
                                   release=release if t.kind == "app" else "")
        out[t.name] = keys.key(docs[t.name])
    return Keys(out, bases, registry, docs, unknown)


def _files(cwd: Path, folder: str) -> list[File] | None:
    listed = gitmeta.listing(cwd / folder)
    return None if listed is None else loader.context_files(cwd / folder, folder, listed)


def command(c: Choices, sub: str = "") -> str:
    """The command that regenerates the output, for its header: bakegen with the options that
    changed the output, however they were given, and the usual file name."""
    words = ["bakegen"] + ([sub] if sub else [])
    for name in OUTPUT_OPTIONS:
        value = getattr(c, name)
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            words.append(flag if value else "--no-" + name.replace("_", "-"))
        elif value is not None:
            words += [flag, folder(c).shown if name == "definitions" else value.value]
    if c.json:
        words += ["--format", "json"]
    words += ["-o", ("meta" if sub else "docker-bake") + (".json" if c.json else ".hcl")]
    return " ".join(shlex.quote(w) for w in words)


def check_location(c: Choices, b: BakeFile, output: Path | None) -> str | None:
    """The paths of a bake file are relative to where bake runs, the folder above the
    definitions: an error when the file would name folders that do not exist beside it (the one
    place paths are checked; ``loader`` only reads the Dockerfiles); for the
    built-in definitions printed to stdout, a notice (the seed demo) instead."""
    base = ((output.parent if output is not None else c.cwd) or c.cwd).resolve()
    missing = next((f"{what} {path} of target {t.name}" for t in b.targets for what, path in (
        ("context", t.context), *(("build context", x.path) for x in t.contexts if x.path is not None))
        if not (base / path).is_dir()), None)
    if missing is None:
        return None
    where = f"relative to {output}" if output is not None else "in this folder"
    if folder(c).builtin:
        if output is None:
            return (f"bakegen: notice: no bake/ here, so this is bakegen's built-in example (the seed's images "
                    f"and its sample app); its paths are not {where}; {loader.INIT_HINT}")
        raise BakegenError(f"{missing} does not exist here ({where}): these are bakegen's built-in example "
                           f"definitions; {loader.INIT_HINT}")
    raise BakegenError(f"{missing} does not exist here ({where}); fix the definition's context or dockerfile, "
                       "or write the file where bake runs")
