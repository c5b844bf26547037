"""``bakegen lock``: reads the definitions, fetches go.dev's list once, rewrites the definitions'
versions for ``--upgrade`` (``upgrade``), writes the lock file (``lock``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .. import lock, pipeline
from ..checksums import LOCK_FILE
from ..errors import BakegenError
from ..loader import INIT_HINT, images_checksums, read_text
from ..model import Definitions, Toolchain
from ..output import write_atomic
from ..schema import IMAGE_FILE
from ..upgrade import upgraded
from . import CONTEXT, choices, options


def _uses(defs: Definitions) -> list[lock.ToolchainUse]:
    return [lock.ToolchainUse(i.name, i.versions, i.platforms, i.protoc_version, i.protoc_download_url,
                              where=i.at("versions")) for i in defs.images if isinstance(i, Toolchain)]


def _upgrade(folder: Path, defs: Definitions, available: list[str]) -> list[str]:
    """Rewrite each toolchain definition's versions; the lines to report."""
    report = []
    for image in defs.images:
        pairs = lock.upgrades(image.versions, available) if isinstance(image, Toolchain) else []
        if not pairs:
            continue
        path, shown = folder / Path(image.folder).name / IMAGE_FILE, f"{image.folder}/{IMAGE_FILE}"
        write_atomic(path, upgraded(read_text(path, shown) or "", shown, pairs))
        report += [f"{shown}: Go {old} -> {new}" for old, new in pairs]
    return report


@click.command("lock", context_settings=CONTEXT, epilog="""\b
Examples:
  bakegen lock                       checksums of every Go and protoc file the definitions use
  bakegen lock --upgrade             move each Go version to its line's newest release, then lock
  bakegen lock --go-version 1.25rc1  add a version (then: bakegen --go-version 1.25rc1 -o ...)
then: bakegen -o docker-bake.hcl, and review both diffs
""")
@options("definitions", "go_version")
@click.option("--upgrade", is_flag=True,
              help="First move each version in the definitions to its line's newest release.")
@click.option("--releases-url", default=None, metavar="URL", help="Go's release list (default: go.dev's).")
@click.pass_context
def lock_cmd(ctx: click.Context, /, upgrade: bool, releases_url: str | None, **params: Any) -> int:
    """Write bake/bakegen-lock.json: the sha256 of every Go and protoc release file the definitions
    use, from go.dev's release list and the protoc zips. A checksum that differs from a known one
    is an error; the file is written only when it changes.
    """
    c = choices(ctx, params)
    folder, shown, builtin = pipeline.folder(c)
    if builtin:
        raise BakegenError(f"no bake/ here to lock; {INIT_HINT}")
    releases = lock.fetch_go_releases(releases_url or lock.GO_RELEASES_URL)
    report = []
    if upgrade:
        report = (_upgrade(folder, pipeline.load(c), list(releases.go))
                  or ["every Go version is the newest of its line"])
    defs = pipeline.load(c)  # after --upgrade: the rewritten definitions
    result = lock.lock(folder / LOCK_FILE, _uses(defs), images_checksums(defs.images), shown=f"{shown}/{LOCK_FILE}",
                       releases=releases)
    if not result.written:
        report.append(f"{shown}/{LOCK_FILE} is up to date")
    else:
        report.append(f"wrote {shown}/{LOCK_FILE} ({len(result.added)} files added, {len(result.removed)} removed); "
                      "now run: bakegen -o docker-bake.hcl")
    for line in report:
        click.echo(f"bakegen: {line}", err=True)
    return 0
