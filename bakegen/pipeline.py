"""The pipeline every command runs, top to bottom:

    load(choices)                -> Definitions   loader: reads bake/ (every read is there)
    plan(definitions, choices)   -> BakeFile      plan: pure
    render.render_hcl(...)       -> text          render: pure
    output.write_atomic(...)                      output: every write is there

and per commit: ``git`` -> ``meta`` (the per-build file). Commands (``bakegen/commands``) are
these steps plus their own options; nothing here knows about the command line.
"""

from __future__ import annotations

import bisect
import datetime as dt
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from . import keys, loader, render
from .errors import BakegenError
from .keys import File
from .meta import plan_meta
from .model import Answer, App, AppDockerfile, BakeFile, Definitions, GitMeta, GitState, Listing, Stamp, Target
from .plan import Choice, Overrides, apply_overrides, plan
from .tags import app_version, check_registry

if TYPE_CHECKING:  # imported where they are used: generating the bake file needs none of them
    from . import buildx, gopackages

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
    from . import gitmeta

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


class Sources:
    """What the builds of one run read, each read once: every git work tree listed once (two git
    runs, whatever the number of builds), each file git cannot vouch for hashed once, each build
    context's files and each Go module's imports read once."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self._tops: dict[Path, Path | None] = {}
        self._listings: dict[Path, Listing] = {}
        self._hashes: dict[Path, tuple[str, str]] = {}
        self._files: dict[str, list[File] | None] = {}
        self._go: dict[str, gopackages.Module] = {}
        self._sorted: dict[str, list[str]] = {}

    def _top(self, folder: Path) -> Path | None:
        for top in self._listings:  # inside a work tree already listed, unless a repository of its own is between
            if folder.is_relative_to(top) and not any((p / ".git").exists() for p in [folder, *folder.parents]
                                                      if p != top and p.is_relative_to(top)):
                return top
        if folder not in self._tops:
            from . import gitmeta

            self._tops[folder] = gitmeta.top(folder)
        return self._tops[folder]

    def listing(self, folder: Path) -> Listing | None:
        """``folder``'s files as git sees them; None outside a git work tree."""
        folder = folder.resolve()
        top = self._top(folder)
        if top is None:
            return None
        if top not in self._listings:
            from . import gitmeta

            self._listings[top] = gitmeta.repo_listing(top)
        rel = folder.relative_to(top).as_posix()
        return self._listings[top].under("" if rel == "." else rel + "/")

    def files(self, folder: str) -> list[File] | None:
        """The files a build context (``folder``, as the bake file names it) sends, with their
        content ids; None outside a git work tree (nothing vouches for them)."""
        if folder not in self._files:
            listed = self.listing(self.cwd / folder)
            self._files[folder] = None if listed is None else \
                loader.context_files(self.cwd / folder, folder, listed, self._hashes)
        return self._files[folder]

    def go(self, folder: str, files: list[File]) -> gopackages.Module:
        """The Go module of a build context (``files``: what the build sees), each file parsed at
        most once, whatever the number of apps built from it."""
        if folder not in self._go:
            from . import gopackages

            self._go[folder] = gopackages.Module([f.path for f in files],
                                                 lambda path: loader.read_source(self.cwd / folder / path),
                                                 [f.path for f in files if f.mode == "120000"])
        return self._go[folder]

    def copied(self, folder: str, files: list[File], copies: tuple[str, ...]) -> frozenset[str]:
        """The files of a context that are ``copies`` (files or folders a Dockerfile copies) or
        below them."""
        if folder not in self._sorted:
            self._sorted[folder] = sorted(f.path for f in files)
        paths, found = self._sorted[folder], set()
        for c in copies:
            i = bisect.bisect_left(paths, c)
            if i < len(paths) and paths[i] == c:
                found.add(c)
            # below c/: from "c/" up to "c0" ("0" follows "/"), not "c-x/..." (sorted between c and c/)
            found.update(paths[bisect.bisect_left(paths, c + "/"):bisect.bisect_left(paths, c + "0")])
        return frozenset(found)


