"""``bakegen lock``'s core against a local HTTP server on 127.0.0.1 serving a recorded copy of
go.dev's release list (tests/data/go-dl-include-all.json, see tests/data/README.md) and fake protoc
zips. No test touches the internet."""

from __future__ import annotations

import copy
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bakegen import checksums as ck
from bakegen import loader
from bakegen import lock as lk
from bakegen.checksums import Checksums
from bakegen.errors import BakegenError
from bakegen.loader import data_json
from bakegen.lock import ToolchainUse
from bakegen.versions import GoVersion, known_versions

DATA = Path(__file__).parent / "data" / "go-dl-include-all.json"
RECORDED = json.loads(DATA.read_text())
SHIPPED_GO = data_json("go-sha256.json")["versions"]
SHIPPED_PROTOC = data_json("protoc-sha256.json")["versions"]
LIST_PATH = "/dl/?mode=json&include=all"
FAKE_SHA = "f" * 64  # a value no real file has


class Server:
    """A local HTTP server: ``routes`` maps a path (with its query) to a body or to a function
    that answers the request itself; ``requests`` lists the paths asked for."""

    def __init__(self) -> None:
        self.routes: dict[str, bytes | Callable[[BaseHTTPRequestHandler], None]] = {}
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                route = server.routes.get(self.path)
                if callable(route):
                    route(self)
                    return
                self.send_response(200 if route is not None else 404)
                body = route if route is not None else b"not found"
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def serve_list(self, releases: list) -> str:
        self.routes[LIST_PATH] = json.dumps(releases).encode()
        return self.url(LIST_PATH)

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    s.serve_list(RECORDED)
    yield s
    s.stop()


@pytest.fixture
def progress() -> list[str]:
    return []


def with_release(version: str, shas: dict[str, str], stable: bool = True, base: list | None = None) -> list:
    """The recorded list with one more release first (synthetic: for versions bakegen ships no
    checksum for, with made-up values)."""
    files = [{"filename": f"go{version}.{key}.tar.gz", "os": "" if key == "src" else key.split("-")[0],
              "arch": "" if key == "src" else key.split("-", 1)[1], "version": f"go{version}", "sha256": sha,
              "size": 0, "kind": "source" if key == "src" else "archive"} for key, sha in shas.items()]
    return [{"version": f"go{version}", "stable": stable, "files": files}, *copy.deepcopy(base or RECORDED)]


def synthetic(version: str) -> dict[str, str]:
    return {key: hashlib.sha256(f"synthetic go{version}.{key}".encode()).hexdigest()
            for key in ("src", "linux-amd64", "linux-arm64", "linux-armv6l")}


def use(*versions: str, platforms: tuple[str, ...] = ("linux/amd64",), protoc: str = "",
        protoc_url: str = lk.PROTOC_DOWNLOAD_URL) -> ToolchainUse:
    return ToolchainUse("golang-tools", versions, platforms, protoc, protoc_url, where="bake/golang-tools/image.hcl:9")


def run(server: Server, path: Path, uses: list[ToolchainUse], progress: list[str], **kw: object) -> lk.LockResult:
    return lk.lock(path, uses, go_url=kw.pop("go_url", server.url(LIST_PATH)), timeout=kw.pop("timeout", 5.0),
                   progress=progress.append, **kw)  # type: ignore[arg-type]


def snapshot(path: Path) -> tuple[bytes, int] | None:
    return (path.read_bytes(), path.stat().st_mtime_ns) if path.exists() else None


# ---------------------------------------------------------------- reading go.dev's list
def test_the_recorded_list_reads_as_the_shipped_data():
    releases = lk.parse_go_releases(RECORDED, "recorded")
    assert releases.go == SHIPPED_GO


