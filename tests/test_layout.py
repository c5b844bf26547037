"""The package map in the README, checked against the code: every module is on it, and what the
map says a module does (reads files, writes files, runs programs, network, or pure) is exactly
what its code does, found in its syntax tree. Pure modules import only pure modules."""

import ast
import re

import pytest
from conftest import ROOT

PACKAGE = ROOT / "bakegen"
README = (ROOT / "README.md").read_text()
CAPABILITIES = ("reads files", "writes files", "runs programs", "network", "checks paths")


def module_name(path):
    rel = path.relative_to(PACKAGE).with_suffix("")
    return ".".join(rel.parts).removesuffix(".__init__") or "__init__"


MODULES = {module_name(p): ast.parse(p.read_text()) for p in sorted(PACKAGE.rglob("*.py"))}

# What touches the outside, by the full name of what is used (imports and aliases resolved:
# ``from os import remove as rm``, ``rm(p)`` is ``os.remove``), or by a method's name on any object.
WRITE_METHODS = {"write_text", "write_bytes", "mkdir", "unlink", "chmod", "touch", "symlink_to", "hardlink_to",
                 "rmdir", "rename", "replace"}
OS_WRITES = {"replace", "rename", "renames", "unlink", "chmod", "makedirs", "mkdir", "remove", "removedirs", "rmdir",
             "symlink", "link", "truncate", "fdopen", "write", "utime", "chown", "open", "mkfifo", "mknod"}
READ_METHODS = {"read_text", "read_bytes", "iterdir", "glob", "rglob", "walk"}
OS_READS = {"listdir", "scandir", "walk", "read", "readlink", "fwalk"}
STAT_METHODS = {"exists", "is_file", "is_dir", "stat", "lstat", "resolve", "is_symlink", "samefile"}
OS_STATS = {"stat", "lstat", "fstat", "access", "getcwd", "path.exists", "path.lexists", "path.isfile", "path.isdir",
            "path.islink", "path.getsize", "path.getmtime", "path.realpath", "path.abspath", "path.samefile"}
OS_RUNS = {"system", "popen", "fork", "forkpty", "kill", "killpg"} | {f"{f}{s}" for f in ("exec", "spawn")
                                                                     for s in ("l", "le", "lp", "lpe", "v", "ve", "vp",
                                                                               "vpe")} | {"posix_spawn", "posix_spawnp"}
# Functions that open a file, and the position of their mode argument (None: always writes).
OPENERS = {"builtins.open": 1, "io.open": 1, "codecs.open": 1, "os.fdopen": 1, "gzip.open": 1, "bz2.open": 1,
           "lzma.open": 1, "tarfile.open": 1, "zipfile.ZipFile": 1, "io.FileIO": 1, "os.open": None}
# Path methods whose names other types share: counted only with Path's number of arguments.
ARITY = {"replace": 1, "rename": 1, "resolve": 0, "stat": 0}
OWN_MODULES = {p.stem for p in PACKAGE.rglob("*.py")}
NETWORK_MODULES = {"urllib", "http", "socket", "ssl", "requests", "ftplib", "smtplib", "xmlrpc", "asyncio"}
PROGRAM_MODULES = {"subprocess", "pty", "multiprocessing"}
PROGRAM_NAMES = {"concurrent.futures.ProcessPoolExecutor", "concurrent.futures.process"}
WRITE_MODULES = {"shutil", "tempfile"}
# A module, or a name, known only at run time: what it does cannot be read, so it is an error
# (the map has no word for it).
DYNAMIC = "imports or calls dynamically"
DYNAMIC_NAMES = {"builtins.__import__", "builtins.eval", "builtins.exec", "builtins.compile", "builtins.globals",
                 "builtins.vars", "builtins.__builtins__"}
BUILTINS = {"open", "__import__", "eval", "exec", "compile", "getattr", "globals", "vars", "__builtins__"}


def _mode(node: ast.Call, position: int) -> str | None:
    arg = node.args[position] if len(node.args) > position else \
        next((k.value for k in node.keywords if k.arg == "mode"), None)
    return str(arg.value) if isinstance(arg, ast.Constant) else ("?" if arg is not None else None)


