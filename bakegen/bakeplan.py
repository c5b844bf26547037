"""What one ``bakegen bake`` does with each target, decided before anything builds. Pure.

- Which targets: the ones named (a target or group of the committed file), or with ``--ci`` the
  ones the ref owns: on a branch, each app env whose ``env_branches`` match it, and the base images
  (pushed only from ``main_branches``; elsewhere built to test, when they changed, not pushed); on
  a release tag, each app's ``latest_envs`` (or its first env), which get the release tags.
- Reuse: a target whose content key names an image already in the registry (its key tag, with
  the key in its label, for every platform the target builds) is not built: its new tags are
  pointed at that image. Only when pushing, and never with ``--rebuild``.
- The rest is built; an app whose base is reused, or is a published image, takes that base by
  digest (``docker-image://...@sha256:``), so the base is neither rebuilt nor resolved again.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from .errors import BakegenError, did_you_mean
from .keys import LABEL
from .model import App, BakeFile, Definitions, GitState


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


def is_release(git: GitState) -> bool:
    """A tag pipeline: the ref CI builds is a release tag at the commit (``v1.2.0``)."""
    return git.version_tag is not None and git.branch == git.version_tag and not git.dirty


def owned(bake: BakeFile, defs: Definitions, git: GitState) -> tuple[list[str], set[str]]:
    """(the targets CI builds for this ref, those of them it builds without pushing)."""
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
    return targets, test_only


def reusable(pushed: Any, content_key: str | None, platforms: Iterable[str]) -> bool:
    """Whether a registry answer (``buildx.Pushed``, or None) is the image ``content_key`` names:
    its label carries the key on every platform the target builds. Anything else builds."""
    if pushed is None or content_key is None or not pushed.digest.startswith("sha256:"):
        return False
    for p in platforms:
        config = pushed.configs.get(p)
        labels = ((config or {}).get("config") or {}).get("Labels") or {}
        if labels.get(LABEL) != content_key:
            return False
    return True


class Plan(NamedTuple):
    build: list[str]  # the targets bake builds (in the committed file's order)
    reuse: dict[str, str]  # target -> digest of the pushed image its new tags point at
    test_only: set[str]  # built without pushing (their output is the build cache)
    contexts: dict[str, dict[str, str]]  # target -> {FROM reference: digest of its base}
    unchanged: list[str]  # test-only targets already built: neither built nor tagged again


def plan(bake: BakeFile, selected: list[str], *, keys: Mapping[str, str | None], answers: Mapping[str, Any],
         bases: Mapping[str, str], push: bool, rebuild: bool, test_only: set[str]) -> Plan:
    """``answers``: the registry's answer for each target's key tag; ``bases``: the published
    bases' digests, by the reference the bake file names. A test-only target is never tagged from
    here: its tags belong to the main branches, which may have moved on."""
    found = {} if rebuild else {t.name: answers[t.name].digest for t in bake.targets
                                if reusable(answers.get(t.name), keys.get(t.name), t.platforms)}
    reuse = {n: found[n] for n in selected if n in found and n not in test_only} if push else {}
    unchanged = [n for n in selected if n in found and n in test_only]
    build = [n for n in selected if n not in reuse and n not in unchanged]
    contexts: dict[str, dict[str, str]] = {}
    for name in build:
        t = bake.target(name)
        assert t is not None
        pins = {c.name.name: found[c.target] for c in t.contexts if c.target in found}
        pins |= {c.name.name: bases[c.name.name] for c in t.contexts
                 if c.target is None and c.path is None and c.name.name in bases}
        if pins:
            contexts[name] = pins
    return Plan(build, reuse, test_only & set(build), contexts, unchanged)
