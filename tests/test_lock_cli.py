"""`bakegen lock` end to end, as users run it, against go.dev's list served on 127.0.0.1: a new
version, an unchanged one, a changed checksum refused, the network down, --upgrade."""

import copy
import json
import socket

import pytest
from conftest import run_bakegen, targets_of
from test_lock import RECORDED, Server, with_release

LOCK = "bake/bakegen-lock.json"
TOOLS = "bake/golang-tools/image.hcl"
BUILD = "bake/golang-build/image.hcl"  # the compile image: Go versions as the toolchain's


@pytest.fixture
def served():
    s = Server()
    s.serve_list(RECORDED)
    yield s
    s.stop()


def lock(project, url, *args):
    return run_bakegen("lock", "--releases-url", url, *args, cwd=project)


def test_lock_writes_the_checksums_the_definitions_use(project, served):
    url = served.url("/dl/?mode=json&include=all")
    r = lock(project, url)
    assert r.code == 0, r
    data = json.loads((project / LOCK).read_text())
    assert set(data["go"]) == {"1.27.0"}
    assert set(data["go"]["1.27.0"]) == {"linux-amd64", "linux-arm64"}
    assert set(data["protoc"]["30.2"]) == {"linux-x86_64", "linux-aarch_64"}  # shipped: nothing downloaded
    assert f"wrote {LOCK}" in r.stderr and "bakegen -o docker-bake.hcl" in r.stderr
    assert any("go.dev" in line or "127.0.0.1" in line for line in r.stderr.splitlines())  # progress
    before = (project / LOCK).read_bytes()
    again = lock(project, url)
    assert again.code == 0 and f"{LOCK} is up to date" in again.stderr
    assert (project / LOCK).read_bytes() == before


def test_a_new_version_from_go_dev_makes_the_toolchain_buildable(project, served):
    sha = {"linux-amd64": "1" * 64, "linux-arm64": "2" * 64}  # synthetic release, made-up values
    url = served.serve_list(with_release("1.28.1", sha))
    assert "Go 1.28.1: no known sha256" in run_bakegen("--go-version", "1.28.1", cwd=project).stderr
    r = lock(project, url, "--go-version", "1.28.1")
    assert r.code == 0, r
    out = run_bakegen("--go-version", "1.28", cwd=project)  # a line: the newest known release
    assert out.code == 0, out
    assert targets_of(out.stdout)["golang-tools"]["args"]["GOLANG_FILES"].startswith(
        f"linux/amd64=go1.28.1.linux-amd64.tar.gz@{'1' * 64}")


def test_a_changed_checksum_is_refused_and_nothing_written(project, served):
    url = served.url("/dl/?mode=json&include=all")
    assert lock(project, url).code == 0
    before = (project / LOCK).read_bytes()
    changed = copy.deepcopy(RECORDED)
    for release in changed:
        for f in release["files"]:
            if f["filename"] == "go1.24.2.linux-amd64.tar.gz":
                f["sha256"] = "e" * 64
    r = lock(project, served.serve_list(changed))
    assert r.code == 2 and "go1.24.2.linux-amd64.tar.gz" in r.stderr and "e" * 64 in r.stderr
    assert (project / LOCK).read_bytes() == before


def test_the_network_down_is_a_clear_error_and_nothing_changes(project, served):
    url = served.url("/dl/?mode=json&include=all")
    assert lock(project, url).code == 0
    before = (project / LOCK).read_bytes()
    definitions = (project / TOOLS).read_bytes()
    with socket.socket() as closed:  # a port nothing listens on: the network is down
        closed.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{closed.getsockname()[1]}/dl/?mode=json&include=all"
    r = lock(project, down, "--upgrade")
    assert r.code == 2 and r.stdout == ""
    assert r.stderr.count("\n") <= 2 and "cannot download" in r.stderr and "network" in r.stderr
    assert (project / LOCK).read_bytes() == before and (project / TOOLS).read_bytes() == definitions


def test_upgrade_moves_each_version_to_its_newest_patch_and_nothing_else(project, served):
    url = served.url("/dl/?mode=json&include=all")
    texts = {}
    for file in (TOOLS, BUILD):
        texts[file] = (project / file).read_text().replace('versions = ["1.27.0"]', 'versions = ["1.24.2"]')  # older
        (project / file).write_text(texts[file])
    r = lock(project, url, "--upgrade")
    assert r.code == 0, r
    assert "Go 1.24.2 -> 1.24.13" in r.stderr
    for file, text in texts.items():
        assert (project / file).read_text() == text.replace('versions = ["1.24.2"]', 'versions = ["1.24.13"]')
    assert set(json.loads((project / LOCK).read_text())["go"]) == {"1.24.13"}
    out = run_bakegen(cwd=project)
    assert out.code == 0 and {targets_of(out.stdout)[t]["args"]["GOLANG_VERSION"] for t in ("golang-tools", "golang-build")} \
        == {"1.24.13"}
    again = lock(project, url, "--upgrade")
    assert again.code == 0 and "every Go version is the newest of its line" in again.stderr


def test_lock_needs_a_bake_folder(tmp_path, served):
    r = lock(tmp_path, served.url("/dl/?mode=json&include=all"))
    assert r.code == 2 and "bakegen init" in r.stderr
