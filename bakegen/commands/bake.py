"""``bakegen bake``: build what the committed bake file says, and only what is not pushed yet.

One command for every place a team builds (``make bake``, CI): it refuses a stale committed file,
writes the per-commit file, asks the registry which images already exist under their content
key, points the new tags of those at them, and runs ``docker buildx bake`` for the rest, reading
the registry cache CI writes (``--cache``) so that a builder without a cache does not start cold.
"""

from __future__ import annotations

import json
import platform
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import click

from .. import bakeplan, buildx, loader, pipeline, render
from ..errors import BakegenError
from ..keys import TAG_PREFIX
from ..model import BakeFile, Ref
from ..output import scratch_folder, write_atomic
from ..tags import sanitize
from . import CONTEXT, GIT, choices, options

EXIT_BUILD_FAILED = 4


class Stale(click.exceptions.Exit):
    """The committed file is not what the definitions give: exit 1, as ``--check``."""


def _check_committed(c: pipeline.Choices, bake: BakeFile, file: Path) -> None:
    text = render.render_hcl(loader.templates(), bake, pipeline.command(c))
    diff = render.diff(str(file), loader.read_text(c.cwd / file), text)
    if diff is not None:
        click.echo(diff, nl=False)
        click.echo(f"bakegen: {file} is not what bake/ gives: regenerate it (bakegen -o {file}), review the diff "
                   "and commit it; nothing was built", err=True)
        raise Stale(1)


def _selection(bake: BakeFile, defs: Any, state: Any, *, names: tuple[str, ...],
               ci: bool) -> tuple[list[str], set[str]]:
    if ci:
        selected, test_only = bakeplan.owned(bake, defs, state)
        if not selected:
            raise BakegenError(f'no target is built for "{state.branch}" here: no app env lists it in env_branches '
                               "and there is no base image; name targets, or set env_branches")
        return selected, test_only
    return bakeplan.named(bake, names or ("default",)), set()


def _default_branch(defs: Any) -> str:
    return str(defs.project.main_branches[0]) if defs.project.main_branches else "main"


def _local_platform() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "linux/amd64", "amd64": "linux/amd64", "aarch64": "linux/arm64",
            "arm64": "linux/arm64"}.get(machine, f"linux/{machine}")


def _bake_args(file: Path, plan: bakeplan.Plan, bake: BakeFile, *, files: list[Path], push: bool, load: bool,
               show: bool, metadata: Path | None, sets: tuple[str, ...]) -> list[str]:
    args = ["-f", str(file)] + [a for f in files for a in ("-f", str(f))]
    if push and not show:
        args.append("--push")
    if any(t.network == "host" for t in bake.targets if t.name in plan.build):
        args += ["--allow", "network.host"]  # network = "host" in the definitions: bake asks for it
    if load:
        args.append("--load")
        args += [a for name in plan.build for a in ("--set", f"{name}.platform={_local_platform()}")]
    if metadata is not None:
        args += ["--metadata-file", str(metadata)]
    if show:
        args.append("--print")
    args += [a for s in sets for a in ("--set", s)]
    return [*args, *plan.build]


def _overrides(plan: bakeplan.Plan, ky: pipeline.Keys, bake: BakeFile, meta: BakeFile,
               branches: tuple[str, str], *, read: bool, write: bool) -> dict[str, dict[str, Any]]:
    """The per-build overrides of each target (none: bake takes the committed file as it is):
    each build's bases by digest, the test-only outputs, and the registry cache per branch that CI
    writes (``branches``: this branch, the default branch). With ``read`` each target built reads
    this branch's cache, then the default branch's (so a new branch starts from it), then a shared
    one the definitions name (``registry_cache``); with ``write`` it writes this branch's."""
    targets: dict[str, dict[str, Any]] = {}
    for name in plan.build if read or write else ():
        t, m = bake.target(name), meta.target(name)
        assert t is not None and m is not None
        path = (m.tags or t.tags)[0].path
        caches = [Ref(path, cache_branch_tag(name, branch)) for branch in dict.fromkeys(branches)]
        if read:
            targets[name] = {"cache-from": [render.cache_from(r) for r in caches + ([t.cache] if t.cache else [])]}
        if write:
            targets.setdefault(name, {})["cache-to"] = [render.cache_to(caches[0])]
    for name, pins in plan.contexts.items():
        t = bake.target(name)
        assert t is not None
        refs = {x.name.name: x.name for x in t.contexts}
        targets.setdefault(name, {})["contexts"] = {
            render.ref(refs[n]): render.template_escape(
                f"docker-image://{refs[n]._replace(tag='', digest=d).resolve(ky.registry)}") for n, d in pins.items()}
    for name in plan.test_only:
        targets.setdefault(name, {})["output"] = ["type=cacheonly"]
    return targets


def cache_branch_tag(target: str, branch: str) -> str:
    """``buildcache-<target>-<branch>``: one registry cache per target and branch, a valid tag."""
    return sanitize(f"buildcache-{target}-{branch}")[:128].rstrip(".-")


