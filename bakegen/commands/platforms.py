"""``bakegen platforms``: the platforms the definitions build, or with ``--emulated`` those a
build on this machine must emulate (QEMU): the platforms of the images with ``RUN`` steps for
their target platform (the base images), other than the build machine's. An app's generated
Dockerfile compiles on ``$BUILDPLATFORM`` and only copies into its last stages: it needs none.
"""

from __future__ import annotations

import platform
from typing import Any

import click

from .. import loader, pipeline, render
from ..dockerargs import TARGET, run_platforms
from ..errors import BakegenError
from ..model import BakeFile
from ..platforms import canonical_platform, machine_platform
from . import CONTEXT, choices, options

HERE = machine_platform(platform.machine())


def _build_platform(ctx: click.Context, param: click.Parameter, value: str | None) -> str:
    if value is None:
        return HERE
    try:
        return canonical_platform(value)
    except BakegenError as e:
        where = param.envvar if ctx.get_parameter_source(str(param.name)) == click.core.ParameterSource.ENVIRONMENT \
            else param.opts[0]
        raise BakegenError(e.message, str(where)) from None


def _canonical(fixed: str) -> str:
    try:
        return canonical_platform(fixed)
    except BakegenError:
        return fixed


def needs(bake: BakeFile, dockerfiles: dict[str, str | None], build_platform: str) -> dict[str, list[str]]:
    """Each platform other than ``build_platform`` that a target runs commands for, and those
    targets: every platform it builds where its Dockerfile (``dockerfiles``; None: gone since the
    definitions were read, counted as running commands) has ``RUN`` steps for the target platform,
    and a stage's fixed ``--platform``."""
    out: dict[str, list[str]] = {}
    for t in bake.targets:
        text = dockerfiles[t.name]
        where = run_platforms(text, t.stage) if text is not None else frozenset({TARGET})
        for w in sorted(where):
            for p in t.platforms if w == TARGET else [_canonical(w)]:
                if p != build_platform:
                    out.setdefault(p, []).append(t.name)
    return dict(sorted(out.items()))


@click.command("platforms", context_settings=CONTEXT, epilog="""\b
Examples:
  bakegen platforms                 every platform the definitions build: linux/amd64,linux/arm64
  bakegen platforms --emulated      those this machine must emulate, or nothing
  p=$(bakegen platforms --emulated)
  [ -z "$p" ] || docker run --privileged --rm tonistiigi/binfmt --install "$p"
""")
@options("definitions")
@click.option("--emulated", is_flag=True,
              help="Only the platforms a build on --build-platform runs commands for (RUN steps outside "
                   "$BUILDPLATFORM stages): what tonistiigi/binfmt --install and docker/setup-qemu-action's "
                   "platforms take. Nothing when there are none.")
@click.option("--build-platform", metavar="PLATFORM", envvar="BAKEGEN_BUILD_PLATFORM", show_envvar=True,
              callback=_build_platform, help=f"The platform the builder runs on. Default: this machine's ({HERE}).")
@click.pass_context
def platforms_cmd(ctx: click.Context, /, *, emulated: bool, build_platform: str, **params: Any) -> int:
    """Print the platforms the definitions build, comma-separated; with --emulated only those a
    build here must emulate (QEMU), or nothing."""
    c = choices(ctx, params)
    defs = pipeline.load(c)
    bake = pipeline.bake(c, defs)
    if not emulated:
        built = sorted({p for t in bake.targets for p in t.platforms})
        click.echo(",".join(built))
        return 0
    root = loader.package_path("bake").parent if pipeline.folder(c).builtin else c.cwd
    env = loader.templates()
    dockerfiles = {t.name: render.dockerfile(env, bake.dockerfiles[t.inherits]) if t.inherits else
                   loader.read_text(root / t.context / t.dockerfile) for t in bake.targets}
    found = needs(bake, dockerfiles, build_platform)
    said = f"bakegen: {defs.folder}/ on {build_platform}: "
    if found:
        click.echo(said + "emulate " + "; ".join(f"{p} for {', '.join(names)}" for p, names in found.items())
                   + " (their RUN steps run on the target platform)", err=True)
        click.echo(",".join(found))
    else:
        click.echo(said + "nothing to emulate (no image runs commands for another platform)", err=True)
    return 0
