"""Each command owns its options: every option of the root command typed before a command's name
is either taken by that command (its output shows it) or refused (exit 2, one line naming the
option and the command). Nothing is accepted and ignored."""

import json
import shutil

import pytest
from conftest import ROOT, Repo, run_bakegen
from test_lock import RECORDED, Server, with_release
from test_selection import SECOND_APP  # billing: envs dev and stage

from bakegen.cli import main

GIT = ["--branch", "b", "--commit", "c0ffee0"]
# The root command's options, as typed before a command.
TYPED = {
    "registry": ["--registry", "r.example.com/team"],
    "go_version": ["--go-version", "1.26.7"],
    "app": ["--app", "billing"],
    "env": ["--env", "stage"],
    "registry_cache": ["--registry-cache"],
    "definitions": ["--definitions", "defs2"],
    "output": ["-o", "out.hcl"],
    "check": ["--check", "docker-bake.hcl"],
    "format": ["--format", "json"],
}
COMMANDS = {
    "bake": ["bake", "--print"],
    "meta": ["meta", *GIT],
    "tags": ["tags", "default", *GIT],
    "graph": ["graph"],
    "explain": ["explain", "ci-demo-go-dev", *GIT],
    "builder": ["builder", "--dry-run", "tcp://a:1234=linux/amd64"],
    "init": ["init"],
    "lock": ["lock"],
    "platforms": ["platforms", "--emulated", "--build-platform", "linux/amd64"],
}


def only_126(out):  # the toolchain's one version, 1.26.7, not the two of the definitions
    return "1.27.0" not in out and "1_27_0" not in out and "1.26.7" in out


def no_ci_demo(out):  # explain ci-demo-go-dev: an error listing the targets there are
    return "ci-demo-go" not in out.replace('"ci-demo-go-dev"', "") and "billing" in out


def stage_only(out):
    return "dev" not in out.replace('"ci-demo-go-dev"', "") and "stage" in out


# What the output says when the command took the option (each also checked false without it).
SHOWS = {
    ("definitions", "bake"): lambda out: "defs2.example.com" in out and "is not what bake/ gives" in out,
    ("go_version", "meta"): lambda out: 'target "golang-tools" {' in out,
    ("app", "meta"): no_ci_demo,
    ("env", "meta"): stage_only,
    ("definitions", "meta"): lambda out: "bakegen meta --definitions defs2" in out,
    ("output", "meta"): lambda out: "bakegen: wrote out.hcl" in out,
    ("check", "meta"): lambda out: "docker-bake.hcl is up to date" in out,
    ("format", "meta"): lambda out: out.startswith("{\n") and '"target": {' in out,
    **{(option, command): check for command in ("tags", "graph", "explain") for option, check in (
        ("registry", lambda out: "r.example.com/team/" in out),
        ("go_version", only_126),
        ("app", no_ci_demo),
        ("env", stage_only),
        ("definitions", lambda out: "defs2.example.com/" in out))},
    ("registry", "init"): lambda out: 'registry = "r.example.com/team"' in out,
    ("go_version", "init"): lambda out: 'versions = ["1.25"]' in out,  # typed: --go-version 1.25
    ("registry_cache", "init"): lambda out: "registry_cache = true" in out,
    ("definitions", "init"): lambda out: "wrote defs2/bakegen.hcl\n" in out,
    ("app", "init"): lambda out: "/bake/billing/image.hcl\n" in out,
    ("definitions", "lock"): lambda out: "wrote defs2/bakegen-lock.json" in out,
    ("go_version", "lock"): lambda out: '"1.27.0"' not in out and '"1.26.7"' in out,
    ("definitions", "platforms"): lambda out: "bakegen: defs2/ on linux/amd64: emulate linux/arm64" in out,
}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """The built-in definitions with a second app and a second Go version, committed with their
    bake file; ``defs2/`` the same definitions with another registry."""
    repo = Repo(tmp_path_factory.mktemp("options") / "repo")
    for name in ("bake", "examples"):
        shutil.copytree(ROOT / name, repo.path / name)
    (repo.path / "bake/billing").mkdir()
    (repo.path / "bake/billing/image.hcl").write_text(SECOND_APP)
    tools = repo.path / "bake/golang-tools/image.hcl"
    text = tools.read_text()
    assert 'versions = ["1.27.0"]' in text
    tools.write_text(text.replace('versions = ["1.27.0"]', 'versions = ["1.26.7", "1.27.0"]'))
    main = repo.path / "examples/repos/ci-demo-go/cmd/billing/main.go"  # its own package in the same module
    main.parent.mkdir(parents=True)
    main.write_text("package main\n\nfunc main() {}\n")
    shutil.copytree(repo.path / "bake", repo.path / "defs2")
    settings = repo.path / "defs2/bakegen.hcl"
    settings.write_text(settings.read_text().replace('"harbor.bdser.cc"', '"defs2.example.com"'))
    assert run_bakegen("-o", "docker-bake.hcl", cwd=repo.path).code == 0
    repo.commit()
    return repo.path


