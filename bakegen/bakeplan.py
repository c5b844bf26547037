"""What one ``bakegen bake`` does, decided before anything builds, as one pure step: from the bake
files, the targets' keys and the registry's answers (as data) to what to build, what to re-tag,
which caches to read and write, the exact ``docker buildx bake`` arguments and the plan it prints.
The command only asks the questions this module lists and carries the decision out.

- Which targets: the ones named (a target or group of the committed file), or with ``--ci`` the
  ones the ref owns: on a branch, each app env whose ``env_branches`` match it, and the base images
  (pushed only from ``main_branches``; elsewhere built to test, when they changed, not pushed); on
  a release tag, each app's ``latest_envs`` (or its first env), which get the release tags.
- Reuse: a target whose content key names an image already in the registry (its key tag in the
  internal repository, the key in that manifest's annotation, every platform the target builds
  listed) is not built: its new tags are pointed at that image (the command builds it instead when
  its repository will not take them: the image is gone from there). Only when pushing, and never
  with ``--rebuild``. Any other answer builds, and the plan says why.
- The rest is built; an app whose base is reused, or is a published image, takes that base by
  digest (``docker-image://...@sha256:``), so the base is neither rebuilt nor resolved again.
- Caches: one registry cache per app (all its envs share one compile) or base image, per branch,
  in its internal repository. A build reads this branch's, then the default branch's, of those
  the registry has (a cache that does not exist is not passed: bake would print an error for it);
  with ``--cache --push`` it writes this branch's. A ``--cache --push`` run that builds nothing of
  an image whose cache is missing on both branches (never written, or deleted) brings it back with
  a cache-only build (of an app, its compile stage only), so the next runner starts warm.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from .apps import app_repository
from .errors import BakegenError, did_you_mean
from .keys import INPUTS, LABEL, LAST_PREFIX, TAG_PREFIX, changed, last_tag
from .model import Answer, App, BakeFile, Definitions, GitState, Ref
from .render import cache_from, cache_to, ref, template_escape
from .tags import branch_cache_tag, internal_repository, is_release

APP_CACHE_STAGE = "builder"  # the generated Dockerfile's last stage every env of an app shares


def named(bake: BakeFile, names: Iterable[str]) -> list[str]:
    """The targets ``names`` (targets or groups) stand for, in order, once each."""
    out: list[str] = []
    for name in names:
        if name in bake.groups:
            out += bake.groups[name]
        elif bake.target(name):
            out.append(name)
        else:
            known = [t.name for t in bake.targets] + list(bake.groups)
            raise BakegenError(f'no target or group "{name}"{did_you_mean(name, known)}; '
                               f'known: {", ".join(sorted(known))}')
    return list(dict.fromkeys(out))


def owned(bake: BakeFile, defs: Definitions, git: GitState) -> tuple[list[str], set[str], str]:
    """(the targets CI builds for this ref, those of them it builds without pushing, one line
    saying why)."""
    release = is_release(git)
    main = release or any(fnmatch.fnmatchcase(git.branch, p) for p in defs.project.main_branches)
    targets, test_only = [], set()
    for t in bake.targets:
        if t.kind != "app":
            targets.append(t.name)
            if not main:
                test_only.add(t.name)
            continue
        app = defs.image(t.image)
        assert isinstance(app, App)
        if release:
            wanted = t.env in (app.latest_envs or app.envs[:1])
        else:
            wanted = any(fnmatch.fnmatchcase(git.branch, p) for p in dict(app.env_branches)[t.env])
        if wanted:
            targets.append(t.name)
    apps = [n for n in targets if n not in test_only and bake.target(n).kind == "app"]  # type: ignore[union-attr]
    bases = [n for n in targets if bake.target(n).kind != "app"]  # type: ignore[union-attr]
    if release:
        why = f"--ci on release tag {git.branch}: each app's latest_envs ({', '.join(apps) or 'none'})"
    else:
        kind = "a main branch" if main else "not a main branch"
        why = (f'--ci on branch "{git.branch}" ({kind}): the app envs whose env_branches match it '
               f"({', '.join(apps) or 'none'})")
    if bases:
        why += "; the base images" + ("" if main else ", built to test them and not pushed")
    return targets, test_only, why


def reusable(pushed: Answer | None, content_key: str | None, platforms: Iterable[str]) -> str:
    """"" when a registry answer is the image ``content_key`` names, else why it is not: the
    manifest its key tag names carries the key (an annotation, as bakegen pushes it: on the index
    of a multi-platform image, on the image manifest of a single-platform one) and lists every
    platform the target builds. One registry answer shows all of it."""
    if content_key is None:
        return "its inputs cannot be keyed"
    if pushed is None or pushed.state == "missing":
        return f"no image with its inputs is pushed yet ({TAG_PREFIX}{content_key[:12]}... not found)"
    if pushed.state != "found" or not pushed.digest.startswith("sha256:"):
        return f"the registry did not answer clearly: {pushed.why or 'no digest'}"
    if pushed.annotations.get(LABEL) != content_key:
        return f"the image tagged {TAG_PREFIX}{content_key[:12]}... carries " + \
            ("another key" if LABEL in pushed.annotations else "no key annotation")
    wanted = list(platforms)
    if not pushed.platforms and len(wanted) > 1:
        return f"the image pushed with its inputs is a single platform's, not {', '.join(wanted)}"
    missing = [p for p in wanted if pushed.platforms and p not in pushed.platforms]
    return f"the image pushed with its inputs has no {missing[0]}" if missing else ""


# ---------------------------------------------------------------- the questions
class Options(NamedTuple):
    """What the command line asked of one ``bakegen bake``."""

    push: bool = False
    load: bool = False
    show: bool = False
    rebuild: bool = False
    cache: bool = False  # write this branch's registry cache (with push only)
    cache_read: bool = True
    branch: str = "main"
    default_branch: str = "main"
    sets: tuple[str, ...] = ()
    local_platform: str = "linux/amd64"


def key_refs(meta: BakeFile, registry: str) -> dict[str, str]:
    """Each keyed target's key tag, resolved: the question whether its image is pushed."""
    return {t.name: tag.resolve(registry) for t in meta.targets for tag in t.tags if tag.tag.startswith(TAG_PREFIX)}


