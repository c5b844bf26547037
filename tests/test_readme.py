"""The README shows real output: its excerpts are checked against what bakegen prints."""

import re

from conftest import ROOT, run_bakegen

README = (ROOT / "README.md").read_text()


def block(lang: str, after: str) -> str:
    start = README.index(after)
    m = re.compile(rf"```{lang}\n(.*?)```", re.S).search(README, start)
    return m.group(1)


def test_graph_picture_is_the_real_graph():
    assert block("mermaid", "The build order") == run_bakegen("graph").stdout


def test_meta_excerpt_is_real(tmp_path):
    r = run_bakegen("meta", "--definitions", str(ROOT / "bake"), "--env", "prd", "--branch", "main",
                    "--commit", "4ff8dc8a31c2e9f0d7b6a5e4c3b2a1f0e9d8c7b6", cwd=tmp_path,
                    env={"SOURCE_DATE_EPOCH": "1751412000"})
    assert block("hcl", "`bakegen meta --env prd`") in r.stdout


def test_bake_file_excerpt_lines_are_real():
    committed = (ROOT / "docker-bake.hcl").read_text()
    excerpt = block("hcl", "An excerpt of the committed")
    for line in excerpt.splitlines():
        if line.strip() and line.strip() != "...":
            assert line in committed.splitlines(), line


def test_tags_table_is_real(project):
    tools = project / "bake/golang-tools/image.hcl"
    tools.write_text(tools.read_text().replace('versions = ["1.27.0"]', 'versions = ["1.24.13", "1.25.14", "1.27rc3"]')
                     .replace('variants = ["trixie"]', 'variants = ["bookworm", "trixie"]')
                     .replace('aliases = ["minor"]', 'aliases = ["minor", "major", "latest"]'))
    rows = re.findall(r"^\| `(golang-tools-[^`]+)` \| (.*) \|$", README, re.M)
    assert len(rows) == 6
    for target, tags in rows:
        r = run_bakegen("tags", target, cwd=project)
        assert r.code == 0, r
        assert [line.rsplit(":", 1)[1] for line in r.stdout.splitlines()] == re.findall(r"`([^`]+)`", tags)


def test_every_make_target_in_the_readme_exists():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.M))
    for name in set(re.findall(r"`make ([a-z][a-z-]*)", README)):
        assert name in targets, name


def test_readme_test_command_is_what_ci_runs():
    command = "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest"
    assert command in README
    assert command in (ROOT / ".ci/run").read_text()
