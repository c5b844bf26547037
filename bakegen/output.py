"""Writing generated text: atomically, or checking a file against it with a unified diff."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import BakegenError

REGENERATE = "# Regenerate with: "


def write_atomic(path: Path, text: str) -> None:
    """Write through a temporary file in the same folder and rename it over ``path``: a reader
    sees the old file or the new one, never a half-written one. An existing file keeps its mode."""
    import tempfile

    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        mode = path.stat().st_mode & 0o7777 if path.exists() else None
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise BakegenError(f"cannot write {path}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise BakegenError(f"cannot write {path}: {e.strerror or e}") from None


def _comparable(text: str) -> list[str]:
    """Lines as ``--check`` compares them: the "Regenerate with" line names whichever command
    wrote the file (``make generate``, ``bakegen -o ...``) and is not compared."""
    return [line for line in text.splitlines(keepends=True) if not line.startswith(REGENERATE)]


def recorded_command(text: str) -> str | None:
    """The command a generated file's header names, if it has one."""
    for line in text.splitlines()[:5]:
        if line.startswith(REGENERATE):
            return line[len(REGENERATE):]
    return None


def read_existing(path: Path) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as e:
        raise BakegenError(f"cannot read {path}: {e}") from None


def check(path: Path, expected: str) -> str | None:
    """None when ``path`` holds ``expected``; else a unified diff from the file to ``expected``
    (in which the file keeps its own "Regenerate with" line, the one line not compared)."""
    path = Path(path)
    actual = read_existing(path) or ""
    if _comparable(actual) == _comparable(expected):
        return None
    command = recorded_command(actual)
    if command is not None:
        expected = "".join(REGENERATE + command + "\n" if line.startswith(REGENERATE) else line
                           for line in expected.splitlines(keepends=True))
    import difflib

    diff = difflib.unified_diff(
        actual.splitlines(keepends=True), expected.splitlines(keepends=True),
        fromfile=f"{path} (committed)", tofile=f"{path} (bakegen)",
    )
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in diff)
