"""The command line: options, commands, exit codes. Each command is a small function; the work is
done by the pure modules (definitions -> plan -> render) and the edges (gitmeta, output).

Exit codes: 0 done; 1 ``--check`` found a stale file; 2 bad input or usage (one line on stderr).
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import click

from . import __version__
from .errors import BakegenError, did_you_mean

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _opt(*names, envvar=None, **kw):
    return click.option(*names, envvar=envvar, show_envvar=bool(envvar), **kw)


SHARED = [
    _opt("--registry", envvar="BAKEGEN_REGISTRY", metavar="HOST[/PREFIX]",
         help="Registry of every image (the REGISTRY variable's default)."),
    _opt("--go-version", envvar="BAKEGEN_GO_VERSION", metavar="VERSION",
         help="Build the toolchain for this Go version only (1.24.2, go1.25rc1, 1.24 = newest known 1.24.x)."),
    _opt("--app", envvar="BAKEGEN_APP", metavar="NAME", help="The app's name: its target, image and APP arg."),
    _opt("--env", envvar="BAKEGEN_ENV", metavar="ENV", help="The app's environment (APP_ENV): dev, test, prd..."),
    _opt("--registry-cache/--no-registry-cache", "registry_cache", default=None, envvar="BAKEGEN_REGISTRY_CACHE",
         help="Add a shared registry cache (cache-from/cache-to) to every target."),
    _opt("--definitions", envvar="BAKEGEN_DEFINITIONS", metavar="DIR",
         type=click.Path(file_okay=False, path_type=Path),
         help="Definitions folder. Default: ./bake when it has bakegen.hcl, else the built-in ones."),
    _opt("--repo", envvar="BAKEGEN_REPO", metavar="DIR", type=click.Path(file_okay=False, path_type=Path),
         help="Git repository that gives branch and commit. Default: the current directory."),
]
GIT = [
    _opt("--branch", envvar="BAKEGEN_BRANCH", help="Branch name, instead of git and CI variables."),
    _opt("--commit", envvar="BAKEGEN_COMMIT", help="Commit hash, instead of git."),
]
# Options that change the committed file, in the order the header's command names them.
OUTPUT_OPTIONS = ("registry", "go_version", "app", "env", "registry_cache", "definitions")


def options(opts):
    def deco(f):
        for o in reversed(opts):
            f = o(f)
        return f
    return deco


@dataclass
class Session:
    """Resolved options of one run; loads and plans at most once."""

    values: dict
    explicit: dict = field(default_factory=dict)  # options given on the command line or environment

    def get(self, name):
        return self.values.get(name)

    @property
    def cwd(self) -> Path:
        return Path.cwd()

    def overrides(self):
        from .plan import Overrides

        return Overrides(registry=self.get("registry"), go_version=self.get("go_version"),
                         app=self.get("app"), env=self.get("env"), registry_cache=self.get("registry_cache"))

    @cached_property
    def definitions(self):
        from . import definitions
        from .plan import apply_overrides

        folder = self.get("definitions")
        if folder is not None:
            if not (folder / definitions.PROJECT_FILE).is_file():
                raise BakegenError(f"--definitions {folder}: no {definitions.PROJECT_FILE} there")
            shown = definitions.relative_to_cwd(folder.resolve(), self.cwd)
        else:
            folder, shown = definitions.default_dir(self.cwd)
        return apply_overrides(definitions.load(folder, shown), self.overrides())

    @cached_property
    def bake(self):
        from .plan import plan

        bake = plan(self.definitions, dt.date.today())
        for w in bake.warnings:
            click.echo(f"bakegen: {w}", err=True)
        return bake

    @property
    def build_registry(self) -> str:
        """The registry a build uses, resolved as bake does: --registry, else $REGISTRY (bake's
        variable), else the definitions'."""
        return self.get("registry") or os.environ.get("REGISTRY") or self.definitions.project.registry

    def git(self):
        from . import gitmeta

        apps = [i for i in self.definitions.images if i.kind == "app"]
        short = apps[0].short_length if apps else 7
        return gitmeta.read(self.get("repo") or self.cwd, os.environ, short_length=short,
                            branch=self.get("branch"), commit=self.get("commit"))

    def meta(self):
        from .plan import plan_meta

        return plan_meta(self.definitions, self.bake, self.git())

    def command(self, output: str | None, sub: str | None = None) -> str:
        """The command that regenerates the output, for its header: ``$BAKEGEN_COMMAND`` when set
        (a Make target naming itself), else bakegen with the options that changed the output."""
        if os.environ.get("BAKEGEN_COMMAND"):
            return os.environ["BAKEGEN_COMMAND"]
        words = ["bakegen"] + ([sub] if sub else [])
        for name in OUTPUT_OPTIONS + (("branch", "commit") if sub else ()):
            value = self.explicit.get(name)
            if value is None:
                continue
            flag = "--" + name.replace("_", "-")
            if isinstance(value, bool):
                words.append(flag if value else "--no-" + name.replace("_", "-"))
            else:
                words += [flag, str(value)]
        if self.get("format") == "json":
            words += ["--format", "json"]
        if output:
            words += ["-o", output]
        return " ".join(shlex.quote(w) for w in words)


