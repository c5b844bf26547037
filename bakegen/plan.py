"""Definitions (+ the command line's choices) -> targets and groups: the committed bake file.
Pure: no I/O. The per-build values are ``meta.plan_meta``'s.

Groups: ``default`` holds every target, ``base`` the toolchain and runtime targets, ``apps`` the
apps' targets and ``apps-<env>`` those of one env; an image with several targets (versions,
variants, envs) gets a group of its name.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .apps import app_repository, app_targets, check_packages
from .bases import Made, base_targets
from .errors import BakegenError
from .model import App, BakeFile, Definitions, Target, Toolchain, Variable
from .platforms import suite
from .tags import REGISTRY_PATTERN, variant_suffix
from .versions import GoVersion

RESERVED = ("apps", "base", "default")  # groups bakegen always writes


@dataclass(frozen=True)
class Choice:
    """A value from the command line or the environment, and the name to blame it on."""

    value: str
    source: str  # "--env" or "BAKEGEN_ENV"


@dataclass(frozen=True)
class Overrides:
    """Command-line values that replace definition settings or select targets."""

    registry: Choice | None = None
    go_version: Choice | None = None
    registry_cache: bool | None = None
    app: Choice | None = None  # select this app's targets
    env: Choice | None = None  # select the apps' targets for this env


def apply_overrides(defs: Definitions, ov: Overrides) -> Definitions:
    """The definitions with the command line's values in place (each checked where it is read);
    a bad value names its option."""
    project = defs.project
    if ov.registry is not None:
        project = dataclasses.replace(project, registry=ov.registry.value)
    if ov.registry_cache is not None:
        project = dataclasses.replace(project, registry_cache=ov.registry_cache)
    images = []
    for image in defs.images:
        changes: dict[str, Any] = {}
        if ov.go_version is not None and isinstance(image, Toolchain):
            _check_go_version(ov.go_version, defs)
            changes["versions"] = (ov.go_version.value,)
            changes["where"] = {**image.where, "versions": ov.go_version.source}
        if ov.registry_cache is not None:
            changes["registry_cache"] = ov.registry_cache
        images.append(dataclasses.replace(image, **changes) if changes else image)
    return dataclasses.replace(defs, project=project, images=tuple(images))


def _check_go_version(choice: Choice, defs: Definitions) -> None:
    try:
        GoVersion.parse(choice.value).resolve([GoVersion.parse(v) for v in defs.checksums_go])
    except BakegenError as e:
        raise BakegenError(e.message, choice.source) from None


def _select(targets: list[Target], ov: Overrides) -> list[Target]:
    """Keep the base targets and the app targets ``--app``/``--env`` name; a name that nothing
    has is an error listing what exists."""
    apps = [t for t in targets if t.kind == "app"]
    for choice, attr in ((ov.app, "image"), (ov.env, "env")):
        if choice is None:
            continue
        have = sorted({getattr(t, attr) for t in apps})
        if choice.value not in have:
            what = "app" if attr == "image" else "env"
            raise BakegenError(f'no {what} "{choice.value}"; the definitions have: {", ".join(have) or "no apps"}',
                               choice.source)
        apps = [t for t in apps if getattr(t, attr) == choice.value]
    if not apps and ov.app and ov.env:
        raise BakegenError(f'app "{ov.app.value}" has no env "{ov.env.value}"', ov.env.source)
    return [t for t in targets if t.kind != "app"] + apps


def _check_names(targets: list[Target], groups: dict[str, list[str]]) -> None:
    names = [t.name for t in targets]
    reserved = {n for n in set(names) | set(groups) if n in RESERVED} | {n for n in names if n.startswith("apps-")}
    clash = sorted({n for n in names if names.count(n) > 1} | reserved | (set(names) & set(groups)))
    if clash:
        raise BakegenError(f'two targets or groups would be named "{clash[0]}" (the groups '
                           f'{", ".join(RESERVED)} and apps-<env> are bakegen\'s); rename an image')


def check_unique(pushed: Iterable[tuple[str, str]]) -> None:
    """``(target, reference)`` pairs: no two targets may push the same reference."""
    seen: dict[str, str] = {}
    for name, ref in pushed:
        if seen.setdefault(ref, name) != name:
            raise BakegenError(f'targets "{seen[ref]}" and "{name}" would both push ${{REGISTRY}}/{ref}; '
                               "give them different repositories, tags or tag_prefix")


def check_references(targets: list[Target], defs: Definitions) -> None:
    """No two targets may push the same committed tag, or share an app repository (every per-build
    tag of one repository would collide)."""
    check_unique([(t.name, tag.name) for t in targets for tag in t.tags]
                 + [(t.name, app_repository(defs.image(t.image), t.env) + ":<per-build tags>")
                    for t in targets if t.kind == "app"])


def _warnings(made: list[Made], today: dt.date) -> list[str]:
    used: dict[str, list[str]] = {}
    for m in made:
        used.setdefault(m.suite.name, []).append(m.target.name)
    out = []
    for name, users in sorted(used.items()):
        s = suite(name)
        if s.end_of_life and s.end_of_life < today:
            out.append(f"warning: Debian {s.name} ({variant_suffix(s.number)}) is past its end of life "
                       f"({s.end_of_life.isoformat()}); used by {', '.join(sorted(users))}")
    return out


def registry_variable(default: str) -> Variable:
    return Variable("REGISTRY", default, "Registry host and optional path prefix of every image tag and cache ref",
                    REGISTRY_PATTERN, "REGISTRY must be HOST[:PORT][/PREFIX], for example registry.example.com/team.")


def plan(defs: Definitions, today: dt.date, ov: Overrides | None = None) -> BakeFile:
    """The committed bake file. ``today`` only decides the end-of-life warnings."""
    ov = ov or Overrides()
    by_image = {i.name: base_targets(i, defs) for i in defs.images if not isinstance(i, App)}
    made = [m for ms in by_image.values() for m in ms]
    apps = [i for i in defs.images if isinstance(i, App)]
    targets = [m.target for m in made]
    dockerfiles = {}
    for app in apps:
        app_made, generated = app_targets(app, defs, by_image)
        targets += app_made
        dockerfiles.update(generated)
    check_packages(apps)
    check_references(targets, defs)
    targets = sorted(_select(targets, ov), key=lambda t: t.name)
    dockerfiles = {name: d for name, d in sorted(dockerfiles.items()) if any(t.inherits == name for t in targets)}
    groups: dict[str, list[str]] = {}
    several = {name for name, ms in by_image.items() if len(ms) > 1} | {a.name for a in apps if len(a.envs) > 1}
    for t in targets:
        if t.image in several:
            groups.setdefault(t.image, []).append(t.name)
        if t.kind == "app":
            groups.setdefault(f"apps-{t.env}", []).append(t.name)
    _check_names(targets, groups)
    groups["apps"] = [t.name for t in targets if t.kind == "app"]
    groups["base"] = [t.name for t in targets if t.kind != "app"]
    groups["default"] = [t.name for t in targets]
    groups = {k: v for k, v in sorted(groups.items()) if v or k == "default"}
    return BakeFile([registry_variable(defs.project.registry)], groups, targets, _warnings(made, today), dockerfiles)
