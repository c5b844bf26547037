"""Parse HCL definitions with python-hcl2, at most once per distinct file content.

python-hcl2 costs ~0.2 s to import and builds its Lark parser cache next to its own package; where
that folder is read-only (a system or container site-packages) every process rebuilds the parser,
3-4 s. So:

- a parsed file is stored as JSON under a key made of its content and this module's format
  version: first looked up in ``bakegen/data/parsed.json`` (shipped for the built-in definitions,
  written by ``python -m bakegen.hclcache bake``), then in the user cache (one JSON file in
  ``$BAKEGEN_CACHE_DIR``, else ``$XDG_CACHE_HOME/bakegen``, else ``~/.cache/bakegen``). A changed
  file has a new key, so a stale entry is never read; the tests prove the shipped entries equal a
  fresh parse. Hundreds of new files are parsed on all cores.
- when python-hcl2 must run, its Lark grammar cache lives in the user cache folder, never in
  site-packages: bakegen writes nothing there, so a read-only site-packages costs nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
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


MAX_ENTRIES = 20_000  # the user cache forgets its oldest entries past this


def shipped_file() -> Path:
    return Path(__file__).resolve().parent / "data" / "parsed.json"


def user_file() -> Path:
    return user_cache_dir() / f"parsed-{FORMAT}.json"


def _load(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data.get("entries", {}) if isinstance(data, dict) and data.get("format") == FORMAT else {}


def _save(path: Path, entries: dict) -> None:
    """Write atomically; a cache that cannot be written is only slower, never an error."""
    data = json.dumps({"format": FORMAT, "entries": entries}, sort_keys=True, separators=(",", ":"))
    _write_cache_file(path, data.encode("utf-8"))


def _write_cache_file(path: Path, data: bytes) -> None:
    """Write atomically through a name of this process's own, created exclusively (tempfile
    costs ~4 ms to import); a cache file that cannot be written is only slower, never an error."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def parse_all(files: list[tuple[str, str]]) -> list[dict]:
    """The parsed form (python-hcl2's, strings unquoted) of each ``(text, shown)``, where
    ``shown`` names the file in errors. Only texts no cache knows are parsed, and the user cache
    is written once, with what was new."""
    keys = [cache_key(text) for text, _ in files]
    shipped = _load(shipped_file())
    user = _load(user_file()) if not all(k in shipped for k in keys) else {}
    missing = {k: f for k, f in zip(keys, files) if k not in shipped and k not in user}
    new = dict(zip(missing, _parse_many(list(missing.values())))) if missing else {}
    if new:
        merged = {**user, **new}
        if len(merged) > MAX_ENTRIES:
            merged = dict(list(merged.items())[-MAX_ENTRIES:])
        _save(user_file(), merged)
    return [shipped[k] if k in shipped else user[k] if k in user else new[k] for k in keys]


def parse(text: str, shown: str) -> dict:
    return parse_all([(text, shown)])[0]


