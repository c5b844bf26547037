"""The command-line contract: streams, exit codes, atomic writes, --check, options everywhere,
the same bytes however bakegen is run."""

import os
import stat
import subprocess

import pytest
from conftest import ROOT, run_bakegen, targets_of

COMMITTED = (ROOT / "docker-bake.hcl").read_text()


def test_stdout_is_only_the_bake_file_and_warnings_go_to_stderr(project):
    r = run_bakegen()
    assert r.code == 0
    assert r.stdout == COMMITTED
    assert r.stderr == ""  # this repository's definitions are on a supported Debian: nothing to warn about
    for name in ("golang-tools", "golang-runtime", "golang-runtime-static"):
        image = project / "bake" / name / "image.hcl"
        image.write_text(image.read_text().replace('["trixie"]', '["bullseye"]'))
    r = run_bakegen(cwd=project)
    assert r.code == 0 and "debian11" in r.stdout
    assert "past its end of life" in r.stderr and "past its end of life" not in r.stdout


def test_output_file_is_written_atomically(project):
    out = project / "docker-bake.hcl"
    out.write_text("old\n")
    out.chmod(0o640)
    r = run_bakegen("-o", str(out), cwd=project)
    assert r.code == 0 and r.stdout == ""
    assert out.read_text() == COMMITTED
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert sorted(p.name for p in project.iterdir()) == ["bake", "docker-bake.hcl", "examples"]


def test_the_bytes_do_not_depend_on_how_bakegen_is_run(project):
    """`bakegen > f`, `bakegen -o other.hcl`, `make generate` and a BAKEGEN_* variable instead
    of an option all write the same file."""
    printed = run_bakegen("--registry", "reg.example.com/team", cwd=project).stdout
    assert run_bakegen("-o", "other.hcl", "--registry", "reg.example.com/team", cwd=project).code == 0
    assert run_bakegen("-o", "env.hcl", cwd=project, env={"BAKEGEN_REGISTRY": "reg.example.com/team"}).code == 0
    assert printed == (project / "other.hcl").read_text() == (project / "env.hcl").read_text()
    assert "# Regenerate with: bakegen --registry reg.example.com/team -o docker-bake.hcl\n" in printed
    make = subprocess.run(["make", "-n", "generate"], cwd=ROOT, capture_output=True, text=True)
    assert "-o docker-bake.hcl" in make.stdout and "BAKEGEN_COMMAND" not in make.stdout


def test_both_files_from_one_process(project, repo):
    """`bakegen -o docker-bake.hcl meta -o meta.hcl`, what make bake runs: the same two files as
    the two commands; with --check, a stale bake file stops it before meta."""
    for name in ("bake", "examples"):
        (repo.path / name).symlink_to(project / name)
    repo.commit()
    r = run_bakegen("-o", "docker-bake.hcl", "meta", "-o", "meta.hcl", cwd=repo.path, env={"SOURCE_DATE_EPOCH": "0"})
    assert r.code == 0, r
    assert (repo.path / "docker-bake.hcl").read_text() == COMMITTED
    alone = run_bakegen("meta", cwd=repo.path, env={"SOURCE_DATE_EPOCH": "0"}).stdout
    assert (repo.path / "meta.hcl").read_text() == alone
    (repo.path / "docker-bake.hcl").write_text("stale\n")
    r = run_bakegen("--check", "docker-bake.hcl", "meta", "-o", "meta2.hcl", cwd=repo.path)
    assert r.code == 1 and not (repo.path / "meta2.hcl").exists()
    r = run_bakegen("-o", "x.hcl", "tags", "base", cwd=repo.path)
    assert r.code == 2 and "-o does not apply to tags" in r.stderr


def test_check_up_to_date_stale_and_error(project):
    out = project / "docker-bake.hcl"
    assert run_bakegen("-o", str(out), cwd=project).code == 0
    r = run_bakegen("--check", str(out), cwd=project)
    assert r.code == 0 and r.stdout == ""
    out.write_text(out.read_text().replace('golang:1.27",', 'golang:1.26",'))
    r = run_bakegen("--check", str(out), cwd=project)
    assert r.code == 1
    assert '-    "${REGISTRY}/common/tools/golang:1.26",\n+    "${REGISTRY}/common/tools/golang:1.27",' in r.stdout
    assert "regenerate it with: bakegen -o docker-bake.hcl" in r.stderr
    assert run_bakegen("--check", str(out), "--go-version", "bad", cwd=project).code == 2


