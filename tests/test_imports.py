"""A run imports only what its command uses: generating the bake file imports no other command's
module, and (once pipeline imports git and buildx where it uses them) no registry client, buildx
wrapper, subprocess or thread pool. Each case is a new process, as users run bakegen."""

import subprocess
import sys

from conftest import ROOT, run_bakegen

# Runs bakegen's main() and prints its exit code and every module it imported.
SCRIPT = """
import contextlib, io, sys
from bakegen.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(sys.argv[1:])
print(code, *sorted(sys.modules))
"""
# The modules of the commands, and what only they use.
COMMAND_MODULES = {"bakegen.commands.bake", "bakegen.commands.builder", "bakegen.commands.init",
                   "bakegen.commands.inspect", "bakegen.commands.lock", "bakegen.commands.meta",
                   "bakegen.commands.platforms", "bakegen.bakeplan",
                   "bakegen.builder", "bakegen.explain", "bakegen.graph", "bakegen.lock", "bakegen.scaffold",
                   "bakegen.upgrade"}
# The network, programs and threads: what `bakegen bake`, `lock`, meta's git need. (urllib.parse
# is pathlib's.)
EDGES = {"urllib.request", "http", "http.client", "email", "subprocess", "concurrent", "concurrent.futures",
         "bakegen.registry", "bakegen.buildx", "bakegen.gitmeta"}


def imported(cwd, *args):
    proc = subprocess.run([sys.executable, "-c", SCRIPT, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)
    code, *modules = proc.stdout.split()
    assert proc.returncode == 0 and code == "0", proc
    return set(modules)


def test_generating_imports_no_other_command_and_help_lists_every_command(tmp_path):
    modules = imported(tmp_path)  # an empty folder: the built-in definitions
    assert "bakegen.pipeline" in modules
    assert not modules & COMMAND_MODULES, sorted(modules & COMMAND_MODULES)
    r = run_bakegen("--help")
    listed = r.stdout.split("\nCommands:\n")[1].split("\n\n")[0].splitlines()
    assert [line.split()[0] for line in listed] == ["bake", "builder", "explain", "graph", "init", "lock", "meta",
                                                    "platforms", "tags"], r.stdout
    for line in listed:  # each with its one-line help, from its own module
        name, summary = line.split(maxsplit=1)
        help_text = run_bakegen(name, "--help").stdout
        assert summary.rstrip(".") in " ".join(help_text.split()), (name, summary)


def test_a_command_imports_its_own_module_only():
    modules = imported(ROOT, "tags", "golang-tools")
    assert "bakegen.commands.inspect" in modules
    assert not modules & (COMMAND_MODULES - {"bakegen.commands.inspect", "bakegen.explain", "bakegen.graph"})


def test_platforms_imports_its_own_module_and_no_network_programs_or_threads():
    modules = imported(ROOT / "examples/repos/base-images", "platforms", "--emulated")
    assert "bakegen.commands.platforms" in modules
    assert not modules & (COMMAND_MODULES - {"bakegen.commands.platforms"}), sorted(modules & COMMAND_MODULES)
    assert not modules & EDGES, sorted(modules & EDGES)


def test_generating_imports_no_network_programs_or_threads(tmp_path):
    modules = imported(tmp_path)
    assert not modules & EDGES, sorted(modules & EDGES)