def _parse_many(files: list[tuple[str, str]]) -> list[dict]:
    """Parse in this process; many files are split across the cores (python-hcl2 is ~2 ms a file)."""
    workers = min(os.cpu_count() or 1, len(files) // PARALLEL_FROM)
    if workers < 2:
        return _parse_chunk(files)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    _warm_parser()  # built once here, inherited by the forked workers
    chunks = [files[i::workers] for i in range(workers)]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        results = list(pool.map(_parse_chunk, chunks))
    out: list[dict] = [{}] * len(files)
    for i, chunk in enumerate(results):
        out[i::workers] = chunk
    return out


PARALLEL_FROM = 100  # files per worker before another process pays for itself


def _parse_chunk(files: list[tuple[str, str]]) -> list[dict]:
    return [parse_uncached(text, shown) for text, shown in files]


def _warm_parser() -> None:
    _parser()


def parse_uncached(text: str, shown: str) -> dict:
    """python-hcl2's parse of ``text``: its Lark parser (``hcl2.parser.parser()``, or the snapshot
    of it below), then its own ``transform`` and ``serialize``, as ``hcl2.loads`` does."""
    import hcl2

    options = hcl2.SerializationOptions(strip_string_quotes=True, with_comments=False)
    try:
        # the newline is python-hcl2's own workaround (hcl2.api.parses_to_tree)
        return hcl2.serialize(hcl2.transform(_parse_tree(text + "\n")), serialization_options=options)
    except BakegenError:
        raise
    except Exception as e:  # python-hcl2 raises Lark's exceptions and plain ones
        line = getattr(e, "line", None)
        col = getattr(e, "column", None)
        where = f"{shown}:{line}" if isinstance(line, int) and line > 0 else shown
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        token = getattr(e, "token", None)
        msg = f"HCL syntax error at column {col}, unexpected {str(token)!r}" if token is not None and col else f"HCL syntax error: {first}"
        raise BakegenError(msg, where) from None


# ---------------------------------------------------------------- the parser snapshot
# Lark rebuilds python-hcl2's LALR tables from its grammar cache in ~0.09 s, most of a run that
# must parse. bakegen keeps a pickle of the parser python-hcl2 built (~0.01 s to load) in the
# user cache, named by every version it depends on, written only after it parsed a sample of
# HCL exactly as python-hcl2's own parser did; anything wrong with it and bakegen uses
# python-hcl2's parser, as without the snapshot.
_CANARY = """# every construct the definitions use
top = "a \\"q\\" $${x} %%{y}"
n = 3
f = 1.5
b = true
l = ["x", "y", 1]
m = { "k.x" = "v", k2 = { n = ["z"] } }
block "label" {
  inner = "v" // comment
  /* block comment */
  nested = { "a" = "b" }
}
"""
_parser_obj = None


def _snapshot_path() -> Path:
    import sys

    import lark
    from hcl2.version import version as hcl2_version

    tag = f"{FORMAT}-py{sys.version_info[0]}.{sys.version_info[1]}-lark{lark.__version__}-hcl2-{hcl2_version}"
    return user_cache_dir() / "lark" / f"hcl2-parser-{tag}.pickle"


def _pickler(buffer):
    import importlib
    import pickle
    import types

    from lark.parsers import lalr_analysis

    class SnapshotPickler(pickle.Pickler):
        def reducer_override(self, obj):
            # modules (the lexer keeps the `re` module) and Lark's Shift/Reduce singletons,
            # which the LALR parser compares by identity, are stored by name
            if isinstance(obj, types.ModuleType):
                return importlib.import_module, (obj.__name__,)
            if obj is lalr_analysis.Shift:
                return getattr, (lalr_analysis, "Shift")
            if obj is lalr_analysis.Reduce:
                return getattr, (lalr_analysis, "Reduce")
            return NotImplemented

    return SnapshotPickler(buffer, protocol=5)


def _parser():
    global _parser_obj
    if _parser_obj is not None:
        return _parser_obj
    import pickle

    path = _snapshot_path()
    try:
        with open(path, "rb") as f:
            _parser_obj = pickle.load(f)
        return _parser_obj
    except Exception:  # missing, or stale or broken in any way: rebuild it
        pass
    _parser_obj = _hcl2_parser()
    _store_snapshot(_parser_obj, path)
    return _parser_obj


def _hcl2_parser():
    """python-hcl2's own Lark parser, its grammar cache kept in bakegen's cache folder."""
    import hcl2.parser

    _redirect_grammar_cache(hcl2.parser)
    return hcl2.parser.parser()


def _store_snapshot(parser, path: Path) -> None:
    import io
    import pickle

    try:
        buffer = io.BytesIO()
        _pickler(buffer).dump(parser)
        copy = pickle.loads(buffer.getvalue())
        if copy.parse(_CANARY) != parser.parse(_CANARY):
            return
    except Exception:  # a snapshot is only an optimisation
        return
    _write_cache_file(path, buffer.getvalue())


def _parse_tree(text: str):
    """Parse with the snapshot; should it fail in any way other than a syntax error, parse again
    with python-hcl2's own parser and drop the snapshot."""
    global _parser_obj
    from lark.exceptions import LarkError

    parser = _parser()
    try:
        return parser.parse(text)
    except LarkError:
        raise
    except Exception:
        original = _hcl2_parser()
        if parser is original:
            raise
        _parser_obj = original
        try:
            _snapshot_path().unlink()
        except OSError:
            pass
        return _parser_obj.parse(text)


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


def ship(definitions: Path, dest: Path | None = None) -> None:
    """Store the parsed form of every ``.hcl`` file under ``definitions`` as the shipped cache
    (``bakegen/data/parsed.json``), nothing else. Run by ``make generate``."""
    entries = {}
    for path in sorted(Path(definitions).rglob("*.hcl")):
        text = path.read_text(encoding="utf-8")
        entries[cache_key(text)] = parse_uncached(text, str(path))
    (dest or shipped_file()).write_text(
        json.dumps({"format": FORMAT, "entries": entries}, sort_keys=True, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":  # python -m bakegen.hclcache DEFINITIONS_DIR
    import sys

    ship(Path(sys.argv[1] if len(sys.argv) > 1 else "bake"))