def test_other_systems_installers_and_unnameable_releases_are_left_out():
    extra = [{"filename": f"go1.24.2.{name}", "os": os_, "arch": arch, "version": "go1.24.2", "sha256": FAKE_SHA,
              "size": 1, "kind": kind}
             for name, os_, arch, kind in [("windows-amd64.zip", "windows", "amd64", "archive"),
                                           ("windows-amd64.msi", "windows", "amd64", "installer"),
                                           ("darwin-arm64.tar.gz", "darwin", "arm64", "archive"),
                                           ("darwin-arm64.pkg", "darwin", "arm64", "installer")]]
    data = copy.deepcopy(RECORDED)
    next(r for r in data if r["version"] == "go1.24.2")["files"] += extra
    data += [{"version": "go1", "stable": True, "files": []},
             {"version": "go1.9.2rc2", "stable": False, "files": []}]
    assert lk.parse_go_releases(data, "x").go == SHIPPED_GO


def test_go_1_20_spelling_of_a_first_release_is_read():
    data = with_release("1.20", synthetic("1.20"))
    releases = lk.parse_go_releases(data, "x")
    assert releases.go["1.20"] == synthetic("1.20")
    assert GoVersion.parse("1.20").resolve(known_versions(releases.go)).tag == "1.20.0"


@pytest.mark.parametrize("body, detail", [
    (b"<html>Go downloads</html>", "not JSON"),
    (b'{"version": "go1.24.2"}', "not a non-empty JSON list"),
    (b"[]", "not a non-empty JSON list"),
    (b'[{"version": "go1.24.2", "files": []}]', "release #0 has no string version, boolean stable"),
    (b'[{"version": "go1.24.2", "stable": true, "files": [{"filename": "go1.24.2.src.tar.gz"}]}]',
     "a file of 1.24.2 lacks one of filename, os, arch, version, sha256, size, kind"),
])
def test_an_answer_that_is_not_the_release_list_is_a_clear_error(server, tmp_path, progress, body, detail):
    lock_file = tmp_path / "bakegen-lock.json"
    run(server, lock_file, [use("1.24.2")], progress)
    before = snapshot(lock_file)
    server.routes[LIST_PATH] = body
    with pytest.raises(BakegenError) as e:
        run(server, lock_file, [use("1.24.13")], progress)
    assert detail in str(e.value) and server.url(LIST_PATH) in str(e.value)
    assert "\n" not in str(e.value)
    assert snapshot(lock_file) == before


# ---------------------------------------------------------------- bakegen lock
def test_first_lock_writes_exactly_the_files_used_sorted_and_commented(server, tmp_path, progress):
    lock_file = tmp_path / "bakegen-lock.json"
    uses = [use("1.24.2", platforms=("linux/amd64", "linux/arm/v7")), use("1.24.2", protoc="30.2")]
    result = run(server, lock_file, uses, progress)
    assert result.written
    data = json.loads(lock_file.read_text())
    # the target platforms' files and the build machines' (linux-amd64, linux-arm64)
    assert data["go"] == {"1.24.2": {k: SHIPPED_GO["1.24.2"][k] for k in ("linux-amd64", "linux-arm64", "linux-armv6l")}}
    assert data["protoc"] == {"30.2": {"linux-x86_64": SHIPPED_PROTOC["30.2"]["linux-x86_64"]}}
    assert "bakegen lock" in data["comment"] and "docker-bake.hcl" in data["comment"]
    assert data["format"] == 1
    text = lock_file.read_text()
    assert text == json.dumps(data, indent=2, sort_keys=True) + "\n"
    assert text.startswith('{\n  "comment": ') and not text.endswith("\n\n")
    assert server.requests == [LIST_PATH]  # protoc 30.2 is shipped: nothing downloaded


