"""Issue 24: a registry never breaks a build. `bakegen bake --push`, in real repositories, against
a registry that misbehaves in each way a company network has (an HTTP error, a login page
instead of a token, a manifest that is not JSON, a redirect loop, an answer cut short, silence,
nobody listening, a name that does not resolve): every time it builds (exit 0), one plan line per
target says why, and all the registry questions together stay within --registry-timeout.

The registries are small servers in this test (real HTTP on 127.0.0.1); bake's own part is
`--print` (real buildx), so nothing is pushed. Two repositories: this repository's definitions
(bases and the sample app in one place: every target's key tag is asked) and a service on
published bases (examples/repos/ci-demo-go: its bases' digests are asked first)."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import BUILDX, ROOT, Repo

if not BUILDX:
    pytest.skip("docker buildx is not installed (bake --print is the build here)", allow_module_level=True)

Behaviour = Callable[[http.server.BaseHTTPRequestHandler], None]


def reply(status: int, body: bytes = b"", ctype: str = "application/json",
          headers: dict[str, str] | None = None) -> Behaviour:
    def answer(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)
    return answer


def login_page(h: http.server.BaseHTTPRequestHandler) -> None:
    """A registry behind a single-sign-on proxy: a Bearer challenge, and a token service that
    answers its login page."""
    if h.path.startswith("/token"):
        return reply(200, b"<html><body>Sign in with your company account</body></html>", "text/html")(h)
    realm = f"http://{h.server.server_address[0]}:{h.server.server_address[1]}/token"
    return reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}',
                 headers={"WWW-Authenticate": f'Bearer realm="{realm}",service="r",scope="x"'})(h)


def cut_short(h: http.server.BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "application/vnd.oci.image.index.v1+json")
    h.send_header("Content-Length", "5000")
    h.end_headers()
    h.wfile.write(b'{"manifests": [')


def silent(h: http.server.BaseHTTPRequestHandler) -> None:
    h.server.stop.wait()  # type: ignore[attr-defined]


CASES: dict[str, tuple[Behaviour, str]] = {
    "http-500": (reply(500, b"oops", "text/plain"), "HTTP 500"),
    "http-403": (reply(403, b'{"errors":[{"code":"DENIED"}]}'), "HTTP 403"),
    "token-login-page": (login_page, "the token service answered an HTML page, not JSON"),
    "manifest-html": (reply(200, b"<html>proxy error</html>", "text/html"), "answered text/html"),
    "manifest-not-json": (reply(200, b"\x00 not json", "application/vnd.oci.image.index.v1+json"), "not JSON"),
    "redirect-loop": (lambda h: reply(302, headers={"Location": h.path})(h), "more than 3 redirects"),
    "cut-short": (cut_short, "closed the connection before the end of its answer"),
    "silent": (silent, "timed out (all registry questions together may take 2 s"),
}


class Server:
    def __init__(self, behaviour: Behaviour) -> None:
        handler = type("H", (http.server.BaseHTTPRequestHandler,), {
            "do_GET": behaviour, "do_HEAD": behaviour,
            "log_message": lambda self, *a: None})
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.stop = threading.Event()  # type: ignore[attr-defined]
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        self.host = f"127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.stop.set()  # type: ignore[attr-defined]
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def repos(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("registry-flow")
    mono = root / "images"
    for name in ("bake", "examples"):
        shutil.copytree(ROOT / name, mono / name)
    shutil.copy(ROOT / "docker-bake.hcl", mono / "docker-bake.hcl")
    Repo(mono).commit()
    service = root / "service"
    shutil.copytree(ROOT / "examples/repos/ci-demo-go", service)
    Repo(service).commit()
    return {"mono": mono, "service": service}


def run(repo: Path, registry: str, *args: str) -> tuple[subprocess.CompletedProcess, float]:
    env = {**os.environ, "REGISTRY": registry, "BAKEGEN_REGISTRY_TIMEOUT": "2"}
    start = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "bakegen", "bake", "--push", "--print", *args], cwd=repo, env=env,
                       capture_output=True, text=True, timeout=300)
    return r, time.monotonic() - start


def planned(stderr: str) -> dict[str, str]:
    """Target -> its plan line."""
    return {line.split()[2]: line for line in stderr.splitlines() if line.startswith("bakegen:   ")}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("kind", ["mono", "service"])
def test_a_misbehaving_registry_builds_and_says_why(repos, case, kind):
    behaviour, why = CASES[case]
    server = Server(behaviour)
    try:
        r, seconds = run(repos[kind], f"{server.host}/team")
    finally:
        server.close()
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr
    printed = json.loads(r.stdout)["target"]
    lines = planned(r.stderr)
    assert set(lines) == set(printed), (lines, printed.keys())  # every target built, each with its line
    for line in lines.values():
        assert line.split()[1] == "build" and why in line, line
    assert seconds < 2 + 8, seconds  # the questions' 2 s, and the rest of a --print run


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(("registry", "why"), [
    (f"127.0.0.1:{closed_port()}/team", "connection refused"),
    ("registry.invalid/team", "registry.invalid: the name does not resolve"),
])
def test_nobody_answering_builds_and_says_why(repos, registry, why):
    r, _ = run(repos["mono"], registry)
    assert r.returncode == 0, r.stderr[-3000:]
    assert all(why in line for line in planned(r.stderr).values()), r.stderr
