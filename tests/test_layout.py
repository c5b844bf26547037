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

# Calls that touch the outside, by owner (a module name, or "" for a method of any object).
WRITE_METHODS = {"write_text", "write_bytes", "mkdir", "unlink", "chmod", "touch", "symlink_to", "hardlink_to",
                 "rmdir", "rename", "replace"}
OS_WRITES = {"replace", "rename", "unlink", "chmod", "makedirs", "mkdir", "remove", "rmdir", "symlink", "link",
             "truncate", "fdopen", "write", "utime", "chown"}
READ_METHODS = {"read_text", "read_bytes", "iterdir", "glob", "rglob", "walk"}
OS_READS = {"listdir", "scandir", "walk", "read"}
STAT_METHODS = {"exists", "is_file", "is_dir", "stat", "lstat", "resolve", "is_symlink", "samefile"}
OS_STATS = {"stat", "lstat", "fstat", "access", "getcwd"}
RUN = {("os", "system"), ("os", "popen"), ("os", "execv"), ("os", "execvp"), ("os", "execl"), ("os", "spawnv"),
       ("os", "posix_spawn"), ("os", "fork")}
# Path methods whose names other types share: counted only with Path's number of arguments.
ARITY = {"replace": 1, "rename": 1, "resolve": 0, "stat": 0}
OWN_MODULES = {p.stem for p in PACKAGE.rglob("*.py")}
NETWORK_MODULES = {"urllib", "http", "socket", "ssl", "requests", "ftplib"}
PROGRAM_MODULES = {"subprocess", "pty", "multiprocessing"}


def _mode(node: ast.Call, position: int) -> str | None:
    arg = node.args[position] if len(node.args) > position else \
        next((k.value for k in node.keywords if k.arg == "mode"), None)
    return str(arg.value) if isinstance(arg, ast.Constant) else ("?" if arg is not None else None)


def capabilities(tree: ast.AST) -> set[str]:
    """What a module does to the outside, from its calls and imports."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            roots = {n.split(".")[0] for n in names if not getattr(node, "level", 0)}
            if roots & NETWORK_MODULES:
                found.add("network")
            if roots & PROGRAM_MODULES:
                found.add("runs programs")
            if roots & {"shutil", "tempfile"}:
                found.add("writes files")
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "open":
            mode = _mode(node, 1) or "r"
            found.add("reads files" if set(mode) <= set("rbt") else "writes files")
        if not isinstance(func, ast.Attribute):
            continue
        owner = func.value.id if isinstance(func.value, ast.Name) else ""
        name = func.attr
        if owner in OWN_MODULES or (name in ARITY and (len(node.args) != ARITY[name] or node.keywords)):
            continue  # bakegen's own functions, or a str/GoVersion method of the same name
        if owner == "os":
            if (owner, name) in RUN:
                found.add("runs programs")
            elif name in OS_WRITES or name == "open":
                found.add("writes files")
            elif name in OS_READS:
                found.add("reads files")
            elif name in OS_STATS:
                found.add("checks paths")
        elif owner == "shutil":
            found.add("checks paths" if name == "which" else "writes files")
        elif name == "open" and (not node.args or isinstance(node.args[0], ast.Constant)):  # Path.open([mode])
            mode = _mode(node, 0) or "r"
            found.add("reads files" if set(mode) <= set("rbt") else "writes files")
        elif name in WRITE_METHODS and owner not in ("re", "str", "text"):
            found.add("writes files")
        elif name in READ_METHODS:
            found.add("reads files")
        elif name in STAT_METHODS:
            found.add("checks paths")
    return found


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


@pytest.mark.parametrize("snippet, capability", [
    ("Path('x').open('w').write('y')", "writes files"),
    ("shutil.copy('a', 'b')", "writes files"),
    ("os.system('true')", "runs programs"),
    ("open('f', 'a')", "writes files"),
    ("subprocess.run(['true'])", "runs programs"),
    ("Path('f').read_text()", "reads files"),
    ("urllib.request.urlopen('http://x')", "network"),
])
def test_the_check_catches_what_a_pure_module_must_not_do(snippet, capability):
    """plan.py with one line added is caught: the map would no longer say what it does."""
    imports_line = "import os, shutil, subprocess, urllib.request\nfrom pathlib import Path\n"
    tree = ast.parse((PACKAGE / "plan.py").read_text() + "\n" + imports_line + f"def _leak():\n    {snippet}\n")
    assert capability in capabilities(tree)
    assert capabilities(MODULES["plan"]) == set()


@pytest.mark.parametrize("name", sorted(n for n in MAP if not MAP[n] and n not in PURE))
def test_glue_uses_an_edge(name):
    """A module the map calls glue does nothing to the outside itself, but uses a module that does
    (else the map should call it pure)."""
    assert imports(name, MODULES[name]) - PURE
