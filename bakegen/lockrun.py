"""``bakegen lock``, the edge: reads the definitions, fetches go.dev's list once, rewrites the
definitions' versions for ``--upgrade`` (``upgrade``), writes the lock file (``lock``)."""

from __future__ import annotations

from pathlib import Path

from . import definitions, lock
from .checksums import LOCK_FILE, images_checksums
from .errors import BakegenError
from .model import Definitions
from .output import write_atomic
from .session import INIT_HINT, Session
from .upgrade import upgraded


def _uses(defs: Definitions) -> list[lock.ToolchainUse]:
    return [lock.ToolchainUse(i.name, i.versions, i.platforms, i.protoc_version, i.protoc_download_url,
                              where=i.at("versions")) for i in defs.images if i.kind == "toolchain"]


def _upgrade(folder: Path, defs: Definitions, available: list[str]) -> list[str]:
    """Rewrite each toolchain definition's versions; the lines to report."""
    report = []
    for image in defs.images:
        if image.kind != "toolchain":
            continue
        pairs = lock.upgrades(image.versions, available)
        if not pairs:
            continue
        path = folder / Path(image.folder).name / definitions.IMAGE_FILE
        text = path.read_text(encoding="utf-8")
        write_atomic(path, upgraded(text, f"{image.folder}/{definitions.IMAGE_FILE}", pairs))
        report += [f"{image.folder}/{definitions.IMAGE_FILE}: Go {old} -> {new}" for old, new in pairs]
    return report


def run_lock(s: Session, upgrade: bool, url: str | None) -> list[str]:
    folder, shown, builtin = s.folder
    if builtin:
        raise BakegenError(f"no bake/ here to lock; {INIT_HINT}")
    releases = lock.fetch_go_releases(url or lock.GO_RELEASES_URL)
    report = []
    if upgrade:
        report = (_upgrade(folder, s.definitions, list(releases.go))
                  or ["every Go version is the newest of its line"])
        s = Session(s.values, s.sources, s.cwd)  # read the rewritten definitions
    defs = s.definitions
    result = lock.lock(folder / LOCK_FILE, _uses(defs), images_checksums(defs.images), shown=f"{shown}/{LOCK_FILE}",
                       releases=releases)
    if not result.written:
        return [*report, f"{shown}/{LOCK_FILE} is up to date"]
    return [*report, f"wrote {shown}/{LOCK_FILE} ({len(result.added)} files added, {len(result.removed)} removed); "
            "now run: bakegen -o docker-bake.hcl"]
