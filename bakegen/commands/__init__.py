"""bakegen's commands, one module each; this module holds the options they share. A command
declares only the options it uses (``@options("registry", "env")``); each is also read from its
``BAKEGEN_*`` variable, and a value is blamed on where it came from (``--env`` or ``BAKEGEN_ENV``).
The root command's options given before a command's name (``bakegen --registry r tags x``) count
for that command when it declares them, and are an error (one line naming the option and the
command) when it does not, unless the root command used them itself (``bakegen --registry r -o
docker-bake.hcl meta``). A ``BAKEGEN_*`` variable is each command's own to read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click

from ..errors import BakegenError
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
    "fmt": click.option("--format", "fmt", type=click.Choice(["hcl", "json"]), default="hcl", show_default=True,
                        help="hcl (docker-bake.hcl) or json (docker-bake.json); bake reads both."),
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
            out[name] = params[name] if name in _PLAIN else Choice(str(params[name]), _source(ctx, param))
    return out


_PLAIN = ("registry_cache", "repo", "branch", "commit", "unshallow", "fmt")  # kept as values, not Choices


@dataclass(frozen=True)
class Before:
    """The root command's options typed before a command's name (``bakegen --env prd meta``): their
    values and flags as typed, and whether the root command writes or checks the bake file with
    them itself (``-o``/``--check`` before ``meta``)."""

    values: dict[str, Any] = field(default_factory=dict)
    flags: dict[str, str] = field(default_factory=dict)
    generates: bool = False

    @classmethod
    def of(cls, ctx: click.Context, params: dict[str, Any], *, generates: bool) -> Before:
        typed = {str(p.name): p for p in ctx.command.params if str(p.name) in OPTIONS and params.get(str(p.name))
                 is not None and getattr(ctx.get_parameter_source(str(p.name)), "name", "") == "COMMANDLINE"}
        values = {name: v for name, v in given(ctx, params).items() if name in typed}
        flags = {name: (p.secondary_opts[0] if params[name] is False and p.secondary_opts else p.opts[0])
                 for name, p in typed.items()}
        return cls(values, flags, generates)


def inherited(ctx: click.Context) -> dict[str, Any]:
    """The options typed before this command's name that it takes. One it does not take is an
    error, unless the root command used it (``Before.generates``)."""
    before = ctx.obj if ctx.parent is not None and isinstance(ctx.obj, Before) else Before()
    mine = {str(p.name) for p in ctx.command.params}
    for name, flag in before.flags.items():
        if name not in mine and not before.generates:
            own = any(flag in p.opts or flag in p.secondary_opts for p in ctx.command.params)
            raise BakegenError(f"{flag} does not apply to {ctx.info_name}" + (
                f" when given before it: bakegen {ctx.info_name} {flag} ... is {ctx.info_name}'s own" if own else ""))
    return {name: v for name, v in before.values.items() if name in mine}


def choices(ctx: click.Context, params: dict[str, Any]) -> Choices:
    """This command's choices, with those typed before its name (kept by the root command in
    ``ctx.obj``) where it did not give them itself."""
    chosen = inherited(ctx) | given(ctx, params)
    return Choices(**{k: v for k, v in chosen.items() if k != "fmt"}, json=chosen.get("fmt") == "json")
