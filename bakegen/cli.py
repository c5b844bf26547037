"""The command line: the root command (the committed bake file) and the exit codes. Each other
command is a module of ``bakegen.commands``, imported only when that command runs (or ``--help``
lists it): generating the bake file imports no registry client, buildx wrapper or git runner of
another command.

Exit codes: 0 done; 1 ``--check`` found a stale file; 2 bad input or usage (one line on stderr);
3 a bug in bakegen (one line; ``BAKEGEN_DEBUG=1`` shows the traceback); 130 interrupted.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from . import __version__
from .commands import CONTEXT, OUTPUT, Before, choices, options
from .commands.generate import generate
from .errors import BakegenError

EXAMPLES = """\b
Examples:
  bakegen init                       start bake/ in a base-images repository
  bakegen init --app svc             start bake/ in a service repository
  bakegen -o docker-bake.hcl         write the bake file (atomically)
  bakegen --check docker-bake.hcl    exit 1 with a diff when it is stale
  bakegen meta -o meta.hcl && docker buildx bake -f docker-bake.hcl -f meta.hcl
  bakegen -o docker-bake.hcl meta -o meta.hcl    both files, one process (make bake)
"""
_FILE = click.Path(dir_okay=False, path_type=Path)


# Each command's module, imported when the command is looked up (static imports, so the layout
# check sees every edge).
def _bake() -> click.Command:
    from .commands.bake import bake_cmd
    return bake_cmd


def _meta() -> click.Command:
    from .commands.meta import meta_cmd
    return meta_cmd


def _tags() -> click.Command:
    from .commands.inspect import tags_cmd
    return tags_cmd


def _graph() -> click.Command:
    from .commands.inspect import graph_cmd
    return graph_cmd


def _explain() -> click.Command:
    from .commands.inspect import explain_cmd
    return explain_cmd


def _builder() -> click.Command:
    from .commands.builder import builder_cmd
    return builder_cmd


def _init() -> click.Command:
    from .commands.init import init_cmd
    return init_cmd


def _lock() -> click.Command:
    from .commands.lock import lock_cmd
    return lock_cmd


def _platforms() -> click.Command:
    from .commands.platforms import platforms_cmd
    return platforms_cmd


COMMANDS: dict[str, Callable[[], click.Command]] = {
    "bake": _bake, "meta": _meta, "tags": _tags, "graph": _graph, "explain": _explain, "builder": _builder,
    "init": _init, "lock": _lock, "platforms": _platforms,
}


class Commands(click.Group):
    """The root command, whose subcommands (``COMMANDS``) are imported when looked up: the one a
    run names, or every one for ``--help`` and shell completion (click's lazy group pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            self.add_command(COMMANDS[cmd_name](), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=Commands, invoke_without_command=True, context_settings=CONTEXT, epilog=EXAMPLES)
@click.version_option(__version__, "--version", prog_name="bakegen")
@options(*OUTPUT)
@click.option("-o", "--output", type=_FILE, help="Write to FILE (atomically).")
@click.option("--check", "check_file", metavar="FILE", type=_FILE,
              help="Exit 0 if FILE is what bakegen would write, else 1 with a unified diff.")
@options("fmt")
@click.pass_context
def cli(ctx: click.Context, /, output: Path | None, check_file: Path | None, **params: Any) -> int | None:
    """Generate docker-bake.hcl for Go toolchain, runtime and app images from their definitions.

    With no command, prints the bake file to commit. Its per-commit values come from `bakegen meta`.
    """
    if output and check_file:
        raise click.UsageError("-o and --check exclude each other")
    c = choices(ctx, params)
    if ctx.invoked_subcommand is None:
        return generate(c, output, check_file)
    # The options typed before the command's name: the command's own, or refused there.
    ctx.obj = Before.of(ctx, params, generates=bool(output or check_file))
    if output or check_file:
        # `bakegen -o docker-bake.hcl meta -o meta.hcl`: both files from one process (make bake)
        if ctx.invoked_subcommand != "meta":
            raise BakegenError(f"{'-o' if output else '--check'} does not apply to {ctx.invoked_subcommand}: it "
                               "writes or checks the bake file, without a command or before meta")
        code = generate(c, output, check_file)
        if code:
            raise click.exceptions.Exit(code)
    return None


def main(argv: list[str] | None = None) -> int:
    try:
        rv = cli.main(args=argv, prog_name="bakegen", standalone_mode=False)
    except BakegenError as e:
        click.echo(f"bakegen: error: {e}", err=True)
        return 2
    except click.exceptions.Exit as e:
        return int(e.exit_code)
    except click.ClickException as e:
        if isinstance(e, click.UsageError):  # one line, as every error: the command's --help has the rest
            see = f" (see {e.ctx.command_path} --help)" if e.ctx else ""
            click.echo(f"bakegen: error: {e.format_message()}{see}", err=True)
        else:
            e.show()
        return 2
    except (click.Abort, KeyboardInterrupt):
        click.echo("bakegen: aborted", err=True)
        return 130
    except Exception as e:  # a bug: one line, its own exit code
        if os.environ.get("BAKEGEN_DEBUG"):
            traceback.print_exc()
        where = traceback.extract_tb(e.__traceback__)[-1]
        click.echo(f"bakegen: internal error: {type(e).__name__}: {e} ({Path(where.filename).name}:{where.lineno}); "
                   "please report it (BAKEGEN_DEBUG=1 shows the traceback)", err=True)
        return 3
    return rv if isinstance(rv, int) else 0


def entry() -> None:  # console script
    sys.exit(main())
