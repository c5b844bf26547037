"""The one module that writes files: atomically, or checking a file against text with a diff."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import BakegenError


def write_atomic_bytes(path: Path, data: bytes, *, mode: int | None = None, quiet: bool = False) -> None:
    """Write through a new file in the same folder, renamed over ``path``: a reader sees the old
    file or the new one, never a half-written one. An existing file keeps its mode; a new one
    gets ``mode`` (default: 0666 less the umask). ``quiet``: a failure is ignored (caches)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if mode is None:
            mode = path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if not quiet:
            raise BakegenError(f"cannot write {path}: {e.strerror or e}") from None


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def write_atomic(path: Path, text: str) -> None:
    write_atomic_bytes(path, text.encode("utf-8"))


def write_new_files(files: dict[Path, str]) -> None:
    """Create every file (and its folders), or none: an existing one is an error naming it."""
    existing = sorted(str(p) for p in files if p.exists())
    if existing:
        raise BakegenError(f"{existing[0]} already exists; bakegen init never overwrites a file "
                           "(move it away or edit it by hand)")
    for path in sorted(files):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise BakegenError(f"cannot create {path.parent}: {e.strerror or e}") from None
    for path, text in sorted(files.items()):
        write_atomic(path, text)


@contextlib.contextmanager
def scratch_folder() -> Iterator[Path]:
    """A new private folder outside the work tree, removed with everything in it afterwards."""
    with tempfile.TemporaryDirectory(prefix="bakegen-") as folder:
        yield Path(folder)


def make_private_folder(folder: Path) -> None:
    """Create ``folder`` (and its parents) readable and writable by this user only."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