def cache_name(bake: BakeFile, defs: Definitions, name: str) -> tuple[str, str]:
    """(the name of the registry cache a target reads and writes, the repository it lives in):
    an app's, shared by its envs, in the internal repository of its first env's images; a base
    image's own, beside it."""
    t = bake.target(name)
    assert t is not None
    image = defs.image(t.image)
    if isinstance(image, App):
        return image.name, internal_repository(app_repository(image, image.envs[0]))
    return t.name, internal_repository(t.tags[0].path if t.tags else t.image)


def cache_refs(bake: BakeFile, defs: Definitions, names: Iterable[str], o: Options) -> dict[str, list[Ref]]:
    """Each target's registry caches: this branch's, then the default branch's."""
    out = {}
    for name in names:
        cache, path = cache_name(bake, defs, name)
        out[name] = [Ref(path, branch_cache_tag(cache, b)) for b in dict.fromkeys((o.branch, o.default_branch))]
    return out


def key_questions(meta: BakeFile, *, registry: str, o: Options) -> dict[str, tuple[str, ...]]:
    """The first registry questions of a run (each one request): each keyed target's key tag,
    when anything may be reused."""
    if not o.push or o.rebuild or o.load:
        return {}
    return dict.fromkeys(key_refs(meta, registry).values(), ())


def last_refs(meta: BakeFile, names: Iterable[str], o: Options) -> dict[str, list[Ref]]:
    """Each target's image built last on this branch, then on the default branch
    (``last-<target>-<branch>`` in its internal repository), for saying which inputs changed."""
    out = {}
    for name in names:
        t = meta.target(name)
        internal = next((r.path for r in t.tags if r.tag.startswith(TAG_PREFIX)), None) if t else None
        if internal:
            out[name] = [Ref(internal, last_tag(name, b)) for b in dict.fromkeys((o.branch, o.default_branch))]
    return out


def more_questions(bake: BakeFile, defs: Definitions, meta: BakeFile, first: Decision, *, registry: str,
                   o: Options) -> dict[str, tuple[str, ...]]:
    """The second round, once ``first`` (the decision on the key tags' answers) says what builds:
    does each cache exist that the run reads (those of what it builds) or may bring back (with
    ``--cache --push``, those of what it reuses); and for what it builds from a changed input, the
    image built last on this or the default branch (which inputs changed)."""
    names = [*first.build] if o.cache_read and not o.load else []
    if o.cache and o.push and not o.load:
        names += [*first.reuse, *first.unchanged]
    asked: dict[str, tuple[str, ...]] = {r.resolve(registry): () for refs in cache_refs(bake, defs, names, o).values()
                                         for r in refs}
    if o.push and not o.rebuild and not o.load:
        asked |= {r.resolve(registry): () for refs in last_refs(meta, first.build, o).values() for r in refs}
    return asked


