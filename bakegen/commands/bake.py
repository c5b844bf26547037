"""``bakegen bake``: build what the committed bake file says, and only what is not pushed yet.

One command for every place a team builds (``make bake``, CI): it refuses a stale committed file,
writes the per-commit file, asks the registry which images already exist under their content
key, points the new tags of those at them, and runs ``docker buildx bake`` for the rest, reading
the registry cache CI writes (``--cache``) so that a builder without a cache does not start cold.
"""

from __future__ import annotations

import json
import platform
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import click

from .. import bakeplan, buildx, keys, loader, pipeline, render
from ..errors import BakegenError
from ..model import Answer, BakeFile
from ..output import scratch_folder, write_atomic
from ..platforms import machine_platform
from . import CONTEXT, GIT, choices, options

EXIT_BUILD_FAILED = 4


class Stale(click.exceptions.Exit):
    """The committed file is not what the definitions give: exit 1, as ``--check``."""


def _check_committed(c: pipeline.Choices, bake: BakeFile, file: Path) -> None:
    committed = loader.read_text(c.cwd / file)
    if committed is None:
        if pipeline.folder(c).builtin:
            raise BakegenError(f"no bake/ here, so nothing to build: {loader.INIT_HINT}")
        raise BakegenError(f"{file} does not exist: write it (bakegen -o {file}), review it and commit it; "
                           "bakegen bake builds what it says")
    text = render.render_hcl(loader.templates(), bake, pipeline.command(c))
    diff = render.diff(str(file), committed, text)
    if diff is not None:
        click.echo(diff, nl=False)
        click.echo(f"bakegen: {file} is not what bake/ gives: regenerate it (bakegen -o {file}), review the diff "
                   "and commit it; nothing was built", err=True)
        raise Stale(1)


def _selection(bake: BakeFile, defs: Any, state: Any, *, names: tuple[str, ...],
               ci: bool) -> tuple[list[str], set[str], str]:
    if ci:
        selected, test_only, why = bakeplan.owned(bake, defs, state)
        if not selected:
            raise BakegenError(f'no target is built for "{state.branch}" here: no app env lists it in env_branches '
                               "and there is no base image; name targets, or set env_branches")
        return selected, test_only, why
    return bakeplan.named(bake, names or ("default",)), set(), ""


def _default_branch(defs: Any) -> str:
    return str(defs.project.main_branches[0]) if defs.project.main_branches else "main"


def _local_platform() -> str:
    return machine_platform(platform.machine())


def _files(paths: list[str]) -> str:
    return ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")


def _check_published(bake: BakeFile, defs: Any, ky: pipeline.Keys, selected: list[str]) -> None:
    """A published base the registry clearly does not have: the build would fail pulling it."""
    for name in selected:
        t = bake.target(name)
        assert t is not None
        for x in t.contexts:
            answer = ky.published.get(x.name.name)
            if answer is not None and answer.state == "missing":
                image = defs.image(t.image)
                raise BakegenError(f"{name} builds FROM {x.name.resolve(ky.registry)}, which the registry does not "
                                   "have: push the base images first (bakegen bake --push base, in their "
                                   f"repository), or name a published tag in {image.at('image').rsplit(':', 1)[0]}")


def _check_dirty(bake: BakeFile, ky: pipeline.Keys, selected: list[str], *, test_only: set[str], state: Any,
                 push: bool) -> None:
    """What a push of files the commit does not hold does: a base image's tags cannot say it, so
    it is refused; an app's tags say ``-dirty`` (no latest, no release tags), and a line names them."""
    for name in selected:
        files = pipeline.uncommitted(ky.found[name])
        t = bake.target(name)
        assert t is not None
        if not files or not push or name in test_only:
            continue
        if t.kind != "app":
            raise BakegenError(f"{name} would be built from files commit {state.commit[:7]} does not hold "
                               f"({_files(files)}), and its tags ({', '.join(r.tag for r in t.tags[:3])}) cannot "
                               "say so: commit them (or leave them out with .dockerignore), or build without --push")
        click.echo(f"bakegen: warning: {name} is built from files commit {state.commit[:7]} does not hold "
                   f"({_files(files)}): its tags say -dirty, and it gets no latest or release tag", err=True)


def _retag(decision: bakeplan.Decision, registry: buildx.Registry) -> dict[str, str]:
    """Point each reused target's new tags at its image (all at once); the targets that could not
    be tagged, with why."""
    def one(job: tuple[str, str, list[str]]) -> str:
        try:
            registry.retag(job[1], job[2])
        except BakegenError as e:
            return str(e)
        return ""

    with ThreadPoolExecutor(max_workers=8) as pool:
        return {job[0]: why for job, why in zip(decision.retag, pool.map(one, decision.retag), strict=True) if why}