class Inputs(NamedTuple):
    """What one target's image is built from, read from disk and git (its content key's inputs
    but the bases)."""

    files: list[File]  # the files of its context that can change its image
    folders: dict[str, list[File]]  # its named folder contexts' files
    dockerfile: str  # for a generated one: the stages its env builds
    scope: str  # which files of the context count, and why (for explain)
    deps: tuple[str, ...]  # an app's GO_DEPS: what its Go packages import from outside its module
    unknown: str  # why its files cannot be known ("": they can)


def _goarchs(t: Target) -> list[str]:
    return [p.split("/")[1] for p in t.platforms]


def _app_scope(sources: Sources, t: Target, files: list[File], d: AppDockerfile) -> tuple[list[File], str,
                                                                                          tuple[str, ...]]:
    """(the context's files an app's image depends on, which and why, GO_DEPS). A generated
    Dockerfile puts into the image only the binary and the config: the files its main package's
    build can read (``gopackages``: its package and the module's packages it imports, go.mod,
    go.sum) and the config files it copies; nothing else of the context can change it. Where the
    imports cannot be followed, every file counts."""
    needs = sources.go(t.context, files).needs(d.main_package, _goarchs(t))
    if needs.fallback:
        return files, f"every file of the context ({needs.fallback})", needs.external
    (stage,) = [e for e in d.envs if e.env == t.env]
    copies = (*d.copies, *stage.copies)
    wanted = set(needs.files) | sources.copied(t.context, files, copies)
    kept = [f for f in files if f.path in wanted]
    main = "./" + ("" if d.main_package == "." else d.main_package)
    count = len(needs.packages)
    return kept, (f"what {main} builds from ({count} package{'s' if count != 1 else ''} of its module and its go.mod) "
                  f"and the config it copies ({', '.join(copies) or 'none'})"), needs.external


def inputs(c: Choices, defs: Definitions, b: BakeFile, sources: Sources | None = None) -> dict[str, Inputs]:
    """Each target's inputs (no registry: the bases' keys and digests come in ``content_keys``)."""
    sources = sources or Sources(c.cwd)
    env = loader.templates()
    out = {}
    for t in b.targets:
        files = sources.files(t.context)
        folders = {x.name.name: sources.files(x.path) for x in t.contexts if x.path is not None}
        if t.inherits:
            d = b.dockerfiles[t.inherits]
            dockerfile: str | None = render.dockerfile(env, d._replace(envs=tuple(e for e in d.envs if e.env == t.env)))
        else:
            dockerfile = loader.read_text(c.cwd / t.context / t.dockerfile)
        outside = ([t.context] if files is None else []) + [str(x.path) for x in t.contexts
                                                            if x.path is not None and folders[x.name.name] is None]
        unknown = f"{', '.join(outside)} is not in a git work tree: its files are unknown" if outside else \
            f"{t.dockerfile} cannot be read" if dockerfile is None else ""
        scope, deps = "every file of the context", tuple[str, ...]()
        image = defs.image(t.image)
        if files is not None and isinstance(image, App):
            if t.inherits:
                files, scope, deps = _app_scope(sources, t, files, b.dockerfiles[t.inherits])
            else:
                scope = "every file of the context (its own Dockerfile may copy any)"
                deps = sources.go(t.context, files).needs(image.main_package, _goarchs(t)).external
        out[t.name] = Inputs(files or [], {n: f for n, f in folders.items() if f is not None}, dockerfile or "",
                             scope, deps, unknown)
    return out


def builds(defs: Definitions, b: BakeFile, g: GitMeta, found: dict[str, Inputs],
           cwd: Path) -> dict[str, tuple[GitState, Stamp]]:
    """Each target's git state and stamp: dirty when a file it is built from is not what the
    commit holds (changed, untracked, ignored but sent), which its tags then say; a base image's
    stamp is the last commit that changed its definition, the project settings or the lock file.
    A target whose files are unknown counts the whole work tree, as git status does."""
    from . import gitmeta

    shared = [cwd / defs.project.file, cwd / defs.folder / "bakegen-lock.json"]
    out = {}
    for t in b.targets:
        i = found[t.name]
        dirty = g.state.dirty if i.unknown else bool(uncommitted(i))
        if t.kind == "app":
            out[t.name] = gitmeta.build_state(g, dirty, os.environ)
        else:
            image = defs.image(t.image)
            paths = [cwd / image.folder, cwd / image.context, *(cwd / p for _, p in image.folders), *shared]
            out[t.name] = (g.state, gitmeta.last_change(g, paths, os.environ, dirty=dirty))
    return out