@pytest.fixture(scope="module")
def releases():
    s = Server()
    s.serve_list(with_release("1.28.1", {"linux-amd64": "1" * 64, "linux-arm64": "2" * 64}, base=RECORDED))
    yield s
    s.stop()


def run(capsys, monkeypatch, cwd, *args):
    """bakegen in this process (the same main() as the console script): exit code, stdout + stderr."""
    monkeypatch.chdir(cwd)
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out + "\n---\n" + out.err


def where(command, option, project, tmp_path, releases):
    """The folder a command runs in, and its arguments: init in a new repository (a service's with
    --app), lock in a copy of the project (it writes), the others in the project."""
    args = list(COMMANDS[command])
    if command == "init":
        folder = Repo(tmp_path / "new").path
        if option == "app":
            (folder / "go.mod").write_text("module example.com/billing\n\ngo 1.24\n")
            (folder / "main.go").write_text("package main\n\nfunc main() {}\n")
        return folder, args
    if command == "lock":
        folder = tmp_path / "copy"
        shutil.copytree(project, folder)
        return folder, [*args, "--releases-url", releases.url("/dl/?mode=json&include=all")]
    return project, args


def output_of(out, folder, command):
    """What a command said, and for init and lock what they wrote."""
    wrote = {"init": "*/**/*.hcl", "lock": "*/bakegen-lock.json"}.get(command)
    return out + "".join(f"\n{p.relative_to(folder)}:\n{p.read_text()}"
                         for p in (sorted(folder.glob(wrote)) if wrote else []) if "examples" not in p.parts)


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("option", sorted(TYPED))
def test_a_root_option_before_a_command_is_taken_or_refused(option, command, project, releases, tmp_path,
                                                            capsys, monkeypatch):
    folder, args = where(command, option, project, tmp_path, releases)
    typed = ["--go-version", "1.25"] if (option, command) == ("go_version", "init") else TYPED[option]
    code, out = run(capsys, monkeypatch, folder, *typed, *args)
    if (option, command) not in SHOWS:
        flag = TYPED[option][0]
        stdout, stderr = out.split("\n---\n")
        assert code == 2 and stdout == "" and stderr.count("\n") == 1, out  # one line on stderr
        assert stderr.startswith(f"bakegen: error: {flag} does not apply to {command}"), out
        return
    assert SHOWS[option, command](output_of(out, folder, command)), out
    # ... which it does not say without the option
    folder, args = where(command, option, project, tmp_path / "without", releases)
    code, out = run(capsys, monkeypatch, folder, *args)
    assert not SHOWS[option, command](output_of(out, folder, command)), out


def test_before_meta_with_o_the_root_command_takes_what_meta_does_not(project, tmp_path):
    r = run_bakegen("--registry", "r.example.com/team", "--registry-cache", "--env", "stage", "--format", "json",
                    "-o", "bake.json", "meta", *GIT, "-o", str(tmp_path / "meta.json"), cwd=project)
    assert r.code == 0, r
    committed = json.loads((project / "bake.json").read_text())
    (project / "bake.json").unlink()
    assert committed["variable"]["REGISTRY"]["default"] == "r.example.com/team"
    assert "cache-to" in committed["target"]["billing-stage"]
    per_commit = json.loads((tmp_path / "meta.json").read_text())  # meta takes --env and --format
    assert sorted(t for t in per_commit["target"] if t.startswith(("billing", "ci-demo"))) == ["billing-stage"]


def test_meta_format_after_its_name_wins(project):
    r = run_bakegen("--format", "json", "-o", "fmt.json", "meta", "--format", "hcl", *GIT, cwd=project)
    assert r.code == 0 and r.stdout.startswith("# Per-build values generated by bakegen"), r
    assert json.loads((project / "fmt.json").read_text())["target"]
    (project / "fmt.json").unlink()


def test_a_variable_counts_for_the_commands_that_take_its_option_only(project):
    """A BAKEGEN_* variable set for a whole CI job is not an option typed before a command."""
    env = {"BAKEGEN_REGISTRY_CACHE": "1", "BAKEGEN_REGISTRY": "r.example.com/team", "BAKEGEN_ENV": "stage"}
    r = run_bakegen("tags", "default", *GIT, cwd=project, env=env)
    assert r.code == 0 and "r.example.com/team/stage/billing:" in r.stdout and "/dev/" not in r.stdout, r
    r = run_bakegen("builder", "--dry-run", "tcp://a:1234=linux/amd64", cwd=project, env=env)
    assert r.code == 0, r


@pytest.mark.parametrize("args", [["graph", "--registry-cache"], ["meta", "--registry", "r.example.com"],
                                  ["graph", "--format", "json"], ["tags"]])
def test_a_usage_error_is_one_line_naming_the_option(args, project):
    r = run_bakegen(*args, cwd=project)
    assert r.code == 2 and r.stdout == "" and r.stderr.count("\n") == 1, r
    assert r.stderr.startswith("bakegen: error: ") and f"(see bakegen {args[0]} --help)" in r.stderr, r