def test_check_missing_file(project):
    r = run_bakegen("--check", "none.hcl", cwd=project)
    assert r.code == 1 and r.stdout.startswith("--- none.hcl (missing)")


def test_check_compares_every_line(project):
    out = project / "docker-bake.hcl"
    out.write_text(COMMITTED.replace("# Regenerate with: bakegen -o", "# Regenerate with: make -o"))
    assert run_bakegen("--check", str(out), cwd=project).code == 1


def test_options_after_the_command_name_and_from_environment():
    a = run_bakegen("tags", "golang-tools", "--registry", "r.io")
    b = run_bakegen("--registry", "r.io", "tags", "golang-tools")
    c = run_bakegen("tags", "golang-tools", env={"BAKEGEN_REGISTRY": "r.io"})
    assert a.code == b.code == c.code == 0
    assert a.stdout == b.stdout == c.stdout == (
        "r.io/common/tools/golang:1.27.0\nr.io/common/tools/golang:1.27\n"
        "r.io/common/tools/golang:1.27.0-debian13\nr.io/common/tools/golang:1.27-debian13\n")


def test_tags_of_an_app_env_and_of_a_group(repo):
    repo.commit()
    r = run_bakegen("tags", "ci-demo-go-prd", "--definitions", str(ROOT / "bake"), cwd=repo.path,
                    env={"SOURCE_DATE_EPOCH": "1751412000"})
    short = repo.git("rev-parse", "--short=7", "HEAD")
    assert r.code == 0, r
    assert r.stdout == (f"harbor.bdser.cc/prd/ci-demo-go:main-{short}-202507012320\n"
                        "harbor.bdser.cc/prd/ci-demo-go:latest\n")
    r = run_bakegen("tags", "base", cwd=repo.path)
    assert r.code == 0 and "harbor.bdser.cc/common/runtime/golang:debian13\n" in r.stdout


def test_tags_honour_the_registry_variable_like_bake():
    r = run_bakegen("tags", "golang-runtime", env={"REGISTRY": "localhost:5000"})
    assert r.stdout == "localhost:5000/common/runtime/golang:debian13\n"
    r = run_bakegen("tags", "golang-runtime", env={"REGISTRY": "Bad Host"})
    assert r.code == 2 and r.stderr.strip().endswith('$REGISTRY: "Bad Host" is not a valid registry: '
                                                     "expected HOST[:PORT][/PREFIX] (lower-case prefix)")


def test_unknown_target_suggests():
    r = run_bakegen("tags", "golang-tool")
    assert r.code == 2 and 'did you mean "golang-tools"' in r.stderr


def test_usage_error_exits_2():
    r = run_bakegen("--no-such-option")
    assert r.code == 2 and "No such option" in r.stderr and "Traceback" not in r.stderr


def test_meta_outside_git_names_the_overrides(tmp_path):
    r = run_bakegen("meta", cwd=tmp_path)
    assert r.code == 2 and "--branch and --commit" in r.stderr


def test_meta_with_overrides_outside_git(tmp_path):
    r = run_bakegen("meta", "--branch", "feature/x", "--commit", "0123456789abcdef", cwd=tmp_path,
                    env={"SOURCE_DATE_EPOCH": "0"})
    assert r.code == 0, r
    app = targets_of(r.stdout)["ci-demo-go-dev"]
    assert app["tags"] == ["REGISTRY/dev/ci-demo-go:feature-x-0123456-197001010000"]
    assert app["args"] == {"GIT_BRANCH": "feature/x", "GIT_COMMIT_ID": "0123456", "SOURCE_DATE_EPOCH": "0",
                           "VERSION": "feature-x-0123456"}


def test_version_and_module_entry_point():
    r = run_bakegen("--version")
    assert r.code == 0 and r.stdout.startswith("bakegen, version ")