def _retag(plan: bakeplan.Plan, meta: BakeFile, registry: str, docker: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Point each reused target's new tags at its image (all at once); what each got, as bake's
    metadata says it."""
    jobs = {}
    for name, digest in plan.reuse.items():
        per_build = meta.target(name)
        assert per_build is not None
        source = per_build.tags[-1]._replace(tag="", digest=digest).resolve(registry)  # the key tag's repository
        jobs[name] = (source, [r.resolve(registry) for r in per_build.tags if not r.tag.startswith(TAG_PREFIX)])
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda job: buildx.retag(job[0], job[1], docker), jobs.values()))
    for name, (source, tags) in jobs.items():
        click.echo(f"bakegen: {name}: its inputs did not change; tagged {source} as "
                   f"{', '.join(t.rsplit(':', 1)[-1] for t in tags)}", err=True)
    return {name: {"containerimage.digest": plan.reuse[name], "image.name": ",".join(tags), "bakegen.reused": True}
            for name, (_, tags) in jobs.items()}


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
              help="Write the registry cache of this branch (buildcache-<target>-<branch> beside each image), "
                   "for the next runner that starts empty (the CI recipes).")
@click.option("--cache-read/--no-cache-read", default=True, envvar="BAKEGEN_CACHE_READ", show_envvar=True,
              help="Read the registry cache CI writes for what must be built: this branch's, else the default "
                   "branch's. Default: on.")
@click.option("--default-branch", envvar=["BAKEGEN_DEFAULT_BRANCH", "CI_DEFAULT_BRANCH"], metavar="BRANCH",
              help="The branch whose cache a new branch starts from. Default: $CI_DEFAULT_BRANCH, else the "
                   "first of main_branches.")
@click.pass_context
def bake_cmd(ctx: click.Context, /, *, names: tuple[str, ...], push: bool, ci: bool, load: bool, show: bool,
             rebuild: bool, metadata_file: Path | None, bake_file: Path, sets: tuple[str, ...], cache: bool,
             cache_read: bool, default_branch: str | None, **params: Any) -> int:
    """Build the images of the committed bake file: the targets or groups named (default: all),
    or with --ci what this branch or tag owns; what the registry already has is only tagged."""
    if load and (push or ci):
        raise click.UsageError("--load builds for this machine only: not with --push or --ci")
    c = choices(ctx, params)
    defs = pipeline.load(c)
    bake = pipeline.bake(c, defs)
    _check_committed(c, bake, bake_file)
    g = pipeline.git(c, defs)
    selected, test_only = _selection(bake, defs, g.state, names=names, ci=ci)
    if load and [n for n in selected if bake.target(n).kind != "app"]:  # type: ignore[union-attr]
        raise click.UsageError("--load builds apps (name one: bakegen bake --load APP-ENV)")
    ky = pipeline.content_keys(c, defs, bake, g)
    meta = pipeline.meta(c, defs, bake, ky, g)
    refs = {} if load else {t.name: tag for t in meta.targets for tag in t.tags if tag.tag.startswith(TAG_PREFIX)}
    docker = loader.docker_config()
    answers = buildx.inspect({r.resolve(ky.registry): bake.target(n).platforms for n, r in refs.items()},  # type: ignore[union-attr]
                             docker)
    plan = bakeplan.plan(bake, selected, keys=ky.keys, bases=ky.bases, push=push, rebuild=rebuild or load,
                         test_only=test_only, answers={n: answers[r.resolve(ky.registry)] for n, r in refs.items()})
    reused = {} if show else _retag(plan, meta, ky.registry, docker)
    for name in plan.unchanged:
        click.echo(f"bakegen: {name}: its inputs did not change and it is not pushed from here: not built", err=True)
    built: dict[str, Any] = {}
    if plan.build:
        # The per-build files live outside the work tree: in it, they would be in the build context.
        with scratch_folder() as state:
            write_atomic(state / "meta.hcl", render.render_meta_hcl(loader.templates(), meta,
                                                                    pipeline.command(c, "meta")))
            branches = (g.state.branch, default_branch or _default_branch(defs))
            overrides = _overrides(plan, ky, bake, meta, branches, read=cache_read, write=cache)
            files = [state / "meta.hcl"]
            if overrides:  # bake refuses a file whose "target" is empty
                files.append(state / "build.json")
                write_atomic(files[-1], json.dumps({"target": overrides}, indent=2, sort_keys=True) + "\n")
            bake_metadata = state / "metadata.json" if metadata_file and not show else None
            code = buildx.bake(_bake_args(bake_file, plan, bake, files=files, push=push, load=load, show=show,
                                          metadata=bake_metadata, sets=sets))
            if code != 0:
                click.echo(f"bakegen: docker buildx bake failed (exit {code})", err=True)
                return EXIT_BUILD_FAILED
            built = json.loads(loader.read_text(bake_metadata) or "{}") if bake_metadata else {}
    elif not show:
        click.echo(f"bakegen: nothing to build: {len(reused) + len(plan.unchanged)} of {len(selected)} targets are "
                   "already pushed with these inputs", err=True)
    if metadata_file is not None and not show:
        doc = {n: {**v, "bakegen.key": ky.keys.get(n)} for n, v in {**built, **reused}.items() if n in selected}
        write_atomic(metadata_file, json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return 0


