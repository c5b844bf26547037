"""The edge that runs docker buildx: the only module besides ``gitmeta`` that starts a program."""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Callable

from .errors import BakegenError


def run_each(cmds: list[list[str]], dry_run: bool, echo: Callable[[str], object]) -> None:
    """Echo each command line, and run it unless ``dry_run``; the first failure stops."""
    for cmd in cmds:
        echo(shlex.join(cmd))
        if dry_run:
            continue
        try:
            proc = subprocess.run(cmd, check=False)
        except FileNotFoundError:
            raise BakegenError(f"{cmd[0]} is not installed; use --dry-run to print the commands") from None
        if proc.returncode != 0:
            raise BakegenError(f"command failed with exit code {proc.returncode}: {shlex.join(cmd)}")