def test_help_has_examples_on_every_command():
    for args in ([], ["meta"], ["tags"], ["graph"], ["explain"], ["builder"], ["init"]):
        r = run_bakegen(*args, "--help")
        assert r.code == 0 and "Examples:" in r.stdout, args


def test_no_output_file_written_on_error(project):
    out = project / "x.hcl"
    r = run_bakegen("--go-version", "9.9.9", "-o", str(out), cwd=project)
    assert r.code == 2 and not out.exists()
    assert not [p for p in os.listdir(project) if p.startswith(".")]


def test_output_of_same_content_leaves_the_file_alone(project):
    """The pre-commit `bakegen` hook runs `bakegen -o`: an up-to-date file stays byte for byte,
    mtime included."""
    out = project / "docker-bake.hcl"
    assert run_bakegen("-o", str(out), cwd=project).code == 0
    before = out.read_bytes()
    os.utime(out, (1, 1))
    r = run_bakegen("-o", str(out), cwd=project)
    assert r.code == 0 and "up to date" in r.stderr
    assert out.read_bytes() == before and out.stat().st_mtime == 1


@pytest.mark.parametrize("args, env, blamed", [
    (["--registry", "Bad Host"], {}, '--registry: "Bad Host" is not a valid registry'),
    ([], {"BAKEGEN_REGISTRY": "Bad Host"}, 'BAKEGEN_REGISTRY: "Bad Host" is not a valid registry'),
    (["--go-version", "1.30"], {}, "--go-version: Go 1.30: bakegen knows no checksum"),
    ([], {"BAKEGEN_GO_VERSION": "go1.x"}, 'BAKEGEN_GO_VERSION: invalid Go version "go1.x"'),
    (["meta", "--go-version", "go1.x", "--branch", "b", "--commit", "c0ffee0"], {}, "--go-version: invalid Go version"),
    (["--env", "qa"], {}, '--env: no env "qa"; the definitions have: dev, prd, test'),
    ([], {"BAKEGEN_APP": "svc"}, 'BAKEGEN_APP: no app "svc"; the definitions have: ci-demo-go'),
    ([], {"SOURCE_DATE_EPOCH": "x"}, None),
])
def test_bad_values_are_blamed_on_their_option_or_variable(args, env, blamed):
    r = run_bakegen(*args, env=env)
    if blamed is None:  # SOURCE_DATE_EPOCH only matters to meta
        assert r.code == 0
        r = run_bakegen("meta", "--branch", "b", "--commit", "c0ffee0", env=env)
        blamed = 'SOURCE_DATE_EPOCH="x": is not a number of seconds'
    assert r.code == 2 and r.stdout == ""
    assert r.stderr.strip().splitlines()[-1] == f"bakegen: error: {blamed}" or blamed in r.stderr, r.stderr


def test_no_bakegen_variable_of_the_machine_reaches_a_test():
    assert not [k for k in os.environ if k.startswith("BAKEGEN_") and k != "BAKEGEN_CACHE_DIR"]


def test_a_bug_is_one_line_and_its_own_exit_code(monkeypatch, capsys):
    """An unexpected exception is not bad input (2) nor a stale file (1): exit 3, one line, no
    traceback unless BAKEGEN_DEBUG is set."""
    import bakegen.cli

    def broken(*_args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(bakegen.cli, "generate", broken)
    assert bakegen.cli.main([]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("bakegen: internal error: ZeroDivisionError: division by zero (test_cli.py:")
    monkeypatch.setenv("BAKEGEN_DEBUG", "1")
    assert bakegen.cli.main([]) == 3
    assert "Traceback" in capsys.readouterr().err


def test_an_option_a_command_does_not_use_is_refused():
    """Each command takes only the options it uses: none is silently ignored."""
    r = run_bakegen("init", "--repo", "/nonexistent")
    assert r.code == 2 and "No such option '--repo'" in r.stderr
    r = run_bakegen("--registry-cache", "tags", "golang-tools")
    assert r.code == 2 and "--registry-cache does not apply to tags" in r.stderr
    r = run_bakegen("graph", "--branch", "x")
    assert r.code == 2 and "No such option '--branch'" in r.stderr
