"""The command line: options, commands, exit codes. Each command is a small function; the work is
done by the pure modules (definitions -> plan -> render) and the edges (session, gitmeta, output).

Exit codes: 0 done; 1 ``--check`` found a stale file; 2 bad input or usage (one line on stderr).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .errors import BakegenError
from .model import BakeFile
from .session import Session

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
F = TypeVar("F", bound=Callable[..., Any])


def _opt(*names: str, envvar: str | None = None, **kw: Any) -> Callable[[F], F]:
    return click.option(*names, envvar=envvar, show_envvar=bool(envvar), **kw)


SHARED = [
    _opt("--registry", envvar="BAKEGEN_REGISTRY", metavar="HOST[/PREFIX]",
         help="Registry of every image (the REGISTRY variable's default)."),
    _opt("--go-version", envvar="BAKEGEN_GO_VERSION", metavar="VERSION",
         help="Build the toolchain for this Go version only (1.24.2, go1.25rc1, 1.24 = newest known 1.24.x)."),
    _opt("--app", envvar="BAKEGEN_APP", metavar="NAME", help="Only this app's targets (besides the base images)."),
    _opt("--env", envvar="BAKEGEN_ENV", metavar="ENV", help="Only the apps' targets for this env (dev, test, prd...)."),
    _opt("--registry-cache/--no-registry-cache", "registry_cache", default=None, envvar="BAKEGEN_REGISTRY_CACHE",
         help="Add a shared registry cache (cache-from/cache-to) to every target."),
    _opt("--definitions", envvar="BAKEGEN_DEFINITIONS", metavar="DIR",
         type=click.Path(file_okay=False, path_type=Path),
         help="Definitions folder. Default: ./bake when it has bakegen.hcl, else the built-in example."),
    _opt("--repo", envvar="BAKEGEN_REPO", metavar="DIR", type=click.Path(file_okay=False, path_type=Path),
         help="Git repository that gives branch and commit. Default: the current directory."),
]
GIT = [
    _opt("--branch", envvar="BAKEGEN_BRANCH", help="Branch name, instead of git and CI variables."),
    _opt("--commit", envvar="BAKEGEN_COMMIT", help="Commit hash, instead of HEAD (its release tags still count)."),
]


def options(opts: list[Callable[[F], F]]) -> Callable[[F], F]:
    def deco(f: F) -> F:
        for o in reversed(opts):
            f = o(f)
        return f
    return deco


def _session(ctx: click.Context, /, params: dict[str, Any]) -> Session:
    """Merge this command's options with the ones given before the command name, remembering
    for each where it came from (``--env`` or ``BAKEGEN_ENV``) to blame a bad value on it."""
    root = ctx.find_root().obj
    parent = root if isinstance(root, Session) else Session({})
    values, sources = dict(parent.values), dict(parent.sources)
    for name, value in params.items():
        source = ctx.get_parameter_source(name)
        param = next((p for p in ctx.command.params if p.name == name), None)
        if source is not None and source.name == "ENVIRONMENT" and isinstance(param, click.Option) and param.envvar:
            sources[name] = str(param.envvar)
        elif source is not None and source.name == "COMMANDLINE" and param is not None and param.opts:
            sources[name] = param.opts[0]
        if value is not None or name not in values:
            values[name] = value
    if values == parent.values:
        return parent  # nothing new after the command name: reuse what the parent loaded
    return Session(values, sources)


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
    else:
        from .output import write_atomic

        write_atomic(output, text)
        click.echo(f"bakegen: wrote {output}", err=True)


def _warn(bake: BakeFile) -> None:
    for w in bake.warnings:
        click.echo(f"bakegen: {w}", err=True)


EXAMPLES_MAIN = """\b
Examples:
  bakegen init                       start bake/ in a base-images repository
  bakegen init --app svc             start bake/ in a service repository
  bakegen -o docker-bake.hcl         write the bake file (atomically)
  bakegen --check docker-bake.hcl    exit 1 with a diff when it is stale
  bakegen meta -o meta.hcl && docker buildx bake -f docker-bake.hcl -f meta.hcl
  bakegen -o docker-bake.hcl meta -o meta.hcl    both files, one process (make bake)
