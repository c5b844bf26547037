"""The command-line contract: streams, exit codes, atomic writes, --check, options everywhere."""

import os
import stat

from conftest import GOLDEN, ROOT, body, run_bakegen, targets_of


def test_stdout_is_only_the_bake_file_and_warnings_go_to_stderr():
    r = run_bakegen()
    assert r.code == 0
    assert r.stdout == (GOLDEN / "default.hcl").read_text()
    assert "past its end of life" in r.stderr and "past its end of life" not in r.stdout


def test_output_file_is_written_atomically(tmp_path):
    out = tmp_path / "docker-bake.hcl"
    out.write_text("old\n")
    out.chmod(0o640)
    r = run_bakegen("-o", str(out))
    assert r.code == 0 and r.stdout == ""
    assert body(out.read_text()) == body((GOLDEN / "default.hcl").read_text())
    assert f"# Regenerate with: bakegen -o {out}\n" in out.read_text()
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docker-bake.hcl"]


def test_check_up_to_date_stale_and_error(tmp_path):
    out = tmp_path / "docker-bake.hcl"
    assert run_bakegen("-o", str(out)).code == 0
    r = run_bakegen("--check", str(out))
    assert r.code == 0 and r.stdout == ""
    out.write_text(out.read_text().replace('golang:1.24",', 'golang:1.23",'))
    r = run_bakegen("--check", str(out))
    assert r.code == 1
    assert '-    "${REGISTRY}/common/tools/golang:1.23",\n+    "${REGISTRY}/common/tools/golang:1.24",' in r.stdout
    assert f"regenerate it with: bakegen -o {out}" in r.stderr
    r = run_bakegen("--check", str(out), "--go-version", "bad")
    assert r.code == 2


def test_check_missing_file(tmp_path):
    r = run_bakegen("--check", str(tmp_path / "none.hcl"))
    assert r.code == 1 and r.stdout.startswith("---")


def test_check_ignores_only_the_regenerate_line(tmp_path):
    out = tmp_path / "docker-bake.hcl"
    assert run_bakegen("-o", str(out), env={"BAKEGEN_COMMAND": "make generate"}).code == 0
    assert "# Regenerate with: make generate\n" in out.read_text()
    assert run_bakegen("--check", str(out)).code == 0


def test_header_names_the_regenerate_command_with_its_options(tmp_path):
    out = tmp_path / "b.hcl"
    run_bakegen("--registry", "reg.example.com/team", "-o", str(out))
    assert f"# Regenerate with: bakegen --registry reg.example.com/team -o {out}\n" in out.read_text()
    assert run_bakegen("--registry", "reg.example.com/team", "--check", str(out)).code == 0
    assert run_bakegen("--check", str(out)).code == 1


def test_options_after_the_command_name_and_from_environment():
    a = run_bakegen("tags", "golang-tools", "--registry", "r.io")
    b = run_bakegen("--registry", "r.io", "tags", "golang-tools")
    c = run_bakegen("tags", "golang-tools", env={"BAKEGEN_REGISTRY": "r.io"})
    assert a.code == b.code == c.code == 0
    assert a.stdout == b.stdout == c.stdout == (
        "r.io/common/tools/golang:1.24.2\nr.io/common/tools/golang:1.24\n"
        "r.io/common/tools/golang:1.24.2-debian11\nr.io/common/tools/golang:1.24-debian11\n")


def test_tags_of_the_app_and_of_a_group(repo):
    repo.commit()
    env = {"SOURCE_DATE_EPOCH": "1751412000"}
    r = run_bakegen("tags", "ci-demo-go", "--env", "prd", "--definitions", str(ROOT / "bake"),
                    cwd=repo.path, env=env)
    short = repo.git("rev-parse", "--short=7", "HEAD")
    assert r.code == 0, r
    assert r.stdout == (f"harbor.bdser.cc/prd/ci-demo-go:main-{short}-202507012320\n"
                        "harbor.bdser.cc/prd/ci-demo-go:latest\n")
    r = run_bakegen("tags", "base", cwd=repo.path)
    assert r.code == 0 and "harbor.bdser.cc/common/runtime/golang:debian11\n" in r.stdout


def test_tags_honour_the_registry_variable_like_bake():
    r = run_bakegen("tags", "golang-runtime", env={"REGISTRY": "localhost:5000"})
    assert r.stdout == "localhost:5000/common/runtime/golang:debian11\n"


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
    app = targets_of(r.stdout)["ci-demo-go"]
    assert app["tags"] == ["REGISTRY/dev/ci-demo-go:feature-x-0123456-197001010000"]
    assert app["args"] == {"APP_ENV": "dev", "GIT_BRANCH": "feature/x", "GIT_COMMIT_ID": "0123456",
                           "VERSION": "feature-x-0123456-197001010000"}


def test_version_and_module_entry_point():
    r = run_bakegen("--version")
    assert r.code == 0 and r.stdout.startswith("bakegen, version ")


def test_help_has_examples_on_every_command():
    for args in ([], ["meta"], ["tags"], ["graph"], ["explain"]):
        r = run_bakegen(*args, "--help")
        assert r.code == 0 and "Examples:" in r.stdout, args


def test_no_output_file_written_on_error(tmp_path):
    out = tmp_path / "x.hcl"
    r = run_bakegen("--go-version", "9.9.9", "-o", str(out))
    assert r.code == 2 and not out.exists() and os.listdir(tmp_path) == []


def test_output_of_same_content_leaves_the_file_and_its_header_alone(tmp_path):
    """The pre-commit `bakegen` hook runs `bakegen -o`: an up-to-date file, written by
    `make generate`, must stay byte for byte (header and mtime included)."""
    out = tmp_path / "docker-bake.hcl"
    assert run_bakegen("-o", str(out), env={"BAKEGEN_COMMAND": "make generate"}).code == 0
    before = out.read_bytes()
    os.utime(out, (1, 1))
    r = run_bakegen("-o", str(out))
    assert r.code == 0 and "up to date" in r.stderr
    assert out.read_bytes() == before and out.stat().st_mtime == 1


def test_stale_message_names_the_files_own_regenerate_command(tmp_path):
    out = tmp_path / "docker-bake.hcl"
    run_bakegen("-o", str(out), env={"BAKEGEN_COMMAND": "make generate"})
    out.write_text(out.read_text().replace("debian11", "debian10"))
    r = run_bakegen("--check", str(out))
    assert r.code == 1 and "regenerate it with: make generate" in r.stderr
    assert "Regenerate with" not in r.stdout  # the one line not compared is not in the diff


def test_bad_option_values_name_the_option():
    r = run_bakegen("--registry", "Bad Host")
    assert r.code == 2 and r.stderr.strip().endswith('--registry: "Bad Host" is not a valid registry: expected HOST[:PORT][/PREFIX]')
    r = run_bakegen("meta", "--go-version", "go1.x", "--branch", "b", "--commit", "c0ffee0")
    assert r.code == 2 and "--go-version: invalid Go version" in r.stderr