def _summary(d: bakeplan.Decision, selected: int, seconds: float, push: bool) -> str:
    if not d.build and not d.restore:
        return (f"bakegen: nothing to build: {len(d.reuse) + len(d.unchanged)} of {selected} targets are already "
                f"pushed with these inputs ({seconds:.1f} s)")
    parts = [f"built {len(d.build)}" + (" and pushed them" if push and d.build else "")]
    if d.reuse:
        parts.append(f"tagged {len(d.reuse)} already pushed")
    if d.unchanged:
        parts.append(f"left {len(d.unchanged)} unchanged")
    if d.restore:
        parts.append(f"wrote {len(d.restore)} missing registry cache{'s' if len(d.restore) > 1 else ''}")
    return f"bakegen: done in {seconds:.1f} s: {', '.join(parts)}"


def _run_bake(c: pipeline.Choices, meta: BakeFile, decision: bakeplan.Decision, bake_file: Path,
              metadata: bool) -> tuple[int, dict[str, Any]]:
    """docker buildx bake with the committed file, the per-build file and the decision's overrides:
    its exit code, and its metadata."""
    # The per-build files live outside the work tree: in it, they would be in the build context.
    with scratch_folder() as state:
        write_atomic(state / "meta.hcl", render.render_meta_hcl(loader.templates(), meta,
                                                                pipeline.command(c, "meta")))
        files = [state / "meta.hcl"]
        if decision.overrides:  # bake refuses a file whose "target" is empty
            files.append(state / "build.json")
            write_atomic(files[-1], json.dumps({"target": decision.overrides}, indent=2, sort_keys=True) + "\n")
        found = state / "metadata.json"
        args = ["-f", str(bake_file)] + [a for f in files for a in ("-f", str(f))]
        code = buildx.bake([*args, *(["--metadata-file", str(found)] if metadata else []), *decision.args])
        return code, json.loads(loader.read_text(found) or "{}") if metadata and code == 0 else {}


@click.command("bake", context_settings=CONTEXT, epilog="""\b
Examples:
  bakegen bake --push                        every target; what is already pushed is only tagged
  bakegen bake apps-dev --push               one group (make bake-apps ENV=dev)
  bakegen bake --ci --push                   what this branch or release tag builds (CI recipes)
  bakegen bake --load ci-demo-go-dev         one app for this machine, into the local image store
  bakegen bake --print base                  what bake would build
""")
@options("definitions", *GIT)
@click.argument("names", nargs=-1, metavar="[TARGET|GROUP]...")
@click.option("--push", is_flag=True, help="Push the images (and reuse what is already pushed).")
@click.option("--ci", is_flag=True, help="Build what the ref owns: env_branches, main_branches, release tags.")
@click.option("--load", is_flag=True, help="Build for this machine's platform into the local image store; no push.")
@click.option("--print", "show", is_flag=True, help="Print what bake would build (docker buildx bake --print).")
@click.option("--rebuild", is_flag=True, envvar="BAKEGEN_REBUILD", show_envvar=True,
              help="Build everything selected, even what is already pushed.")
@click.option("--metadata-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the pushed digest and tags of every target (bake's metadata format) to FILE.")
@click.option("--file", "bake_file", default="docker-bake.hcl", show_default=True,
              type=click.Path(dir_okay=False, path_type=Path), help="The committed bake file.")
@click.option("--set", "sets", multiple=True, metavar="TARGET.KEY=VALUE", help="Passed to docker buildx bake.")
@click.option("--cache", is_flag=True, envvar="BAKEGEN_CACHE", show_envvar=True,
              help="With --push: write this branch's registry cache (cache-<image>-<branch> in each image's "
                   "<repository>-bakegen), and bring back a missing one, for the next runner that starts empty "
                   "(the CI recipes).")
@click.option("--cache-read/--no-cache-read", default=True, envvar="BAKEGEN_CACHE_READ", show_envvar=True,
              help="Read the registry cache CI writes for what must be built: this branch's, else the default "
                   "branch's, where the registry has them. Default: on.")
@click.option("--default-branch", envvar=["BAKEGEN_DEFAULT_BRANCH", "CI_DEFAULT_BRANCH"], metavar="BRANCH",
              help="The branch whose cache a new branch starts from. Default: $BAKEGEN_DEFAULT_BRANCH, else "
                   "$CI_DEFAULT_BRANCH (GitLab), else the first of main_branches.")
