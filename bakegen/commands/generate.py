"""``bakegen [-o FILE | --check FILE]``: the committed bake file, printed, written or checked."""

from __future__ import annotations

import os
import posixpath
import re
from pathlib import Path

import click

from .. import loader, pipeline, render
from ..apps import config_of
from ..checksums import LOCK_FILE
from ..model import App, Definitions
from ..output import write_atomic
from ..pipeline import Choices
from ..schema import IMAGE_FILE, PROJECT_FILE, fill, hcl_value


def emit(text: str, output: Path | None) -> None:
    """Print ``text``, or write it atomically to ``output``."""
    if output is None:
        click.echo(text, nl=False)
        return
    write_atomic(output, text)
    click.echo(f"bakegen: wrote {output}", err=True)


def generate(c: Choices, output: Path | None, check_file: Path | None) -> int:
    """0 when written, printed or up to date; 1 when ``check_file`` is stale (the diff on stdout) or
    a file generation read is not in git (a clean clone would generate something else, or fail)."""
    defs = pipeline.load(c)
    bake = pipeline.bake(c, defs)
    for w in [*bake.warnings, *_unlisted_envs(c, defs)]:
        click.echo(f"bakegen: {w}", err=True)
    notice = pipeline.check_location(c, bake, check_file or output)
    if notice:
        click.echo(notice, err=True)
    env = loader.templates()
    text = render.render_json(env, bake) if c.json else render.render_hcl(env, bake, pipeline.command(c))
    target = check_file or output
    actual = loader.read_text(target) if target else None
    if check_file is None:
        if target is not None and actual == text:
            click.echo(f"bakegen: {target} is up to date", err=True)
        else:
            emit(text, output)
        return 0
    state = _state(check_file) if actual is not None else "missing"
    diff = render.diff(str(check_file), actual, text, state)
    untracked = _untracked(c, defs) + ([(str(check_file), "it is the file checked")] if state == "untracked" else [])
    if diff is None and not untracked:
        click.echo(f"bakegen: {check_file} is up to date", err=True)
        return 0
    click.echo(diff or "", nl=False)
    for path, why in untracked:
        click.echo(f"bakegen: {path} is not tracked by git (nor staged), but {why}: a clean clone (CI) lacks it; "
                   "git add it", err=True)
    if diff is not None:
        click.echo(f"bakegen: {check_file} is stale; regenerate it with: {pipeline.command(c)}", err=True)
    return 1


def _state(path: Path) -> str:
    """What the file at ``path`` is to git: committed, with uncommitted changes, untracked, or (outside
    a git work tree) just on disk."""
    from .. import gitmeta  # only --check asks git

    listed = gitmeta.listing(path.parent)
    if listed is None:
        return "on disk"
    if path.name not in listed.tracked:
        return "untracked"
    return "uncommitted changes" if path.name in listed.unsure else "committed"


def _read(c: Choices, defs: Definitions) -> dict[str, str]:
    """The files generation read, as messages name them (relative to where bake runs), each with
    why it matters: the definitions, the Dockerfiles it took ARGs from, and the files of each app's
    context it checked. None of bakegen's own."""
    folder = pipeline.folder(c)
    if folder.builtin:
        return {}
    files = {f"{folder.shown}/{PROJECT_FILE}": "the definitions read it"}
    files |= {f"{folder.shown}/{p.parent.name}/{IMAGE_FILE}": "the definitions read it"
              for p in loader.glob(folder.path, f"*/{IMAGE_FILE}")}
    files[f"{folder.shown}/{LOCK_FILE}"] = "the checksums come from it"  # when there is one
    for image in defs.images:
        if image.dockerfile:
            files[posixpath.join(image.context, image.dockerfile)] = f"{image.name}'s build args come from it"
        if isinstance(image, App):
            files |= {f"{image.context}/{f}": f"the build of {image.name} needs it" for f in image.context_files}
            files |= {f"{image.context}/{config}": f"env {env!r} of {image.name} needs it"
                      for env in image.envs if (config := config_of(image, env))}
    return files


def _untracked(c: Choices, defs: Definitions) -> list[tuple[str, str]]:
    """The files generation read that git neither tracks nor has staged: untracked or ignored
    (``gitmeta.listing``, one call per folder: the definitions, each app's context), as messages
    name them."""
    from .. import gitmeta  # only --check asks git

    def norm(shown: str) -> Path:
        return Path(os.path.normpath(c.cwd / shown))

    files = {norm(shown): (shown, why) for shown, why in _read(c, defs).items()}
    roots = sorted({norm(pipeline.folder(c).shown), *(norm(i.context) for i in defs.images if isinstance(i, App))})
    out, seen = [], set()
    for root in roots:
        below = {p: named for p, named in files.items() if p.is_relative_to(root) and p not in seen}
        if not below or (listed := gitmeta.listing(root)) is None:
            continue
        seen |= set(below)
        folders = tuple(u for u in listed.unsure if u.endswith("/"))  # an ignored folder, listed whole
        out += [named for p, named in below.items() if (rel := p.relative_to(root).as_posix()) not in listed.tracked
                and (rel in listed.unsure or rel.startswith(folders))]
    return sorted(out)


def _unlisted_envs(c: Choices, defs: Definitions) -> list[str]:
    """A warning per app whose context has config files (``config``'s pattern with ``{env}``) of
    envs its definition does not list: a new ``etc/app_qa.yaml`` is not an env until ``envs`` says so."""
    warnings = []
    for app in defs.images:
        if not isinstance(app, App) or "{env}" not in app.config or not app.context_present:
            continue
        parts = fill(app.config, "config", app.at("config"), env="\0", app=app.name).split("\0")
        rule = re.compile("([a-z0-9][a-z0-9_-]*)".join(map(re.escape, parts)))
        found = {}
        for path in loader.glob(c.cwd / app.context, "*".join(parts)):
            rel = path.relative_to(c.cwd / app.context).as_posix()
            if (m := rule.fullmatch(rel)) and len(set(m.groups())) == 1 and m[1] not in app.envs:
                found[m[1]] = f"{app.context}/{rel}"
        if found:
            envs = hcl_value([*app.envs, *sorted(found)])
            said = (f'env = "{app.envs[0]}" ({app.at("env")}) is its one env' if "env" in app.where else
                    f"envs ({app.at('envs')}) lists {', '.join(app.envs)}" if "envs" in app.where else
                    f"its definition ({app.at('image')}) has no envs, so its one env is {app.envs[0]}")
            are = "is the config" if len(found) == 1 else "are the configs"
            warnings.append(f'warning: {", ".join(found.values())} {are} of no env of app "{app.name}": {said}; to '
                            f'build {", ".join(sorted(found))} too, write envs = {envs}')
    return warnings