def _session(ctx: click.Context, params: dict) -> Session:
    """Merge this command's options with the ones given before the command name."""
    parent = ctx.find_root().obj or Session({})
    values = dict(parent.values)
    explicit = dict(parent.explicit)
    for name, value in params.items():
        source = ctx.get_parameter_source(name)
        if value is not None and source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT"):
            explicit[name] = value
        if value is not None or name not in values:
            values[name] = value
    return Session(values, explicit)


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
    else:
        from .output import write_atomic

        write_atomic(output, text)
        click.echo(f"bakegen: wrote {output}", err=True)


EXAMPLES_MAIN = """\b
Examples:
  bakegen > docker-bake.hcl          print the bake file
  bakegen -o docker-bake.hcl         write it atomically
  bakegen --check docker-bake.hcl    exit 1 with a diff when it is stale
  bakegen --format json -o docker-bake.json
  bakegen meta -o meta.hcl && docker buildx bake -f docker-bake.hcl -f meta.hcl
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
def cli(ctx: click.Context, output, check_file, fmt, **params):
    """Generate docker-bake.hcl for the Go toolchain, runtime and app images from their definitions.

    With no command, prints the bake file to commit. Its per-build values come from `bakegen meta`.
    """
    ctx.obj = _session(ctx, {**params, "format": fmt})
    if ctx.invoked_subcommand is not None:
        return None
    if output and check_file:
        raise click.UsageError("-o and --check exclude each other")
    return cmd_generate(ctx.obj, output, check_file)


def cmd_generate(s: Session, output: Path | None, check_file: Path | None) -> int:
    from . import render

    target = check_file or output
    command = s.command(str(target) if target else ("docker-bake.json" if s.get("format") == "json" else "docker-bake.hcl"))
    bake = s.bake
    text = render.render_json(bake) if s.get("format") == "json" else render.render_hcl(bake, command)
    from .output import check, read_existing, recorded_command

    if check_file is None:
        if output is not None and check(output, text) is None:
            # Same content: leave the file (and the command its header names) as it is.
            click.echo(f"bakegen: {output} is up to date", err=True)
            return 0
        _emit(text, output)
        return 0
    diff = check(check_file, text)
    if diff is None:
        click.echo(f"bakegen: {check_file} is up to date", err=True)
        return 0
    click.echo(diff, nl=False)
    existing = read_existing(check_file)
    how = (recorded_command(existing) if existing and not os.environ.get("BAKEGEN_COMMAND") else None) or command
    click.echo(f"bakegen: {check_file} is stale; regenerate it with: {how}", err=True)
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
def meta_cmd(ctx, output, fmt, **params):
    """Print the per-build values (app tags, revision, created, git args) as a bake file.

    Pass it after the committed file: docker buildx bake -f docker-bake.hcl -f META.
    """
    from . import render

    s = _session(ctx, params)
    m = s.meta()
    text = render.render_json(m, per_build=True) if fmt == "json" else render.render_meta_hcl(m, s.command(str(output) if output else None, "meta"))
    _emit(text, output)
    return 0


@cli.command("tags", context_settings=CONTEXT, epilog="""\b
Examples:
  bakegen tags golang-tools
  bakegen tags ci-demo-go --env prd
  REGISTRY=localhost:5000 bakegen tags base
""")
@options(SHARED + GIT)
@click.argument("target")
@click.pass_context
def tags_cmd(ctx, target, **params):
    """Print every tag TARGET (or each target of a group) gets in this build, one per line.

    The registry is --registry, else $REGISTRY (as bake reads it), else the definitions'.
    """
    s = _session(ctx, params)
    bake = s.bake
    names = _targets_named(bake, target)
    registry = s.build_registry
    meta = s.meta() if any(bake.target(n).kind == "app" for n in names) else None
    for name in names:
        t = (meta.target(name) if meta and bake.target(name).kind == "app" else None) or bake.target(name)
        for tag in t.tags:
            click.echo(tag.ref(registry))
    return 0


@cli.command("graph", context_settings=CONTEXT, epilog="""\b
Examples:
  bakegen graph > docs/targets.mmd
  bakegen graph --format dot | dot -Tsvg > targets.svg
