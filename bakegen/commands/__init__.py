"""bakegen's commands, one module each; this module holds the options they share. A command
declares only the options it uses (``@options("registry", "env")``); each is also read from its
``BAKEGEN_*`` variable, and a value is blamed on where it came from (``--env`` or ``BAKEGEN_ENV``).
Options given before the command name (``bakegen --registry r tags x``) count for it when it
declares them, and are an error when it does not.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ..pipeline import Choices
from ..plan import Choice
from ..tags import check_registry

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
F = TypeVar("F", bound=Callable[..., Any])


def _source(ctx: click.Context, param: click.Parameter) -> str:
    """Where a value came from: the option's flag, or its environment variable."""
    source = ctx.get_parameter_source(str(param.name))
    if source is not None and source.name == "ENVIRONMENT" and isinstance(param, click.Option) and param.envvar:
        return str(param.envvar)
    return param.opts[0]


def _registry(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    return None if value is None else check_registry(value, _source(ctx, param))


def _opt(*names: str, envvar: str, **kw: Any) -> Callable[[F], F]:
    return click.option(*names, envvar=envvar, show_envvar=True, **kw)


_FOLDER = click.Path(file_okay=False, path_type=Path)
OPTIONS: dict[str, Callable[[F], F]] = {
    "registry": _opt("--registry", envvar="BAKEGEN_REGISTRY", metavar="HOST[/PREFIX]", callback=_registry,
                     help="Registry of every image (the REGISTRY variable's default)."),
    "go_version": _opt("--go-version", envvar="BAKEGEN_GO_VERSION", metavar="VERSION",
                       help="Build the toolchain for this Go version only (1.24.2, go1.25rc1, 1.24 = newest known "
                            "1.24.x)."),
    "app": _opt("--app", envvar="BAKEGEN_APP", metavar="NAME",
                help="Only this app's targets (besides the base images)."),
    "env": _opt("--env", envvar="BAKEGEN_ENV", metavar="ENV",
                help="Only the apps' targets for this env (dev, test, prd...)."),
    "registry_cache": _opt("--registry-cache/--no-registry-cache", "registry_cache", default=None,
                           envvar="BAKEGEN_REGISTRY_CACHE",
                           help="Add a shared registry cache (cache-from/cache-to) to every target."),
    "definitions": _opt("--definitions", envvar="BAKEGEN_DEFINITIONS", metavar="DIR", type=_FOLDER,
                        help="Definitions folder. Default: ./bake when it has bakegen.hcl, else the built-in "
                             "example."),
    "repo": _opt("--repo", envvar="BAKEGEN_REPO", metavar="DIR", type=_FOLDER,
                 help="Git repository that gives branch and commit. Default: the current directory."),
    "branch": _opt("--branch", envvar="BAKEGEN_BRANCH", help="Branch name, instead of git and CI variables."),
    "commit": _opt("--commit", envvar="BAKEGEN_COMMIT",
                   help="Commit hash, instead of HEAD (its release tags still count)."),
    "unshallow": _opt("--unshallow", envvar="BAKEGEN_UNSHALLOW", is_flag=True, default=None,
                      help="In a shallow clone, fetch the history and tags first (git fetch --unshallow --tags)."),
}
OUTPUT = ("registry", "go_version", "app", "env", "registry_cache", "definitions")  # what changes the bake file
GIT = ("repo", "branch", "commit", "unshallow")


def options(*names: str) -> Callable[[F], F]:
    def deco(f: F) -> F:
        for name in reversed(names):
            f = OPTIONS[name](f)
        return f
    return deco


def given(ctx: click.Context, params: dict[str, Any]) -> dict[str, Any]:
    """The options of ``params`` that were given (not defaults): the plain value for a flag, else
    a ``Choice`` that knows where the value came from."""
    out: dict[str, Any] = {}
    for param in ctx.command.params:
        name, source = str(param.name), ctx.get_parameter_source(str(param.name))
        if name in OPTIONS and params.get(name) is not None and source is not None and source.name != "DEFAULT":
            out[name] = params[name] if name in ("registry_cache", "repo", "branch", "commit", "unshallow") else \
                Choice(str(params[name]), _source(ctx, param))
    return out


def choices(ctx: click.Context, params: dict[str, Any], *, json: bool = False) -> Choices:
    """This command's choices, with those given before its name (kept by the root command in
    ``ctx.obj``) where it did not give them itself."""
    before = dict(ctx.obj or {}) if ctx.parent is not None else {}
    stray = sorted(set(before) - {str(p.name) for p in ctx.command.params})
    if stray:
        raise click.UsageError(f"--{stray[0].replace('_', '-')} does not apply to {ctx.info_name}")
    return Choices(**before | given(ctx, params), json=json)
