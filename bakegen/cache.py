"""The one cache bakegen keeps: Jinja2's compiled templates, in a folder only this user can write.

Compiled templates are marshaled Python code, so nothing is read from the folder unless it is a
real directory owned by the current user and not writable by group or others (the check pip and
Jinja's own FileSystemBytecodeCache make), checked on every load and store; otherwise bakegen
runs uncached and says so once. The folder is per Jinja2 and Python version (the stored form
depends on both), and Jinja checks each entry against its template's source checksum.
``BAKEGEN_CACHE_DIR`` moves it; ``BAKEGEN_CACHE_DIR=""`` turns it off.
"""

from __future__ import annotations

import io
import os
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2

_warned: set[str] = set()


def cache_root() -> Path | None:
    if "BAKEGEN_CACHE_DIR" in os.environ:
        value = os.environ["BAKEGEN_CACHE_DIR"]
        return Path(value) if value else None
    import platformdirs

    return Path(platformdirs.user_cache_dir("bakegen", appauthor=False))


def _warn(folder: Path, why: str) -> None:
    if str(folder) not in _warned:
        _warned.add(str(folder))
        sys.stderr.write(f"bakegen: warning: not using the cache folder {folder}: {why}; running uncached\n")


def is_private(path: Path) -> str | None:
    """None when ``path`` is a directory (not a symlink) owned by this user and not writable by
    group or others, else why not."""
    try:
        st = os.lstat(path)
    except OSError as e:
        return e.strerror or str(e)
    if not stat.S_ISDIR(st.st_mode):
        return "not a directory"
    if st.st_uid != os.getuid():
        return f"owned by uid {st.st_uid}, not by you ({os.getuid()})"
    if st.st_mode & 0o022:
        return f"writable by group or others (mode {stat.S_IMODE(st.st_mode):o})"
    return None


def private_folder(folder: Path) -> Path | None:
    """``folder``, created private when missing; None (with one warning) when it is not safe."""
    from .output import make_private_folder

    try:
        make_private_folder(folder)
    except OSError as e:
        _warn(folder, e.strerror or str(e))
        return None
    why = is_private(folder)
    if why:
        _warn(folder, why)
        return None
    return folder


def bytecode_cache(jinja_version: str) -> jinja2.BytecodeCache | None:
    root = cache_root()
    if root is None:
        return None
    import jinja2

    folder = root / f"jinja-{jinja_version}-py{sys.version_info[0]}.{sys.version_info[1]}"

    class PrivateBytecodeCache(jinja2.BytecodeCache):
        def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            if private_folder(folder) is None:
                return
            try:
                with open(folder / f"{bucket.key}.cache", "rb") as f:
                    st = os.fstat(f.fileno())
                    if st.st_uid == os.getuid() and not st.st_mode & 0o022:
                        bucket.load_bytecode(f)
            except OSError:
                return

        def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            if private_folder(folder) is None:
                return
            from .output import write_atomic_bytes

            data = io.BytesIO()
            bucket.write_bytecode(data)
            write_atomic_bytes(folder / f"{bucket.key}.cache", data.getvalue(), quiet=True)

    return PrivateBytecodeCache()