def test_a_new_version_is_added_and_the_others_stay(server, tmp_path, progress):
    lock_file = tmp_path / "bakegen-lock.json"
    run(server, lock_file, [use("1.24.2")], progress)
    first = json.loads(lock_file.read_text())
    result = run(server, lock_file, [use("1.24.2", "1.26.7")], progress)
    data = json.loads(lock_file.read_text())
    assert result.written
    assert data["go"]["1.24.2"] == first["go"]["1.24.2"]
    assert data["go"]["1.26.7"] == {k: SHIPPED_GO["1.26.7"][k] for k in ("linux-amd64", "linux-arm64")}
    assert result.added == ("go1.26.7.linux-amd64.tar.gz", "go1.26.7.linux-arm64.tar.gz")
    assert result.removed == ()


def test_a_version_bakegen_does_not_ship_comes_from_go_dev_and_resolves_offline(server, tmp_path, progress):
    server.serve_list(with_release("1.28.1", synthetic("1.28.1")))
    lock_file = tmp_path / "bakegen-lock.json"
    run(server, lock_file, [use("1.28", platforms=("linux/arm/v5",))], progress)
    assert json.loads(lock_file.read_text())["go"] == {
        "1.28.1": {k: synthetic("1.28.1")[k] for k in ("linux-amd64", "linux-arm64", "src")}}
    go, _ = loader.offline_tables(tmp_path)  # no network: shipped data + lock file
    assert GoVersion.parse("1.28").resolve(known_versions(go)).go == "1.28.1"
    assert GoVersion.parse("1.24").resolve(known_versions(go)).go == "1.24.13"  # the shipped data


def test_an_unchanged_run_leaves_the_file_byte_identical(server, tmp_path, progress):
    lock_file = tmp_path / "bakegen-lock.json"
    uses = [use("1.24.2", "1.27rc3", platforms=("linux/amd64", "linux/s390x"), protoc="30.2")]
    run(server, lock_file, uses, progress)
    before = snapshot(lock_file)
    time.sleep(0.01)
    result = run(server, lock_file, uses, progress)
    assert not result.written and result.added == result.removed == ()
    assert snapshot(lock_file) == before


def test_a_version_nothing_uses_any_more_leaves_the_lock(server, tmp_path, progress):
    lock_file = tmp_path / "bakegen-lock.json"
    run(server, lock_file, [use("1.24.2", "1.25.14")], progress)
    result = run(server, lock_file, [use("1.25.14")], progress)
    assert list(json.loads(lock_file.read_text())["go"]) == ["1.25.14"]
    assert result.removed == ("go1.24.2.linux-amd64.tar.gz", "go1.24.2.linux-arm64.tar.gz")


def test_a_checksum_that_changed_since_the_lock_is_refused(server, tmp_path, progress):
    lock_file = tmp_path / "bakegen-lock.json"
    shas = synthetic("1.28.1")
    server.serve_list(with_release("1.28.1", shas))
    run(server, lock_file, [use("1.28.1")], progress)
    before = snapshot(lock_file)
    server.serve_list(with_release("1.28.1", {**shas, "linux-amd64": FAKE_SHA}))
    with pytest.raises(BakegenError) as e:
        run(server, lock_file, [use("1.28.1", "1.24.2")], progress)
    message = str(e.value)
    assert "go1.28.1.linux-amd64.tar.gz" in message and FAKE_SHA in message and shas["linux-amd64"] in message
    assert str(lock_file) in message and "go.dev" in message
    assert snapshot(lock_file) == before


def test_a_checksum_that_differs_from_the_shipped_data_is_refused(server, tmp_path, progress):
    data = copy.deepcopy(RECORDED)
    release = next(r for r in data if r["version"] == "go1.24.2")
    next(f for f in release["files"] if f["filename"] == "go1.24.2.linux-amd64.tar.gz")["sha256"] = FAKE_SHA
    server.serve_list(data)
    lock_file = tmp_path / "bakegen-lock.json"
    with pytest.raises(BakegenError) as e:
        run(server, lock_file, [use("1.26.7")], progress)  # even for a version not used
    assert "go1.24.2.linux-amd64.tar.gz" in str(e.value) and "bakegen/data/go-sha256.json" in str(e.value)
    assert FAKE_SHA in str(e.value) and SHIPPED_GO["1.24.2"]["linux-amd64"] in str(e.value)
    assert not lock_file.exists()