# ---------------------------------------------------------------- the decision
class Decision(NamedTuple):
    build: list[str]  # the targets bake builds, in the committed file's order
    reuse: dict[str, str]  # target -> the digest its new tags point at
    retag: list[tuple[str, str, list[str]]]  # (target, source repo@digest, the tags in that repository)
    unchanged: list[str]  # test-only targets already pushed with these inputs: neither built nor tagged
    test_only: set[str]  # built without pushing (their output is the build cache)
    restore: list[str]  # cache-only builds that bring a missing registry cache back
    overrides: dict[str, dict[str, Any]]  # the per-build file's "target" (empty: none is needed)
    args: list[str]  # docker buildx bake's arguments after the files
    lines: list[str]  # the plan, one line per target, for stderr


class _Run(NamedTuple):
    """What every step of ``decide`` reads."""

    bake: BakeFile
    defs: Definitions
    meta: BakeFile
    answers: Mapping[str, Answer]
    registry: str
    o: Options

    def readable(self, r: Ref) -> bool:
        """Whether a registry cache may be read: only a clear "not there" leaves it out."""
        return self.answers.get(r.resolve(self.registry), Answer("unsure")).state != "missing"


def _since(run: _Run, name: str, parts: str) -> str:
    """Why a target whose key is not pushed builds: which of its inputs changed since the image
    built last on this branch, or the default branch; or that none was built there yet."""
    o = run.o
    for r, branch in zip(last_refs(run.meta, [name], o).get(name, []), dict.fromkeys((o.branch, o.default_branch)),
                         strict=True):
        answer = run.answers.get(r.resolve(run.registry))
        if answer is not None and answer.state == "found" and INPUTS in answer.annotations:
            what = changed(answer.annotations[INPUTS], dict(p.partition("=")[::2] for p in parts.split(";") if p))
            listed = ", ".join(what[:4]) + (f" and {len(what) - 4} more" if len(what) > 4 else "")
            return f"its inputs changed since the image built last on {branch}: {listed or 'none it can name'}"
        if answer is None or answer.state != "missing":
            return ""
    return "not built on " + " or ".join(dict.fromkeys((o.branch, o.default_branch))) + " yet"


