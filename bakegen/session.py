"""One run's resolved options, and the work each command shares: loading the definitions,
planning, reading git, checking that what is written can be built where it is written."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from .errors import BakegenError
from .model import BakeFile, Definitions, GitMeta, Stamp
from .plan import Choice, Overrides

# Options that change the committed file, in the order the header's command names them.
OUTPUT_OPTIONS = ("registry", "go_version", "app", "env", "registry_cache", "definitions")
INIT_HINT = "`bakegen init` writes definitions for this repository (`bakegen init --app NAME` for a service)"


@dataclass
class Session:
    """Option values of one run and where each came from (``--env`` or ``BAKEGEN_ENV``)."""

    values: dict[str, Any]
    sources: dict[str, str] = field(default_factory=dict)
    cwd: Path = field(default_factory=Path.cwd)

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def choice(self, name: str) -> Choice | None:
        value = self.get(name)
        return None if value is None else Choice(str(value), self.sources.get(name, "--" + name.replace("_", "-")))

    def overrides(self) -> Overrides:
        return Overrides(registry=self.choice("registry"), go_version=self.choice("go_version"),
                         registry_cache=self.get("registry_cache"), app=self.choice("app"), env=self.choice("env"))

    @cached_property
    def folder(self) -> tuple[Path, str, bool]:
        """(definitions folder, its name in the bake file, whether it is the built-in one)."""
        from . import definitions

        folder = self.get("definitions")
        if folder is not None:
            folder = Path(folder)
            if not (folder / definitions.PROJECT_FILE).is_file():
                raise BakegenError(f"no {definitions.PROJECT_FILE} there; {INIT_HINT}",
                                   self.sources.get("definitions", "--definitions"))
            return folder, definitions.relative_to_cwd(folder.resolve(), self.cwd), False
        path, builtin = definitions.default_dir(self.cwd)
        return path, "bake", builtin

    @cached_property
    def definitions(self) -> Definitions:
        from . import definitions
        from .plan import apply_overrides

        path, shown, _ = self.folder
        return apply_overrides(definitions.load(path, shown), self.overrides())

    @cached_property
    def bake(self) -> BakeFile:
        from .plan import plan

        return plan(self.definitions, dt.date.today(), self.overrides())

    @property
    def build_registry(self) -> str:
        """The registry a build uses, resolved as bake does: --registry, else $REGISTRY (bake's
        variable), else the definitions'; each checked by the same rule."""
        from .tags import check_registry

        if self.get("registry"):
            return self.definitions.project.registry
        if os.environ.get("REGISTRY"):
            return check_registry(os.environ["REGISTRY"], "$REGISTRY")
        return self.definitions.project.registry

    def git(self) -> GitMeta:
        from . import gitmeta

        return gitmeta.read(Path(self.get("repo") or self.cwd), os.environ,
                            branch=self.get("branch"), commit=self.get("commit"))

    def stamps(self, git: GitMeta) -> dict[str, Stamp]:
        """Each base image's stamp: the last commit that changed its definition, the project
        settings or the lock file."""
        from . import gitmeta

        defs = self.definitions
        shared = [defs.project.file, f"{defs.folder}/bakegen-lock.json"]
        return {i.name: gitmeta.last_change(git, [i.folder, i.context, *shared], os.environ)
                for i in defs.images if i.kind != "app"}

    def meta(self) -> BakeFile:
        from .meta import plan_meta

        git = self.git()
        return plan_meta(self.definitions, self.bake, git, self.stamps(git))

    def command(self, sub: str = "") -> str:
        """The command that regenerates the output, for its header: bakegen with the options
        that changed the output, however they were given, and the usual file name."""
        import shlex

        words = ["bakegen"] + ([sub] if sub else [])
        for name in OUTPUT_OPTIONS:
            value = self.get(name)
            if value is None:
                continue
            flag = "--" + name.replace("_", "-")
            if isinstance(value, bool):
                words.append(flag if value else "--no-" + name.replace("_", "-"))
            else:
                words += [flag, self.folder[1] if name == "definitions" else str(value)]
        if self.get("format") == "json":
            words += ["--format", "json"]
        words += ["-o", ("meta" if sub else "docker-bake") + (".json" if self.get("format") == "json" else ".hcl")]
        return " ".join(shlex.quote(w) for w in words)

    def unbuildable(self, bake: BakeFile, base: Path) -> str | None:
        """The first context or Dockerfile of ``bake`` missing relative to ``base`` (where the
        file is written), as a message; None when every one exists."""
        for t in bake.targets:
            context = base / t.context
            if not context.is_dir():
                return f"context {t.context} of target {t.name} does not exist here"
            if not (context / t.dockerfile).is_file():
                return f"Dockerfile {t.context}/{t.dockerfile} of target {t.name} does not exist here"
            for c in t.contexts:
                if c.path is not None and not (base / c.path).is_dir():
                    return f"build context {c.path} of target {t.name} does not exist here"
        return None

    def check_buildable(self, bake: BakeFile, output: Path | None) -> str | None:
        """An error when the file would name paths that do not exist beside it; for the built-in
        definitions printed to stdout, a notice (the seed demo) instead."""
        base = (output.parent if output is not None else self.cwd) or self.cwd
        missing = self.unbuildable(bake, base.resolve())
        if missing is None:
            return None
        where = f"relative to {output}" if output is not None else "in this folder"
        if self.folder[2]:
            if output is None:
                return (f"bakegen: notice: no bake/ here, so this is bakegen's built-in example (the seed's images "
                        f"and its sample app); its paths are not {where}; {INIT_HINT}")
            raise BakegenError(f"{missing} ({where}): these are bakegen's built-in example definitions; {INIT_HINT}")
        raise BakegenError(f"{missing} ({where}); fix the definition's context or dockerfile, or write the file "
                           "where bake runs")