def names(tree: ast.AST) -> dict[str, str]:
    """What each name an import binds is (``os``, ``os.remove``, ``pathlib.Path``; anywhere in the
    module, functions included), and each name assigned one of those (``rm = os.remove``). The
    module's own modules are ``bakegen.*``."""
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                out[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            module = "bakegen" if node.level else (node.module or "")
            for a in node.names:
                out[a.asname or a.name] = f"{module}.{a.name}"
    for _ in range(3):  # aliases of aliases
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else \
                [node.target] if isinstance(node, ast.AnnAssign | ast.NamedExpr) and node.value else []
            value = getattr(node, "value", None)
            for target in targets:
                full = dotted(value, out) if value is not None else None
                if isinstance(target, ast.Name) and full:
                    out[target.id] = full
    return out


def dotted(node: ast.AST, known: dict[str, str]) -> str | None:
    """The full name ``node`` refers to (``os.path.exists``), when it is an imported name, a builtin
    that matters here, or an attribute of one; else None."""
    if isinstance(node, ast.Name):
        return known.get(node.id) or (f"builtins.{node.id}" if node.id in BUILTINS else None)
    if isinstance(node, ast.Attribute):
        owner = dotted(node.value, known)
        return f"{owner}.{node.attr}" if owner else None
    return None


def _method(name: str) -> str | None:
    """What a Path method of this name does."""
    return ("writes files" if name in WRITE_METHODS else "reads files" if name in READ_METHODS else
            "checks paths" if name in STAT_METHODS else None)


def _os(name: str) -> str | None:
    """What ``os.<name>`` does."""
    return ("runs programs" if name in OS_RUNS else "writes files" if name in OS_WRITES else
            "reads files" if name in OS_READS else "checks paths" if name in OS_STATS else None)


def _by_name(full: str) -> str | None:
    """What using the module-level name ``full`` does (called or passed on)."""
    root, _, rest = full.partition(".")
    rules = (
        (root == "bakegen", None),
        (root == "importlib" or full in DYNAMIC_NAMES, DYNAMIC),
        (root in NETWORK_MODULES, "network"),
        (root in PROGRAM_MODULES or any(full == n or full.startswith(n + ".") for n in PROGRAM_NAMES),
         "runs programs"),
        (full == "shutil.which", "checks paths"),
        (root in WRITE_MODULES, "writes files"),
        (root == "os", _os(rest)),
        (root == "pathlib", _method(full.rsplit(".", 1)[-1])),  # Path.write_text(p, ...), from the class
    )
    return next((what for hit, what in rules if hit), None)


def _call(node: ast.Call, full: str | None, known: dict[str, str]) -> str | None:
    """What a call does beyond using its function's name: an opener's mode, getattr on a module,
    or a method of the outside (``Path.write_text``) on any object."""
    if full in OPENERS:
        position = OPENERS[full]
        mode = "w" if position is None else _mode(node, position) or "r"
        return "reads files" if set(mode) <= set("rbt") else "writes files"
    if full == "builtins.getattr" and node.args and (owner := dotted(node.args[0], known)) \
            and not owner.startswith("bakegen"):
        return DYNAMIC  # getattr(os, name): a function of a module, chosen at run time
    func = node.func
    if full is not None or not isinstance(func, ast.Attribute):
        return None
    owner = func.value.id if isinstance(func.value, ast.Name) else ""
    name = func.attr
    if owner in OWN_MODULES or (name in ARITY and (len(node.args) != ARITY[name] or node.keywords)) or \
            (name in WRITE_METHODS and owner in ("re", "str", "text")):
        return None  # bakegen's own functions, or a str/GoVersion method of the same name
    if name == "open" and (not node.args or isinstance(node.args[0], ast.Constant)):  # Path.open([mode])
        return "reads files" if set(_mode(node, 0) or "r") <= set("rbt") else "writes files"
    return _method(name)


def capabilities(tree: ast.AST) -> set[str]:
    """What a module does to the outside, from its imports, the names it uses and its calls."""
    known = names(tree)
    found = {_by_name(full) for full in known.values()}  # importing it says it is used
    for node in ast.walk(tree):
        if isinstance(node, ast.Name | ast.Attribute) and isinstance(node.ctx, ast.Load):
            full = dotted(node, known)
            if full and (what := _by_name(full)):
                found.add(what)
        if isinstance(node, ast.Call):
            found.add(_call(node, dotted(node.func, known), known))
    return found - {None}


PACKAGES = {module_name(p) for p in PACKAGE.rglob("__init__.py")}


def imports(name: str, tree: ast.AST) -> set[str]:
    """The bakegen modules a module imports (function-level imports included)."""
    parts = [] if name == "__init__" else name.split(".")
    package = parts if name in PACKAGES else parts[:-1]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            stem = package[: len(package) - node.level + 1] + (node.module.split(".") if node.module else [])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "bakegen":
            stem = node.module.split(".")[1:]
        else:
            continue
        out.update(c for c in [".".join([*stem, a.name]) for a in node.names] + [".".join(stem)] if c in MODULES)
    return out - {name}


def readme_map() -> tuple[dict[str, set[str]], set[str]]:
    """({module: what the README says it does}, the modules it calls pure), from the table
    under "## Layout": its first column names modules, its last says "pure", "glue" (no edge of
    its own, but it uses modules that have one) or the edges it touches."""
    section = README.split("\n## Layout", 1)[1].split("\n## ", 1)[0]
    does, pure = {}, set()
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        found = {c for c in CAPABILITIES if c in cells[2]}
        assert cells[2] in ("pure", "glue") or found, cells
        for name in re.findall(r"`([a-z_.]+)`", cells[0]):
            does[name] = found
            if cells[2] == "pure":
                pure.add(name)
    return does, pure


MAP, PURE = readme_map()


def test_every_module_is_on_the_map_and_nothing_else():
    assert set(MAP) == set(MODULES) - {"__init__", "__main__"}


@pytest.mark.parametrize("name", sorted(set(MODULES) - {"__init__", "__main__"}))
def test_the_map_says_what_the_code_does(name):
    assert capabilities(MODULES[name]) == MAP[name], f"{name}: the README says {sorted(MAP[name])}"


@pytest.mark.parametrize("name", sorted(PURE))
def test_a_pure_module_imports_only_pure_modules(name):
    seen, todo = set(), [name]
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(imports(module, MODULES[module]))
    assert seen <= PURE | {"__init__"}, seen - PURE


def test_each_edge_has_one_owner():
    def owners(capability):
        return {name for name, tree in MODULES.items() if capability in capabilities(tree)}
    assert owners("writes files") == {"output"}
    assert owners("runs programs") == {"gitmeta", "buildx"}  # git; docker buildx
    assert owners("network") == {"lock", "registry"}
    assert owners("reads files") == {"loader", "cache"}


@pytest.mark.parametrize("imports_line, snippet, capability", [
    ("from pathlib import Path", "Path('x').open('w').write('y')", "writes files"),
    ("import shutil", "shutil.copy('a', 'b')", "writes files"),
    ("import os", "os.system('true')", "runs programs"),
    ("", "open('f', 'a')", "writes files"),
    ("import subprocess", "subprocess.run(['true'])", "runs programs"),
    ("from pathlib import Path", "Path('f').read_text()", "reads files"),
    ("import urllib.request", "urllib.request.urlopen('http://x')", "network"),
    ("import io", "io.open(p, 'w')", "writes files"),
    ("import io as x", "x.open(p, mode='wb')", "writes files"),
    ("from io import open as o", "o(p, 'w')", "writes files"),
    ("import builtins", "builtins.open(p, 'w')", "writes files"),
    ("import os", "os.fdopen(fd, 'w')", "writes files"),
    ("from os import remove", "remove(p)", "writes files"),
    ("import os as o", "o.remove(p)", "writes files"),
    ("import os", "rm = os.remove\n    rm(p)", "writes files"),
    ("import os", "list(map(os.remove, ps))", "writes files"),
    ("from os import scandir", "scandir(p)", "reads files"),
    ("from os import path", "path.exists(p)", "checks paths"),
    ("from subprocess import run", "run(['true'])", "runs programs"),
    ("", "import subprocess as s\n    s.run(['true'])", "runs programs"),
    ("from concurrent.futures import ProcessPoolExecutor", "ProcessPoolExecutor()", "runs programs"),
    ("import socket", "socket.create_connection(('x', 1))", "network"),
    ("from pathlib import Path as P", "P(x).write_text('y')", "writes files"),
    ("from pathlib import Path", "Path.write_text(p, 'y')", "writes files"),
    ("", "o = open\n    o(p, 'w')", "writes files"),
    ("", "__import__('os').remove(p)", DYNAMIC),
    ("import importlib", "importlib.import_module('os').remove(p)", DYNAMIC),
    ("from importlib import import_module", "import_module('subprocess')", DYNAMIC),
    ("import os", "getattr(os, 'remove')(p)", DYNAMIC),
    ("", "eval('1')", DYNAMIC),
])
def test_the_check_catches_what_a_pure_module_must_not_do(imports_line, snippet, capability):
    """plan.py with one import and one function added is caught: the map would no longer say what
    it does (a dynamic import or call is never on the map: an error)."""
    tree = ast.parse((PACKAGE / "plan.py").read_text() + f"\n{imports_line}\ndef _leak():\n    {snippet}\n")
    assert capability in capabilities(tree)
    assert capabilities(MODULES["plan"]) == set()
    assert DYNAMIC not in CAPABILITIES


@pytest.mark.parametrize("name", sorted(n for n in MAP if not MAP[n] and n not in PURE))
def test_glue_uses_an_edge(name):
    """A module the map calls glue does nothing to the outside itself, but uses a module that does
    (else the map should call it pure)."""
    assert imports(name, MODULES[name]) - PURE