""")
@options(SHARED)
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid", show_default=True)
@click.pass_context
def graph_cmd(ctx, fmt, **params):
    """Print the targets and their target: links (build order) as Mermaid or DOT."""
    from . import graph

    bake = _session(ctx, params).bake
    click.echo(graph.mermaid(bake) if fmt == "mermaid" else graph.dot(bake), nl=False)
    return 0


@cli.command("explain", context_settings=CONTEXT, epilog="""\b
Examples:
  bakegen explain golang-tools
  bakegen explain ci-demo-go --env prd
""")
@options(SHARED + GIT)
@click.argument("target")
@click.pass_context
def explain_cmd(ctx, target, **params):
    """Say where each tag, arg, label and context of TARGET comes from.

    Per-build values (the app's tags, revision, created) need git, or --branch and --commit.
    """
    s = _session(ctx, params)
    bake = s.bake
    if target in bake.groups:
        raise BakegenError(f'"{target}" is a group; explain one of its targets: {", ".join(bake.groups[target])}')
    (name,) = _targets_named(bake, target)
    t = bake.target(name)
    registry = s.build_registry
    try:
        per_build = s.meta().target(name)
        note = None
    except BakegenError as e:
        if t.kind == "app":
            raise
        per_build, note = None, f"per-build labels not shown: {e}"
    image = next(i for i in s.definitions.images if i.name == t.image)
    out = [f"target {t.name}: {t.kind} image {image.name!r} defined at {image.at('image')}"]
    if note:
        out.append(f"  ({note})")
    tags = (per_build.tags if per_build and per_build.tags else t.tags)
    out.append("tags:" if tags else "tags: none")
    out += [f"  {tag.ref(registry)}\n      <- {tag.why}" for tag in tags]
    for title, committed, extra in (("args", t.args, per_build.args if per_build else {}),
                                    ("labels", t.labels, per_build.labels if per_build else {})):
        merged = {**committed, **extra}
        out.append(f"{title}:")
        for key in sorted(merged):
            where = "per build (bakegen meta)" if key in extra else "committed file"
            out.append(f"  {key} = {merged[key].text!r}\n      <- {merged[key].why} [{where}]")
    if t.contexts:
        out.append("contexts:")
        out += [f"  {k} = {v}\n      <- the app's Dockerfile builds FROM {k}; bake builds {v[7:]} first "
                f"in the same run" for k, v in sorted(t.contexts.items())]
    out.append(f"platforms: {', '.join(t.platforms)}")
    click.echo("\n".join(out))
    return 0


@cli.command("builder", context_settings=CONTEXT, epilog="""\b
Examples:
  bakegen builder --dry-run ssh://ci@amd64-1=linux/amd64 ssh://ci@arm64-1=linux/arm64
  bakegen builder --driver kubernetes default=linux/amd64 default=linux/arm64
  make builder NODES="tcp://buildkit-amd64:1234=linux/amd64 tcp://buildkit-arm64:1234=linux/arm64"
then: docker buildx bake --builder bakegen -f docker-bake.hcl -f meta.hcl
""")
@click.option("--name", default="bakegen", show_default=True, help="Builder name.")
@click.option("--driver", type=click.Choice(["docker-container", "remote", "kubernetes"]),
              default="docker-container", show_default=True)
@click.option("--namespace", default="buildkit", show_default=True, help="Kubernetes namespace (kubernetes driver).")
@click.option("--dry-run", is_flag=True, help="Print the docker buildx commands, run nothing.")
@click.argument("nodes", nargs=-1, metavar="ENDPOINT=PLATFORM[,PLATFORM]...")
def builder_cmd(name, driver, namespace, dry_run, nodes):
    """Create a multi-node buildx builder: one native node per platform, no emulation."""
    from . import builder

    cmds = builder.commands(name, [builder.parse_node(n) for n in nodes], driver, namespace)
    builder.run(cmds, dry_run, click.echo)
    return 0


def _targets_named(bake, name: str) -> list[str]:
    if name in bake.groups:
        return bake.groups[name]
    if bake.target(name):
        return [name]
    known = [t.name for t in bake.targets] + list(bake.groups)
    raise BakegenError(f'no target or group "{name}"{did_you_mean(name, known)}; known: {", ".join(sorted(known))}')


def main(argv: list[str] | None = None) -> int:
    try:
        rv = cli.main(args=argv, prog_name="bakegen", standalone_mode=False)
    except BakegenError as e:
        click.echo(f"bakegen: error: {e}", err=True)
        return 2
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.UsageError as e:
        e.show()
        return 2
    except click.ClickException as e:
        e.show()
        return 2
    except click.Abort:
        click.echo("bakegen: aborted", err=True)
        return 130
    return rv if isinstance(rv, int) else 0


def entry() -> None:  # console script
    sys.exit(main())