@click.option("--registry-timeout", type=click.FloatRange(min=0.1), default=buildx.REGISTRY_BUDGET,
              show_default=True, envvar="BAKEGEN_REGISTRY_TIMEOUT", show_envvar=True, metavar="SECONDS",
              help="How long all the registry questions of one run may take together; an answer not given "
                   "by then builds.")
@click.pass_context
def bake_cmd(ctx: click.Context, /, *, names: tuple[str, ...], push: bool, ci: bool, load: bool, show: bool,
             rebuild: bool, metadata_file: Path | None, bake_file: Path, sets: tuple[str, ...], cache: bool,
             cache_read: bool, default_branch: str | None, registry_timeout: float, **params: Any) -> int:
    """Build the images of the committed bake file: the targets or groups named (default: all),
    or with --ci what this branch or tag owns; what the registry already has is only tagged."""
    started = time.monotonic()
    if load and (push or ci):
        raise click.UsageError("--load builds for this machine only: not with --push or --ci")
    c = choices(ctx, params)
    defs = pipeline.load(c)
    bake = pipeline.bake(c, defs)
    _check_committed(c, bake, bake_file)
    g = pipeline.git(c, defs)
    selected, test_only, why = _selection(bake, defs, g.state, names=names, ci=ci)
    if load and [n for n in selected if bake.target(n).kind != "app"]:  # type: ignore[union-attr]
        raise click.UsageError("--load builds apps (name one: bakegen bake --load APP-ENV)")
    if load and not show and (missing := buildx.daemon()):
        raise BakegenError(f"--load puts the image into the local Docker image store, but no Docker daemon answers "
                           f"here ({missing}); build with --push, or see the build with --print")
    registry = buildx.Registry(loader.docker_config(), budget=registry_timeout)
    ky = pipeline.content_keys(c, defs, bake, g, registry=registry)
    if push or ci:
        _check_published(bake, defs, ky, selected)
    _check_dirty(bake, ky, selected, test_only=test_only, state=g.state, push=push)
    # --load reuses nothing and builds one platform: no key tag, label or (index) annotation
    meta = pipeline.meta(c, defs, bake, ky._replace(keys={}) if load else ky, g)
    o = bakeplan.Options(push=push, load=load, show=show, rebuild=rebuild, cache=cache, cache_read=cache_read,
                         branch=g.state.branch, default_branch=default_branch or _default_branch(defs), sets=sets,
                         local_platform=_local_platform())
    answers = registry.inspect(bakeplan.key_questions(meta, registry=ky.registry, o=o))

    parts = {name: keys.encode(keys.components(doc)) for name, doc in ky.inputs.items()}

    def decide() -> bakeplan.Decision:
        return bakeplan.decide(bake, defs, meta, selected, keys=ky.keys, unknown=ky.unknown, bases=ky.bases,
                               answers=answers, test_only=test_only, registry=ky.registry, o=o, parts=parts)

    answers |= registry.inspect(bakeplan.more_questions(bake, defs, meta, decide(), registry=ky.registry, o=o))
    decision = decide()
    click.echo(f"bakegen: {why or ' '.join(names or ('default',))}; branch {g.state.branch}, commit "
               f"{g.state.commit[:7] or '(none)'}:", err=True)
    for line in decision.lines:
        click.echo(f"bakegen: {line}", err=True)
    if not show and decision.retag:
        failed = _retag(decision, registry)
        for name, reason in failed.items():
            click.echo(f"bakegen: {name}: could not point its tags at the pushed image ({reason}): building it "
                       "instead", err=True)
            answers[bakeplan.key_refs(meta, ky.registry)[name]] = Answer("unsure", why=f"could not tag it: {reason}")
        if failed:
            decision = decide()
            _retag(decision, registry)
    reused = {name: {"containerimage.digest": digest, "bakegen.reused": True,
                     "image.name": ",".join(t for job in decision.retag if job[0] == name for t in job[2])}
              for name, digest in decision.reuse.items()}
    built: dict[str, Any] = {}
    if decision.build or decision.restore:
        code, built = _run_bake(c, meta, decision, bake_file, metadata_file is not None and not show)
        if code != 0:
            click.echo(f"bakegen: docker buildx bake failed (exit {code})", err=True)
            return EXIT_BUILD_FAILED
    if metadata_file is not None and not show:
        built = {n: v for n, v in built.items() if n in decision.build}  # not a cache-only build's
        doc = {n: {**v, "bakegen.key": ky.keys.get(n)} for n, v in {**built, **reused}.items() if n in selected}
        write_atomic(metadata_file, json.dumps(doc, indent=2, sort_keys=True) + "\n")
    if not show:
        click.echo(_summary(decision, len(selected), time.monotonic() - started, push), err=True)
    return 0
