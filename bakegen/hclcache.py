"""Parse HCL definitions with python-hcl2, at most once per distinct file content.

python-hcl2 costs ~0.2 s to import and builds its Lark parser cache next to its own package; where
that folder is read-only (a system or container site-packages) every process rebuilds the parser,
3-4 s. So:

- a parsed file is stored as JSON under a key made of its content and this module's format
  version: first looked up in ``bakegen/data/parsed/`` (shipped for the built-in definitions,
  written by ``python -m bakegen.hclcache bake``), then in the user cache (``$BAKEGEN_CACHE_DIR``,
  else ``$XDG_CACHE_HOME/bakegen``, else ``~/.cache/bakegen``). A changed file has a new key, so a
  stale entry is never read; the tests prove the shipped entries equal a fresh parse.
- when python-hcl2 must run, its Lark grammar cache lives in the user cache folder, never in
  site-packages: bakegen writes nothing there, so a read-only site-packages costs nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from .errors import BakegenError

FORMAT = "1"  # bump when the stored form changes


def _hcl2_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("python-hcl2")
    except metadata.PackageNotFoundError:  # pragma: no cover - a broken install
        return "unknown"


def cache_key(text: str) -> str:
    h = hashlib.sha256()
    h.update(f"bakegen-hcl/{FORMAT}\0".encode())
    h.update(text.encode("utf-8"))
    return h.hexdigest()


def user_cache_dir() -> Path:
    explicit = os.environ.get("BAKEGEN_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "bakegen"


def shipped_dir() -> Path:
    return Path(__file__).resolve().parent / "data" / "parsed"


def parse(text: str, shown: str) -> dict:
    """The parsed form of ``text`` (python-hcl2's, strings unquoted); ``shown`` names the file
    in errors."""
    key = cache_key(text)
    for folder in (shipped_dir(), user_cache_dir() / "hcl"):
        try:
            return json.loads((folder / f"{key}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
    parsed = parse_uncached(text, shown)
    store(user_cache_dir() / "hcl", key, parsed)
    return parsed


def store(folder: Path, key: str, parsed: dict) -> None:
    """Write atomically; a cache that cannot be written is only slower, never an error."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(parsed, f, sort_keys=True)
        os.replace(tmp, folder / f"{key}.json")
    except OSError:
        pass


def parse_uncached(text: str, shown: str) -> dict:
    import hcl2
    import hcl2.parser

    _redirect_grammar_cache(hcl2.parser)
    try:
        return hcl2.loads(
            text,
            serialization_options=hcl2.SerializationOptions(strip_string_quotes=True, with_comments=False),
        )
    except Exception as e:  # python-hcl2 raises Lark's exceptions and plain ones
        line = getattr(e, "line", None)
        col = getattr(e, "column", None)
        where = f"{shown}:{line}" if isinstance(line, int) and line > 0 else shown
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        token = getattr(e, "token", None)
        msg = f"HCL syntax error at column {col}, unexpected {str(token)!r}" if token is not None and col else f"HCL syntax error: {first}"
        raise BakegenError(msg, where) from None


def _redirect_grammar_cache(parser_module) -> None:
    """python-hcl2 reads ``PARSER_FILE`` (Lark's grammar cache, beside its package) each time it
    builds its parser; point it at bakegen's user cache, per python-hcl2 version, so the grammar
    is built once per machine even where site-packages is read-only."""
    folder = user_cache_dir() / "lark"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return  # python-hcl2 then uses its own place, as without bakegen
    parser_module.PARSER_FILE = folder / f"python-hcl2-{_hcl2_version()}.lark_cache.bin"


def ship(definitions: Path, dest: Path | None = None) -> list[Path]:
    """Store the parsed form of every ``.hcl`` file under ``definitions`` in the shipped folder,
    and remove entries no current file has. Run by ``make generate``."""
    dest = dest or shipped_dir()
    dest.mkdir(parents=True, exist_ok=True)
    keep = set()
    for path in sorted(Path(definitions).rglob("*.hcl")):
        text = path.read_text(encoding="utf-8")
        key = cache_key(text)
        keep.add(f"{key}.json")
        target = dest / f"{key}.json"
        parsed = parse_uncached(text, str(path))
        target.write_text(json.dumps(parsed, sort_keys=True, indent=1) + "\n", encoding="utf-8")
    removed = [p for p in dest.glob("*.json") if p.name not in keep]
    for p in removed:
        p.unlink()
    return removed


if __name__ == "__main__":  # python -m bakegen.hclcache DEFINITIONS_DIR
    import sys

    ship(Path(sys.argv[1] if len(sys.argv) > 1 else "bake"))