def test_a_definition_checksum_that_differs_from_go_dev_is_refused_where_it_is_written(server, tmp_path, progress):
    mine = ck.definition_checksums("golang-tools", {"v1.25.14": {"linux-amd64": FAKE_SHA}}, "image.hcl:40", {}, None)
    with pytest.raises(BakegenError) as e:
        run(server, tmp_path / "bakegen-lock.json", [use("1.25.14")], progress, definitions=mine)
    assert e.value.where == "image.hcl:40" and 'go_checksums of image "golang-tools"' in e.value.message


def test_network_down_is_one_clear_line_and_the_file_is_untouched(server, tmp_path, progress):
    lock_file = tmp_path / "bakegen-lock.json"
    run(server, lock_file, [use("1.24.2")], progress)
    before = snapshot(lock_file)
    url = server.url(LIST_PATH)
    server.stop()
    with pytest.raises(BakegenError) as e:
        run(server, lock_file, [use("1.24.13")], progress, go_url=url)
    assert str(e.value).startswith(f"cannot download {url}: ") and "(is the network up?)" in str(e.value)
    assert "\n" not in str(e.value)
    assert snapshot(lock_file) == before


def test_a_server_that_does_not_answer_times_out(server, tmp_path, progress):
    server.routes[LIST_PATH] = lambda handler: time.sleep(2)
    with pytest.raises(BakegenError, match=r"cannot download .*timed out"):
        run(server, tmp_path / "bakegen-lock.json", [use("1.24.2")], progress, timeout=0.3)


def test_a_used_file_go_dev_does_not_list_is_an_error_naming_it(server, tmp_path, progress):
    server.serve_list(with_release("1.28.1", {"linux-amd64": FAKE_SHA, "linux-arm64": FAKE_SHA}))
    with pytest.raises(BakegenError, match=r"no published sha256 for go1\.28\.1\.linux-riscv64\.tar\.gz"):
        run(server, tmp_path / "bakegen-lock.json", [use("1.28.1", platforms=("linux/riscv64",))], progress)


# ---------------------------------------------------------------- protoc
def test_protoc_zips_nobody_published_are_hashed_while_downloading(server, tmp_path, progress):
    zips = {f: f"fake protoc 31.1 zip for {f}".encode() * 1000 for f in ("linux-x86_64", "linux-aarch_64")}
    for f, body in zips.items():
        server.routes[f"/protoc/v31.1/protoc-31.1-{f}.zip"] = body
    uses = [use("1.24.2", platforms=("linux/amd64", "linux/arm64"), protoc="31.1", protoc_url=server.url("/protoc/")),
            use("1.24.2", platforms=("linux/amd64",), protoc="30.2", protoc_url=server.url("/protoc"))]
    result = run(server, tmp_path / "bakegen-lock.json", uses, progress)
    assert result.protoc == {"30.2": {"linux-x86_64": SHIPPED_PROTOC["30.2"]["linux-x86_64"]},
                             "31.1": {f: hashlib.sha256(b).hexdigest() for f, b in zips.items()}}
    assert sorted(server.requests[1:]) == ["/protoc/v31.1/protoc-31.1-linux-aarch_64.zip",
                                           "/protoc/v31.1/protoc-31.1-linux-x86_64.zip"]
    assert any("downloading" in line and "protoc-31.1-linux-x86_64.zip" in line for line in progress)
    server.requests.clear()
    run(server, tmp_path / "bakegen-lock.json", uses, progress)  # now in the lock file: not downloaded again
    assert server.requests == [LIST_PATH]


def test_a_protoc_zip_that_is_not_there_is_a_clear_error(server, tmp_path, progress):
    uses = [use("1.24.2", protoc="31.1", protoc_url=server.url("/protoc"))]
    with pytest.raises(BakegenError, match=r"cannot download .*protoc-31\.1-linux-x86_64\.zip: HTTP 404"):
        run(server, tmp_path / "bakegen-lock.json", uses, progress)
    assert not (tmp_path / "bakegen-lock.json").exists()