def uncommitted(i: Inputs) -> list[str]:
    """The files a target is built from that git cannot vouch for."""
    return [f.path for f in i.files if f.content.startswith("sha256:")] + \
        [f"{name}/{f.path}" for name, fs in i.folders.items() for f in fs if f.content.startswith("sha256:")]


def meta(c: Choices, defs: Definitions, b: BakeFile, keyed: Keys | None = None, g: GitMeta | None = None) -> BakeFile:
    """The per-commit file; with ``keyed`` (what ``bakegen bake`` passes), each image also gets its
    content key's tag and label, so a later build with the same inputs reuses it."""
    g = g or git(c, defs)
    found = keyed.found if keyed else inputs(c, defs, b)
    return plan_meta(defs, b, g, builds(defs, b, g, found, c.cwd), keys=keyed.keys if keyed else None,
                     inputs={n: keys.encode(keys.components(d)) for n, d in keyed.inputs.items()} if keyed else None,
                     deps={name: i.deps for name, i in found.items()})


class Keys(NamedTuple):
    keys: dict[str, str | None]  # target -> its content key (None: unknown, so it is built)
    bases: dict[str, str]  # published base (as the bake file names it) -> its digest in the registry
    registry: str
    inputs: dict[str, dict[str, Any]]  # target -> what went into its key
    unknown: dict[str, str]  # target without a key -> why
    found: dict[str, Inputs]  # target -> what it is built from
    published: dict[str, Answer]  # published base (as the bake file names it) -> the registry's answer


def content_keys(c: Choices, defs: Definitions, b: BakeFile, g: GitMeta, *,
                 registry: buildx.Registry | None = None, sources: Sources | None = None) -> Keys:
    """Each target's content key (``keys``), from the files its build sees; a published base
    counts by its digest, asked of the registry (no answer: no key for the apps on it)."""
    name = build_registry(defs, c)
    published = {x.name.name: x.name.resolve(name) for t in b.targets for x in t.contexts
                 if x.target is None and x.path is None}
    if registry is None:
        from . import buildx

        registry = buildx.Registry(loader.docker_config())
    asked = registry.inspect(dict.fromkeys(published.values(), ()))
    answers = {base: asked[ref] for base, ref in published.items()}
    bases = {base: a.digest for base, a in answers.items() if a.state == "found" and a.digest}
    found = inputs(c, defs, b, sources)
    release = app_version(g.state._replace(dirty=False), 7) if g.state.version_tag else ""
    out: dict[str, str | None] = {}
    docs: dict[str, dict[str, Any]] = {}
    unknown: dict[str, str] = {}
    for t in sorted(b.targets, key=lambda t: t.kind == "app"):  # bases first
        i = found[t.name]
        links = {x.name.name: out.get(x.target) if x.target else bases.get(x.name.name)
                 for x in t.contexts if x.path is None}
        if i.unknown:
            unknown[t.name] = i.unknown
        elif missing := [n for n, k in links.items() if not k]:
            unknown[t.name] = (f"{missing[0]} has no key: {answers[missing[0]].why or 'its digest is not known'}"
                               if missing[0] in published else f"{missing[0]}: the base it links has no key")
        if t.name in unknown:
            out[t.name] = None
            continue
        dirty = bool(uncommitted(i))
        docs[t.name] = keys.inputs(render.shape(t), definition=keys.definition(defs.image(t.image), defs.project),
                                   dockerfile=i.dockerfile, files=i.files, folders=i.folders,
                                   bases={n: k for n, k in links.items() if k},
                                   release=release if t.kind == "app" and not dirty else "")
        out[t.name] = keys.key(docs[t.name])
    return Keys(out, bases, name, docs, unknown, found, answers)


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