"""


@click.group(invoke_without_command=True, context_settings=CONTEXT, epilog=EXAMPLES_MAIN)
@click.version_option(__version__, "--version", prog_name="bakegen")
@options(SHARED)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE (atomically).")
@click.option("--check", "check_file", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path),
              help="Exit 0 if FILE is what bakegen would write, else 1 with a unified diff.")
@click.option("--format", "fmt", type=click.Choice(["hcl", "json"]), default="hcl", show_default=True,
              help="hcl (docker-bake.hcl) or json (docker-bake.json); bake reads both.")
@click.pass_context
def cli(ctx: click.Context, /, output: Path | None, check_file: Path | None, fmt: str, **params: Any) -> int | None:
    """Generate docker-bake.hcl for Go toolchain, runtime and app images from their definitions.

    With no command, prints the bake file to commit. Its per-commit values come from `bakegen meta`.
    """
    ctx.obj = _session(ctx, {**params, "format": fmt})
    if output and check_file:
        raise click.UsageError("-o and --check exclude each other")
    if ctx.invoked_subcommand is None:
        return cmd_generate(ctx.obj, output, check_file)
    if output or check_file:
        # `bakegen -o docker-bake.hcl meta -o meta.hcl`: both files from one process (make bake)
        if ctx.invoked_subcommand != "meta":
            raise click.UsageError(f"-o and --check write or check the bake file: give them without a command "
                                   f"or before meta, not before {ctx.invoked_subcommand}")
        code = cmd_generate(ctx.obj, output, check_file)
        if code:
            raise click.exceptions.Exit(code)
    return None


def cmd_generate(s: Session, output: Path | None, check_file: Path | None) -> int:
    from . import render
    from .output import check

    bake = s.bake
    _warn(bake)
    notice = s.check_buildable(bake, check_file or output)
    if notice:
        click.echo(notice, err=True)
    text = render.render_json(bake) if s.get("format") == "json" else render.render_hcl(bake, s.command())
    if check_file is None:
        if output is not None and check(output, text) is None:
            click.echo(f"bakegen: {output} is up to date", err=True)
            return 0
        _emit(text, output)
        return 0
    diff = check(check_file, text)
    if diff is None:
        click.echo(f"bakegen: {check_file} is up to date", err=True)
        return 0
    click.echo(diff, nl=False)
    click.echo(f"bakegen: {check_file} is stale; regenerate it with: {s.command()}", err=True)
    return 1


@cli.command("meta", context_settings=CONTEXT, epilog="""\b
Examples:
  bakegen meta -o meta.hcl
  docker buildx bake -f docker-bake.hcl -f meta.hcl --print
  bakegen meta --env prd --branch main --commit "$CI_COMMIT_SHA" -o meta.hcl
""")
@options(SHARED + GIT)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE (atomically).")
@click.option("--format", "fmt", type=click.Choice(["hcl", "json"]), default="hcl", show_default=True)
@click.pass_context
def meta_cmd(ctx: click.Context, /, output: Path | None, fmt: str, **params: Any) -> int:
    """Print the per-commit values (app tags, revision, created, git args) as a bake file.

    Pass it after the committed file: docker buildx bake -f docker-bake.hcl -f META.
    """
    from . import render

    s = _session(ctx, {**params, "format": fmt})
    m = s.meta()
    text = render.render_json(m, per_build=True) if fmt == "json" else render.render_meta_hcl(m, s.command("meta"))
    _emit(text, output)
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        rv = cli.main(args=argv, prog_name="bakegen", standalone_mode=False)
    except BakegenError as e:
        click.echo(f"bakegen: error: {e}", err=True)
        return 2
    except click.exceptions.Exit as e:
        return int(e.exit_code)
    except click.ClickException as e:
        e.show()
        return 2
    except click.Abort:
        click.echo("bakegen: aborted", err=True)
        return 130
    return rv if isinstance(rv, int) else 0


def entry() -> None:  # console script
    sys.exit(main())


from . import commands  # noqa: E402  (registers tags, graph, explain, builder, init, lock on `cli`)

__all__ = ["cli", "commands", "entry", "main"]