def test_protoc_on_a_platform_protoc_does_not_build_for_is_refused(server, tmp_path, progress):
    with pytest.raises(BakegenError, match="protoc publishes no release for platform linux/arm/v7"):
        run(server, tmp_path / "bakegen-lock.json", [use("1.24.2", platforms=("linux/arm/v7",), protoc="30.2")],
            progress)


def test_progress_lines_go_to_stderr(server, tmp_path, capsys):
    server.routes["/protoc/v31.1/protoc-31.1-linux-x86_64.zip"] = b"zip"
    uses = [use("1.24.2", protoc="31.1", protoc_url=server.url("/protoc"))]
    lk.lock(tmp_path / "bakegen-lock.json", uses, go_url=server.url(LIST_PATH), timeout=5)
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert lines[0] == f"bakegen lock: reading Go's release list from {server.url(LIST_PATH)}"
    assert f"bakegen lock: downloading {server.url('/protoc/v31.1/protoc-31.1-linux-x86_64.zip')}" in lines
    assert f"bakegen lock:   3 bytes, sha256 {hashlib.sha256(b'zip').hexdigest()}" in lines


# ---------------------------------------------------------------- versions: partial and upgrades
def test_a_partial_version_is_the_newest_stable_patch_of_its_line(server, tmp_path, progress):
    result = run(server, tmp_path / "bakegen-lock.json", [use("1.24", "1.27")], progress)
    assert sorted(result.go) == ["1.24.13", "1.27.0"]  # 1.27rc3 is no stable release


def test_upgrade_moves_each_version_to_the_newest_patch_of_its_line(server, tmp_path, progress):
    releases = lk.fetch_go_releases(server.url(LIST_PATH), progress=progress.append)
    written = ["1.24.2", "go1.25.14", "1.26", "v1.24.2", "1.27rc3", "1.24.2"]
    assert lk.upgrades(written, releases.go) == [("1.24.2", "1.24.13"), ("v1.24.2", "v1.24.13"),
                                                 ("1.27rc3", "1.27.0")]
    new = dict(lk.upgrades(written, releases.go))
    result = run(server, tmp_path / "bakegen-lock.json", [use(*(new.get(v, v) for v in written))], progress,
                 releases=releases)
    assert sorted(result.go) == ["1.24.13", "1.25.14", "1.26.7", "1.27.0"]
    assert server.requests == [LIST_PATH]  # the list read once, for both


def test_upgrade_of_a_prerelease_waits_for_its_line_or_a_newer_prerelease():
    available = ["1.26.7", "1.27rc3", "1.27rc2", "1.27beta1"]
    assert lk.upgrades(["1.27rc2", "1.27beta1", "1.27rc3", "1.26.7"], available) == [
        ("1.27rc2", "1.27rc3"), ("1.27beta1", "1.27rc3")]
    assert lk.upgrades(["1.24.99"], ["1.24.13"]) == []  # never backwards


# ---------------------------------------------------------------- version keys, offline tables
def test_checksum_keys_in_every_spelling_are_go_spelling():
    sha = {"linux-amd64": "A" * 64}
    table = ck.go_checksum_table({"1.20.0": sha, "v1.24.99": sha, "go1.24.99": {"src": "b" * 64},
                                  "1.25.0-rc.1": sha, "go1.19": sha})
    assert table == {"1.20": {"linux-amd64": "a" * 64}, "1.24.99": {"linux-amd64": "a" * 64, "src": "b" * 64},
                     "1.25rc1": {"linux-amd64": "a" * 64}, "1.19": {"linux-amd64": "a" * 64}}
    assert ck.go_checksum_table((("1.20.0", (("src", "c" * 64),)),)) == {"1.20": {"src": "c" * 64}}
    assert ck.protoc_checksum_table({"v30.2": sha}) == {"30.2": {"linux-amd64": "a" * 64}}


