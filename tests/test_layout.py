"""The package map the README gives, checked: which module runs programs, which writes files, and
that the pure core (definitions -> plan -> text) reaches neither."""

import ast

import pytest
from conftest import ROOT

PACKAGE = ROOT / "bakegen"
MODULES = {p.stem: ast.parse(p.read_text()) for p in sorted(PACKAGE.glob("*.py"))}
PURE = {"apps", "bases", "dockerargs", "errors", "explain", "graph", "hcl", "meta", "model", "plan", "platforms", "upgrade",
        "render", "scaffold", "schema", "tags", "targets", "versions"}
EDGES = {"builder", "cache", "cli", "commands", "gitmeta", "init", "output", "session", "definitions", "lock", "lockrun",
         "checksums", "resources", "__main__", "__init__"}
PATH_WRITES = {"write_text", "write_bytes", "mkdir", "unlink", "chmod", "touch", "symlink_to", "rmdir"}
OS_WRITES = {"replace", "rename", "unlink", "chmod", "makedirs", "open", "remove", "rmdir", "mkdir", "rmtree"}


def writes(tree: ast.AST) -> set[str]:
    """The file-writing calls in a module: Path methods, os/shutil functions, open() to write."""
    out = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute):
            owner = func.value.id if isinstance(func.value, ast.Name) else ""
            if func.attr in PATH_WRITES and owner not in ("os", "shutil"):
                out.add(func.attr)
            elif owner in ("os", "shutil") and func.attr in OS_WRITES:
                out.add(f"{owner}.{func.attr}")
        elif isinstance(func, ast.Name) and func.id == "open":
            mode = node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "mode"), None)
            if not (isinstance(mode, ast.Constant) and set(str(mode.value)) <= set("rbt")):
                out.add("open")
    return out


def imports(tree: ast.AST) -> set[str]:
    """Every module imported anywhere in the file (function-level imports included)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # from . import x / from .x import y
                out.update([node.module.split(".")[0]] if node.module else [a.name for a in node.names])
            elif node.module:
                out.add(node.module.split(".")[0])
    return out


def test_every_module_is_on_the_map():
    assert set(MODULES) <= PURE | EDGES, set(MODULES) - PURE - EDGES


def test_only_gitmeta_and_builder_run_programs():
    running = {name for name, tree in MODULES.items() if "subprocess" in imports(tree)}
    assert running == {"gitmeta", "builder"}
    gitmeta = ast.unparse(MODULES["gitmeta"])
    assert gitmeta.count("subprocess.run(") == 1 and "['git', '-C'" in gitmeta


def test_only_output_writes_files():
    writers = {name: sorted(w) for name, tree in MODULES.items() if (w := writes(tree))}
    assert set(writers) == {"output"}, writers


@pytest.mark.parametrize("name", sorted(PURE))
def test_the_pure_core_reaches_no_edge(name):
    """Following imports from a pure module never reaches one that runs programs or writes files;
    render's one lazy edge is the template cache (cache -> output), which only stores compiled
    templates."""
    seen, todo = set(), [name]
    while todo:
        module = todo.pop()
        if module in seen or module not in MODULES:
            continue
        seen.add(module)
        if module == "cache":
            continue
        todo.extend(imports(MODULES[module]) & set(MODULES))
    reached = (seen - {name}) & (EDGES - {"resources", "checksums", "definitions"})
    assert reached <= ({"cache"} if "render" in seen else set()), reached


def test_only_lock_reaches_the_network():
    users = {name for name, tree in MODULES.items() if imports(tree) & {"urllib", "http", "socket"}}
    assert users == {"lock"}