def _reasons(run: _Run, keys: Mapping[str, str | None], unknown: Mapping[str, str],
             parts: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(target -> the digest of its pushed image, for those that need not be built; target -> why
    each other one is built)."""
    o, refs = run.o, key_refs(run.meta, run.registry)
    why, found = {}, {}
    for t in run.bake.targets:
        key = keys.get(t.name)
        if key is None:
            reason = f"its inputs cannot be keyed: {unknown.get(t.name, 'unknown')}"
        else:
            answer = run.answers.get(refs.get(t.name, ""))
            reason = reusable(answer, key, t.platforms)
            if answer is not None and answer.state == "missing":
                reason = _since(run, t.name, parts.get(t.name, "")) or reason
        if o.load:
            why[t.name] = "--load builds for this machine"
        elif o.rebuild:
            why[t.name] = "--rebuild"
        elif not o.push:
            why[t.name] = "without --push nothing is reused" if key else reason
        elif reason:
            why[t.name] = reason
        else:
            found[t.name] = run.answers[refs[t.name]].digest
    return found, why


def _caches(run: _Run, build: list[str], kept: list[str]) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """(each build's cache entries, the kept targets whose missing cache a cache-only build brings
    back): read this branch's and the default branch's where they exist; with ``--cache --push``,
    one build per cache writes this branch's."""
    o = run.o
    caches = cache_refs(run.bake, run.defs, [*build, *kept], o)
    write = o.cache and o.push and not o.load
    overrides: dict[str, dict[str, Any]] = {}
    writers: set[str] = set()
    for name in build:
        t = run.bake.target(name)
        assert t is not None
        entry: dict[str, Any] = {}
        if o.cache_read and not o.load:
            read = [cache_from(r) for r in caches[name] if run.readable(r)] + ([cache_from(t.cache)] if t.cache else [])
            if read:
                entry["cache-from"] = read
        cache = cache_name(run.bake, run.defs, name)[0]
        if write and cache not in writers:
            writers.add(cache)
            entry["cache-to"] = [cache_to(caches[name][0])]
        if entry:
            overrides[name] = entry
    restore = []
    for name in kept if write else []:
        cache = cache_name(run.bake, run.defs, name)[0]
        if cache in writers or any(run.readable(r) for r in caches[name]):
            continue
        writers.add(cache)
        restore.append(name)
        t = run.bake.target(name)
        assert t is not None
        overrides[name] = {"output": ["type=cacheonly"], "cache-to": [cache_to(caches[name][0])]}
        if t.kind == "app" and t.inherits:
            overrides[name]["target"] = APP_CACHE_STAGE
    return overrides, restore


def _pins(run: _Run, name: str, found: Mapping[str, str], bases: Mapping[str, str]) -> dict[str, str]:
    """The FROM references of a build that take a base by digest: a reused base, a published one."""
    t = run.bake.target(name)
    assert t is not None
    pins = {c.name: found[c.target] for c in t.contexts if c.target is not None and c.target in found}
    pins |= {c.name: bases[c.name.name] for c in t.contexts if c.target is None and c.path is None
             and c.name.name in bases}
    return {ref(r): template_escape(f"docker-image://{r._replace(tag='', digest=d).resolve(run.registry)}")
            for r, d in sorted(pins.items())}


def decide(bake: BakeFile, defs: Definitions, meta: BakeFile, selected: Sequence[str], *,
           keys: Mapping[str, str | None], unknown: Mapping[str, str], bases: Mapping[str, str],
           answers: Mapping[str, Answer], test_only: set[str], registry: str, o: Options,
           parts: Mapping[str, str] | None = None) -> Decision:
    """Everything one run does. ``answers``: the registry's answer to each of ``key_questions``
    and ``more_questions``; ``bases``: the published bases' digests, by the reference the bake
    file names; ``unknown``: why a target has no key; ``parts``: each key's parts
    (``keys.encode``), to say which changed."""
    run = _Run(bake, defs, meta, answers, registry, o)
    found, why = _reasons(run, keys, unknown, parts or {})
    reuse = {n: found[n] for n in selected if n in found and n not in test_only}
    unchanged = [n for n in selected if n in found and n in test_only]
    build = [n for n in selected if n not in reuse and n not in unchanged]
    overrides, restore = _caches(run, build, [*reuse, *unchanged])
    for name in [*build, *restore]:
        if pins := _pins(run, name, found, bases):
            overrides.setdefault(name, {})["contexts"] = pins
    for name in test_only & set(build):
        overrides.setdefault(name, {})["output"] = ["type=cacheonly"]
    retag = []
    for name, digest in reuse.items():  # its new tags; its key tag is there, and last- names what was built
        t = meta.target(name)
        assert t is not None
        new = [tag for tag in t.tags if not tag.tag.startswith((TAG_PREFIX, LAST_PREFIX))]
        for path in dict.fromkeys(tag.path for tag in new):
            retag.append((name, Ref(path, digest=digest).resolve(registry),
                          [tag.resolve(registry) for tag in new if tag.path == path]))
    decision = Decision(build, reuse, retag, unchanged, test_only & set(build), restore, overrides,
                        _args(bake, [*build, *restore], o), [])
    return decision._replace(lines=_lines(run, selected, decision, why))


def _args(bake: BakeFile, names: list[str], o: Options) -> list[str]:
    args = []
    if o.push and not o.show:
        args.append("--push")
    if any(t.network == "host" for t in bake.targets if t.name in names):
        args += ["--allow", "network.host"]  # network = "host" in the definitions: bake asks for it
    if o.load:
        args.append("--load")
        args += [a for name in names for a in ("--set", f"{name}.platform={o.local_platform}")]
    if o.show:
        args.append("--print")
    args += [a for s in o.sets for a in ("--set", s)]
    return [*args, *names]


def _lines(run: _Run, selected: Sequence[str], d: Decision, why: Mapping[str, str]) -> list[str]:
    """The plan: one line per selected target (built and why, reused, left as it is) and per cache
    brought back."""
    width = max((len(n) for n in selected), default=0)
    caches = cache_refs(run.bake, run.defs, [*selected, *d.restore], run.o)
    lines = []
    for name in selected:
        if name in d.reuse:
            lines.append(f"  reuse  {name:{width}}  its inputs did not change: its new tags point at "
                         f"{d.reuse[name][:19]}")
        elif name in d.unchanged:
            lines.append(f"  skip   {name:{width}}  its inputs did not change, and this branch does not push it")
        else:
            read = [r.tag for r in caches[name] if run.readable(r)]
            line = f"  build  {name:{width}}  {why.get(name, '')}"
            if name in d.test_only:
                line += "; built to test it, not pushed"
            if run.o.cache_read and not run.o.load:
                line += f" (cache from {', '.join(read)})" if read else " (no registry cache to read yet)"
            lines.append(line)
    lines += [f"  cache  {name:{width}}  its registry cache is missing: a cache-only build writes {caches[name][0].tag}"
              for name in d.restore]
    if run.o.cache and not run.o.push:
        lines.append("  (--cache writes the registry cache only with --push: this run writes none)")
    return lines