@pytest.mark.parametrize("entries, message", [
    ({"1.24.x": {"linux-amd64": "a" * 64}}, 'go_checksums: key "1.24.x": invalid Go version "1.24.x"'),
    ({"1.24": {"linux-amd64": "a" * 64}}, 'go_checksums: key "1.24": "1.24" names the Go 1.24 line, not one release'),
    ({"1.24.2": {"linux-amd64": "abc"}}, 'go_checksums: "1.24.2" "linux-amd64" = \'abc\' is not a sha256'),
    ({"1.24.2": {"go1.24.2.linux-amd64.tar.gz": "a" * 64}}, 'file "go1.24.2.linux-amd64.tar.gz" is not a release'),
    ({"v1.24.99": {"src": "a" * 64}, "go1.24.99": {"src": "b" * 64}}, '"go1.24.99" "src" has two values'),
    ({"1.24.2": "a" * 64}, '"1.24.2" must map files to sha256 values'),
])
def test_a_checksum_key_or_value_bakegen_cannot_use_is_an_error_naming_it(entries, message):
    with pytest.raises(BakegenError) as e:
        ck.go_checksum_table(entries, "bake/golang-tools/image.hcl:40")
    assert e.value.where == "bake/golang-tools/image.hcl:40"
    assert message in e.value.message


def test_offline_tables_merge_shipped_lock_and_definitions(tmp_path):
    sha = {k: hashlib.sha256(k.encode()).hexdigest() for k in ("linux-amd64", "linux-arm64")}
    (tmp_path / "bakegen-lock.json").write_text(ck.render_lock({"1.24.14": sha}, {}))
    mine = ck.definition_checksums("golang-tools", {"v1.24.99": sha}, "image.hcl:40", {"v31.1": sha}, "image.hcl:41")
    go, protoc = loader.offline_tables(tmp_path, mine, "bake")
    assert go["1.24.14"] == go["1.24.99"] == sha and go["1.24.2"] == SHIPPED_GO["1.24.2"]
    assert protoc["31.1"] == sha and protoc["30.2"] == SHIPPED_PROTOC["30.2"]
    assert GoVersion.parse("1.24").resolve(known_versions(go)).go == "1.24.99"


def test_offline_tables_refuse_a_lock_file_that_contradicts_the_shipped_data(tmp_path):
    (tmp_path / "bakegen-lock.json").write_text(ck.render_lock({"1.24.2": {"linux-amd64": FAKE_SHA}}, {}))
    with pytest.raises(BakegenError) as e:
        loader.offline_tables(tmp_path, (), "bake")
    assert e.value.where == "bake/bakegen-lock.json"
    assert "go1.24.2.linux-amd64.tar.gz" in e.value.message and FAKE_SHA in e.value.message


@pytest.mark.parametrize("text", ["{", "[]", '{"format": 2, "go": {}}', '{"format": 1, "go": [], "protoc": {}}',
                                  '{"format": 1, "go": {"1.24": {}}}'])
def test_a_broken_lock_file_is_an_error_naming_it(tmp_path, text):
    (tmp_path / "bakegen-lock.json").write_text(text)
    with pytest.raises(BakegenError) as e:
        loader.offline_tables(tmp_path, (), "bake")
    assert e.value.where == "bake/bakegen-lock.json"


def test_checksums_from_two_places_name_both():
    a = Checksums("first", go={"1.24.2": {"src": "a" * 64}})
    b = Checksums("second", go={"1.24.2": {"src": "b" * 64}}, where="x:1")
    with pytest.raises(BakegenError) as e:
        ck.merge([a, b])
    assert e.value.where == "x:1"
    assert e.value.message.startswith(f"go1.24.2.src.tar.gz (src of 1.24.2): second gives sha256 {'b' * 64}, "
                                      f"but first has {'a' * 64}")
