"""The registry client (``bakegen.registry`` and ``buildx.Registry``) against real HTTP servers on
127.0.0.1 (real sockets, threads): a fake registry that behaves as the distribution spec has it
(Docker-Content-Digest, Accept negotiation, Bearer challenges and a token service, error bodies),
switched into each way a registry misbehaves. Every unclear answer must be ``unsure`` (never an
exception, never longer than the budget and a little), a clear 404 ``missing``, and an image that
is there ``found`` with the config of each platform asked for. The last test asks the harness's
real registry (slow)."""

from __future__ import annotations

import hashlib
import http.server
import json
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import harness
import pytest
from conftest import BUILDX

from bakegen import buildx, registry
from bakegen.errors import BakegenError

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
SLACK = 0.6  # seconds an answer may take beyond its budget
REPO = "team/svc"
TAG = "bakegen-0123456789abcdef0123456789abcdef01234567"


def sha(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def dumps(doc: Any) -> bytes:
    return json.dumps(doc, sort_keys=True).encode()


def errors(code: str, message: str) -> bytes:
    return dumps({"errors": [{"code": code, "message": message, "detail": {}}]})


def closed_port() -> int:
    """A port nothing listens on (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Handler(http.server.BaseHTTPRequestHandler):
    fake: Fake

    def log_message(self, *args: Any) -> None:
        pass

    def reply(self, status: int, body: bytes = b"", ctype: str = "application/json",
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Docker-Distribution-Api-Version", "registry/2.0")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        self.reply(status, errors(code, message), headers=headers)

    def do_GET(self) -> None:
        self.route()

    do_HEAD = do_PUT = do_GET

    def route(self) -> None:
        fake, url = self.fake, urllib.parse.urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fake.requests.append((self.command, url.path, dict(self.headers)))
        special = fake.routes.get((self.command, url.path)) or fake.routes.get(("*", url.path))
        if special:
            return special(self)
        if url.path in ("/token", "/v2/"):
            return self.token(urllib.parse.parse_qs(url.query)) if url.path == "/token" else self.reply(200, b"{}")
        m = re.fullmatch(r"/v2/(.+)/(manifests|blobs)/([^/]+)", url.path)
        if not m:
            return self.error(404, "NAME_UNKNOWN", "repository name not known to registry")
        repo, kind, ref = m.groups()
        if not self.authorized(repo):
            return None
        if kind == "blobs":
            blob = fake.blobs.get(ref)
            return self.reply(200, blob, "application/octet-stream", {"Docker-Content-Digest": ref}) if blob \
                else self.error(404, "BLOB_UNKNOWN", "blob unknown to registry")
        return self.manifest(repo, ref, body)

    def manifest(self, repo: str, ref: str, body: bytes) -> None:
        fake = self.fake
        if self.command == "PUT":
            media = self.headers["Content-Type"]
            fake.manifests[(repo, ref)] = fake.manifests[(repo, sha(body))] = (media, body)
            return self.reply(201, b"", headers={"Docker-Content-Digest": sha(body),
                                                 "Location": f"/v2/{repo}/manifests/{sha(body)}"})
        found = fake.manifests.get((repo, ref))
        accept = [a.split(";")[0].strip() for a in self.headers.get("Accept", "").split(",")]
        if found is None or not {found[0], "*/*"} & set(accept):  # as distribution: a type not accepted is not there
            known = any(r == repo for r, _ in fake.manifests)
            return self.error(404, "MANIFEST_UNKNOWN" if known else "NAME_UNKNOWN", "manifest unknown")
        media, body = found
        return self.reply(200, body, media, {"Docker-Content-Digest": sha(body)})

    def authorized(self, repo: str) -> bool:
        """As a registry with a token service: a Bearer token for the scope, or a 401 naming it."""
        fake = self.fake
        scope = f"repository:{repo}:pull" + (",push" if self.command == "PUT" else "")
        given = self.headers.get("Authorization", "")
        if fake.basic:
            if given == f"Basic {fake.basic}":
                return True
            self.error(401, "UNAUTHORIZED", "authentication required", {"WWW-Authenticate": 'Basic realm="fake"'})
            return False
        if not fake.bearer or (not fake.refuse_tokens and given in {f"Bearer token-for-{scope}",
                                                                   f"Bearer token-for-repository:{repo}:pull,push"}):
            return True
        realm = fake.realm or f"http://{fake.host}/token"
        self.error(401, "UNAUTHORIZED", "authentication required",
                   {"WWW-Authenticate": f'Bearer realm="{realm}",service="fake-registry",scope="{scope}"'})
        return False

    def token(self, query: dict[str, list[str]]) -> None:
        if self.fake.token_reply:
            return self.reply(*self.fake.token_reply)
        return self.reply(200, dumps({"token": f"token-for-{query['scope'][0]}", "expires_in": 300}))


class Fake:
    """A registry in memory on 127.0.0.1: ``manifests`` (repository, tag or digest) -> (media type,
    bytes); ``blobs`` digest -> bytes; ``routes`` (method or "*", path) -> what answers instead."""

    def __init__(self, *, tls: ssl.SSLContext | None = None) -> None:
        self.manifests: dict[tuple[str, str], tuple[str, bytes]] = {}
        self.blobs: dict[str, bytes] = {}
        self.routes: dict[tuple[str, str], Callable[[Handler], None]] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.bearer = False  # ask for a token from the token service at /token (or ``realm``)
        self.basic = ""  # ask for this user:password (base64) instead
        self.realm = ""
        self.refuse_tokens = False
        self.token_reply: tuple[int, bytes, str] | None = None
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), type("H", (Handler,), {"fake": self}))
        self.server.handle_error = lambda *args: None  # type: ignore[method-assign]
        if tls:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True, do_handshake_on_connect=False)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        self.host = f"127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def ref(self, tag: str = TAG, repo: str = REPO) -> str:
        return f"{self.host}/{repo}{'@' if tag.startswith('sha256:') else ':'}{tag}"

    def path(self, kind: str, ref: str = TAG, repo: str = REPO) -> str:
        return f"/v2/{repo}/{kind}/{ref}"

    def answer(self, status: int, body: bytes = b"", ctype: str = "application/json",
               headers: dict[str, str] | None = None, *, path: str = "", method: str = "*") -> None:
        """Make ``path`` (the manifest of TAG by default) answer this, whatever is asked."""
        self.routes[(method, path or self.path("manifests"))] = lambda h: h.reply(status, body, ctype, headers)

    def config(self, platform: str, labels: dict[str, str] | None = None) -> str:
        os_, arch, *variant = platform.split("/")
        body = dumps({"architecture": arch, "os": os_, **({"variant": variant[0]} if variant else {}),
                      "config": {"Labels": {"platform": platform, **(labels or {})}},
                      "rootfs": {"type": "layers", "diff_ids": []}})
        self.blobs[sha(body)] = body
        return sha(body)

    def manifest(self, config: str, repo: str = REPO, tag: str | None = None,
                 annotations: dict[str, str] | None = None) -> tuple[str, bytes]:
        body = dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": [],
                      "config": {"mediaType": OCI_CONFIG, "digest": config, "size": len(self.blobs.get(config, b""))},
                      **({"annotations": annotations} if annotations else {})})
        self.manifests[(repo, sha(body))] = (OCI_MANIFEST, body)
        if tag:
            self.manifests[(repo, tag)] = (OCI_MANIFEST, body)
        return sha(body), body

    def image(self, platforms: list[str], tag: str = TAG, repo: str = REPO, labels: dict[str, str] | None = None,
              annotations: dict[str, str] | None = None) -> str:
        """An image as buildx pushes it: an index of one manifest per platform (and an attestation
        entry), or a single manifest for one platform (``annotations`` on the index, or on that
        manifest); its digest."""
        if len(platforms) == 1:
            return self.manifest(self.config(platforms[0], labels), repo, tag, annotations)[0]
        entries = []
        for p in platforms:
            digest, body = self.manifest(self.config(p, labels), repo)
            os_, arch, *variant = p.split("/")
            entries.append({"mediaType": OCI_MANIFEST, "digest": digest, "size": len(body),
                            "platform": {"os": os_, "architecture": arch, **({"variant": variant[0]} if variant else {})}})
        config = dumps({"architecture": "unknown", "os": "unknown", "rootfs": {"type": "layers", "diff_ids": []}})
        self.blobs[sha(config)] = config
        digest, body = self.manifest(sha(config), repo)
        entries.append({"mediaType": OCI_MANIFEST, "digest": digest, "size": len(body),
                        "platform": {"os": "unknown", "architecture": "unknown"},
                        "annotations": {"vnd.docker.reference.type": "attestation-manifest"}})
        index = dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries,
                       **({"annotations": annotations} if annotations else {})})
        self.manifests[(repo, tag)] = self.manifests[(repo, sha(index))] = (OCI_INDEX, index)
        return sha(index)


@pytest.fixture
def fake():
    f = Fake()
    yield f
    f.close()


def ask(ref: str, platforms: tuple[str, ...] | list[str] = (), *, budget: float = 3.0,
        config: dict[str, Any] | None = None, plain_http: Callable[[str], bool] = registry.is_local) -> Any:
    """One question, as ``bakegen bake`` asks it; it must end within its budget and a little."""
    start = time.monotonic()
    answer = buildx.Registry(config or {}, budget=budget, plain_http=plain_http).inspect({ref: platforms})[ref]
    assert time.monotonic() - start < budget + SLACK, answer
    assert "\n" not in answer.why and "Traceback" not in answer.why
    return answer


# ------------------------------------------------------------------------------ clear answers
def test_an_index_is_found_with_the_config_of_each_platform_asked(fake):
    digest = fake.image(["linux/amd64", "linux/arm64", "linux/arm/v7"], labels={"dev.bakegen.key": "k"})
    answer = ask(fake.ref(), ["linux/amd64", "linux/arm64", "linux/arm/v7"])
    assert answer.state == "found" and answer.digest == digest
    assert {p: c["config"]["Labels"] for p, c in answer.configs.items()} == {
        p: {"platform": p, "dev.bakegen.key": "k"} for p in ("linux/amd64", "linux/arm64", "linux/arm/v7")}
    asked = {h.get("Accept", "") for m, path, h in fake.requests if "/manifests/" in path}
    assert all(OCI_INDEX in a and OCI_MANIFEST in a for a in asked)


def test_a_single_manifest_is_found_with_its_config(fake):
    digest = fake.image(["linux/amd64"])
    answer = ask(fake.ref(), ["linux/amd64"])
    assert (answer.state, answer.digest, list(answer.configs)) == ("found", digest, ["linux/amd64"])
    assert answer.configs["linux/amd64"]["architecture"] == "amd64"


def test_without_platforms_only_the_digest_is_asked(fake):
    digest = fake.image(["linux/amd64", "linux/arm64"])
    answer = ask(fake.ref(digest), ())
    assert (answer.state, answer.digest, dict(answer.configs)) == ("found", digest, {})
    assert [path for _, path, _ in fake.requests] == [fake.path("manifests", digest)]


def test_found_without_a_platform_asked_leaves_it_out(fake):
    fake.image(["linux/amd64", "linux/arm64"])
    answer = ask(fake.ref(), ["linux/amd64", "linux/s390x"])
    assert answer.state == "found" and list(answer.configs) == ["linux/amd64"]
    single = fake.image(["linux/arm64"], tag="single")
    answer = ask(fake.ref("single"), ["linux/amd64"])
    assert (answer.state, answer.digest, dict(answer.configs)) == ("found", single, {})


def test_arm64_with_its_default_variant_is_arm64(fake):
    fake.image(["linux/amd64", "linux/arm64/v8"])
    assert list(ask(fake.ref(), ["linux/arm64"]).configs) == ["linux/arm64"]


@pytest.mark.parametrize("setup, why", [
    (lambda f: f.image(["linux/amd64"], tag="other"), "no manifest {TAG} in team/svc (MANIFEST_UNKNOWN)"),
    (lambda f: None, "no manifest {TAG} in team/svc (NAME_UNKNOWN)"),
    (lambda f: f.answer(404), "no manifest {TAG} in team/svc (HTTP 404)"),
], ids=["manifest-unknown", "name-unknown", "bare-404"])
def test_a_404_for_the_manifest_is_missing(fake, setup, why):
    setup(fake)
    answer = ask(fake.ref(), ["linux/amd64"])
    assert (answer.state, answer.why) == ("missing", f"{fake.host}: " + why.format(TAG=TAG))


def test_a_bearer_token_is_asked_once_per_repository(fake):
    fake.bearer = True
    fake.image(["linux/amd64", "linux/arm64"])
    fake.image(["linux/amd64"], tag="two")
    reg = buildx.Registry({})
    answers = reg.inspect({fake.ref(): ["linux/arm64"]})
    answers |= reg.inspect({fake.ref("two"): ["linux/amd64"]})
    assert [a.state for a in answers.values()] == ["found", "found"]
    tokens = [h for _, path, h in fake.requests if path == "/token"]
    assert len(tokens) == 1 and "Authorization" not in tokens[0]


def test_docker_login_credentials_go_to_the_token_service_and_to_basic(fake):
    auth = registry.auth_header("user", "secret")
    config = {"auths": {fake.host: {"auth": auth}}}
    fake.bearer = True
    fake.image(["linux/amd64"])
    assert ask(fake.ref(), ["linux/amd64"], config=config).state == "found"
    assert [h.get("Authorization") for _, path, h in fake.requests if path == "/token"] == [f"Basic {auth}"]
    fake.bearer, fake.basic = False, auth
    assert ask(fake.ref(), ["linux/amd64"], config=config).state == "found"
    answer = ask(fake.ref(), ["linux/amd64"])
    assert (answer.state, answer.why) == ("unsure", f"{fake.host}: asks for a password, and docker login has none for it")


def test_a_config_kept_in_other_storage_is_followed_without_credentials(fake):
    storage = Fake()
    try:
        fake.bearer = True
        fake.image(["linux/amd64"])
        (config,) = list(fake.blobs)
        storage.answer(200, fake.blobs[config], "application/octet-stream", path=f"/bucket/{config}")
        fake.answer(307, headers={"Location": f"http://{storage.host}/bucket/{config}"}, path=fake.path("blobs", config))
        answer = ask(fake.ref(), ["linux/amd64"])
        assert answer.state == "found" and answer.configs["linux/amd64"]["os"] == "linux"
        assert [h.get("Authorization") for _, _, h in storage.requests] == [None]
    finally:
        storage.close()


# ------------------------------------------------------------------------------ unsure: what the registry answers
def html(f: Fake, path: str = "") -> None:
    f.answer(200, b"<!DOCTYPE html><html><body>Sign in</body></html>", "text/html", path=path)


def put_manifest(f: Fake, doc: dict[str, Any], media: str = OCI_MANIFEST, ctype: str | None = None) -> None:
    body = dumps(doc)
    f.answer(200, body, ctype or media, {"Docker-Content-Digest": sha(body)})


def config_blob(f: Fake, body: bytes) -> None:
    f.blobs[sha(body)] = body
    f.manifest(sha(body), tag=TAG)


def refused(f: Fake) -> None:
    f.bearer = f.refuse_tokens = True
    f.image(["linux/amd64"])


def token(reply: tuple[int, bytes, str]) -> Callable[[Fake], None]:
    def setup(f: Fake) -> None:
        f.bearer, f.token_reply = True, reply
        f.image(["linux/amd64"])
    return setup


def realm(url: Callable[[Fake], str]) -> Callable[[Fake], None]:
    def setup(f: Fake) -> None:
        f.bearer, f.realm = True, url(f)
        f.image(["linux/amd64"])
    return setup


def other_manifest(f: Fake) -> None:
    """The index names its linux/amd64 manifest by digest; the registry answers the arm64 one."""
    f.image(["linux/amd64", "linux/arm64"])
    amd64, arm64 = [m["digest"] for m in json.loads(f.manifests[(REPO, TAG)][1])["manifests"][:2]]
    f.manifests[(REPO, amd64)] = f.manifests[(REPO, arm64)]


def truncated(f: Fake) -> None:
    def answer(h: Handler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", OCI_MANIFEST)
        h.send_header("Content-Length", "1000")
        h.end_headers()
        h.wfile.write(b'{"schemaVersion": 2, "mediaType": "')  # and the connection closes
    f.routes[("*", f.path("manifests"))] = answer


def redirect(location: Callable[[Fake], str]) -> Callable[[Fake], None]:
    return lambda f: f.answer(302, headers={"Location": location(f)})


def without_platforms(f: Fake) -> None:
    digest, body = f.manifest(f.config("linux/amd64"))
    put_manifest(f, {"schemaVersion": 2, "mediaType": OCI_INDEX,
                     "manifests": [{"mediaType": OCI_MANIFEST, "digest": digest, "size": len(body)}]}, OCI_INDEX)


def missing_child(f: Fake) -> None:
    f.image(["linux/amd64", "linux/arm64"])
    index = json.loads(f.manifests[(REPO, TAG)][1])
    del f.manifests[(REPO, index["manifests"][0]["digest"])]


CASES: dict[str, tuple[Callable[[Fake], None], str]] = {
    # HTTP errors
    "500": (lambda f: f.answer(500, b"oops", "text/plain"), "{host}: HTTP 500 for manifests/{TAG}"),
    "502": (lambda f: f.answer(502, b"<html>Bad Gateway</html>", "text/html"), "{host}: HTTP 502 for manifests/{TAG}"),
    "403": (lambda f: f.answer(403, errors("DENIED", "requested access to the resource is denied")),
            "{host}: HTTP 403 for manifests/{TAG} (DENIED)"),
    "429": (lambda f: f.answer(429, errors("TOOMANYREQUESTS", "slow down"), headers={"Retry-After": "60"}),
            "{host}: HTTP 429 for manifests/{TAG} (TOOMANYREQUESTS)"),
    "404-other-code": (lambda f: f.answer(404, errors("UNSUPPORTED", "the operation is unsupported")),
                       "{host}: HTTP 404 for manifests/{TAG} (UNSUPPORTED)"),
    "token-refused-again": (refused, "{host}: refused the credentials it asked for (HTTP 401 for manifests/{TAG})"),
    # the token service
    "token-html": (token((200, b"<html><body>Single sign-on</body></html>", "text/html")),
                   "{host}: the token service answered an HTML page, not JSON"),
    "token-bad-json": (token((200, b'{"token": ', "application/json")),
                       "{host}: the token service answered something that is not JSON"),
    "token-without-token": (token((200, b'{"details": "no token today"}', "application/json")),
                            "{host}: the token service answered JSON without a token"),
    "token-500": (token((500, b"", "text/plain")), "{host}: the token service answered HTTP 500"),
    "realm-not-a-url": (realm(lambda f: "file:///etc/passwd"), "{host}: its token service is not a URL (file:///etc/passwd)"),
    # manifests
    "manifest-html": (html, "{host}: answered text/html for manifests/{TAG}, not a manifest"),
    "manifest-html-as-manifest": (lambda f: f.answer(200, b"<html>login</html>", OCI_MANIFEST),
                                  "{host}: manifests/{TAG} answered an HTML page, not JSON"),
    "manifest-not-json": (lambda f: f.answer(200, b"\x00\x01 not json", OCI_MANIFEST),
                          "{host}: manifests/{TAG} answered something that is not JSON"),
    "manifest-json-list": (lambda f: f.answer(200, b"[1, 2]", OCI_MANIFEST),
                           "{host}: manifests/{TAG} answered JSON that is not an object"),
    "manifest-without-config": (lambda f: put_manifest(f, {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": []}),
                                "{host}: manifests/{TAG} is an image manifest without a config digest"),
    "index-without-manifests": (lambda f: put_manifest(f, {"schemaVersion": 2, "mediaType": OCI_INDEX}, OCI_INDEX),
                                "{host}: manifests/{TAG} is an index without a list of manifests and their digests"),
    "index-entries-without-platform": (without_platforms, "{host}: the index {TAG} has an entry without a platform"),
    "index-entry-missing": (missing_child, "{host}: the linux/amd64 manifest of {TAG} is missing (HTTP 404)"),
    "config-blob-404": (lambda f: f.manifest(sha(b"gone"), tag=TAG),
                        "{host}: the config blobs/" + sha(b"gone")[:19] + "... is missing (HTTP 404)"),
    "config-blob-not-json": (lambda f: config_blob(f, b"\x1f\x8b gzip, not json"),
                             "{host}: the config blobs/" + sha(b"\x1f\x8b gzip, not json")[:19] + "... answered something that is not JSON"),
    "config-blob-other-bytes": (lambda f: (f.image(["linux/amd64"]), f.blobs.update(dict.fromkeys(f.blobs, b"{}"))),
                                "answered other bytes than the config it names"),
    "config-without-platform": (lambda f: config_blob(f, b'{"config": {}}'),
                                "{host}: the config of {TAG} names no os and architecture"),
    "digest-mismatch": (other_manifest, "{host}: asked for manifest sha256:"),
    "content-digest-header-wrong": (lambda f: f.answer(200, dumps({"mediaType": OCI_INDEX, "manifests": []}), OCI_INDEX,
                                                       {"Docker-Content-Digest": sha(b"another")}),
                                    "{host}: the Docker-Content-Digest of manifests/{TAG} is not the digest of the manifest it sent"),
    # media types
    "unknown-media-type": (lambda f: put_manifest(f, {"schemaVersion": 1, "mediaType": "application/vnd.docker.distribution.manifest.v1+prettyjws"},
                                                  "application/vnd.docker.distribution.manifest.v1+prettyjws"),
                           "{host}: answered application/vnd.docker.distribution.manifest.v1+prettyjws for manifests/{TAG}, not a manifest"),
    "media-type-disagrees": (lambda f: put_manifest(f, {"mediaType": "application/vnd.example+json", "config": {}}, OCI_MANIFEST),
                             "{host}: manifests/{TAG} is of type application/vnd.example+json, which bakegen does not read"),
    # redirects
    "redirect-loop": (redirect(lambda f: f.path("manifests")), "{host}: more than 3 redirects"),
    "redirect-without-location": (lambda f: f.answer(302), "{host}: HTTP 302 without a Location"),
    "redirect-to-file": (redirect(lambda f: "file:///etc/passwd"), "{host}: redirected to file:///etc/passwd"),
    # too much, too little
    "manifest-cut-short": (truncated, "{host}: closed the connection before the end of its answer"),
    "manifest-too-large": (lambda f: f.answer(200, b" " * (registry.MAX_BODY + 10), OCI_MANIFEST),
                           "{host}: answered more than 4 MiB"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_unclear_answer_is_unsure(fake, case):
    setup, why = CASES[case]
    setup(fake)
    answer = ask(fake.ref(), ["linux/amd64"])
    assert answer.state == "unsure", answer
    assert why.format(host=fake.host, TAG=TAG) in answer.why
    assert answer.why.startswith(f"{fake.host}: ")


def test_asked_by_digest_another_manifest_is_unsure(fake):
    digest = fake.image(["linux/amd64"])
    fake.manifests[(REPO, digest)] = fake.manifests[(REPO, fake.image(["linux/arm64"], tag="other"))]
    answer = ask(fake.ref(digest))
    assert answer.why.startswith(f"{fake.host}: asked for manifest {digest[:19]}..., answered another (sha256:")


def test_an_unreachable_token_service_is_named(fake):
    port = closed_port()
    realm(lambda f: f"http://127.0.0.1:{port}/token")(fake)
    answer = ask(fake.ref(), ["linux/amd64"])
    assert (answer.state, answer.why) == ("unsure", f"{fake.host}: the token service at 127.0.0.1:{port}: connection refused")


def test_a_redirect_to_a_closed_port_names_where_it_went(fake):
    port = closed_port()
    redirect(lambda f: f"http://127.0.0.1:{port}/v2/x")(fake)
    answer = ask(fake.ref(), ["linux/amd64"])
    assert answer.why == f"{fake.host} (redirected to 127.0.0.1:{port}): connection refused"


# ------------------------------------------------------------------------------ unsure: no answer
def test_connection_refused_and_a_name_that_does_not_resolve():
    port = closed_port()
    assert ask(f"127.0.0.1:{port}/{REPO}:{TAG}").why == f"127.0.0.1:{port}: connection refused"
    assert ask(f"registry.invalid/{REPO}:{TAG}").why == "registry.invalid: the name does not resolve"


class Silent:
    """A server that accepts and then never answers (``dribble``: answers one byte at a time,
    ``headers`` first or a body that never ends)."""

    def __init__(self, dribble: str = "") -> None:
        self.stop = threading.Event()
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def handle(self) -> None:
                if dribble == "headers":
                    data = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Pad: " + b"a" * 10_000
                elif dribble == "body":
                    data = f"HTTP/1.1 200 OK\r\nContent-Type: {OCI_MANIFEST}\r\nContent-Length: 100000\r\n\r\n".encode()
                    self.wfile.write(data)
                    data = b" " * 100_000
                else:
                    data = b""
                for i in range(len(data)):
                    if outer.stop.wait(0.05):
                        return
                    try:
                        self.wfile.write(data[i:i + 1])
                    except OSError:
                        return
                outer.stop.wait()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        self.host = f"127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(params=["silent", "dribble-headers", "dribble-body"])
def silent(request):
    s = Silent({"silent": "", "dribble-headers": "headers", "dribble-body": "body"}[request.param])
    yield s
    s.close()


def test_a_server_that_does_not_answer_costs_the_budget_only():
    s = Silent()
    try:
        answer = ask(f"{s.host}/{REPO}:{TAG}", ["linux/amd64"], budget=1.0)
        assert (answer.state, answer.why) == (
            "unsure", f"{s.host}: timed out (all registry questions together may take 1 s: BAKEGEN_REGISTRY_TIMEOUT)")
    finally:
        s.close()


def test_twenty_questions_to_a_silent_server_take_the_budget_together(silent):
    refs = {f"{silent.host}/{REPO}:{TAG[:-2]}{i:02d}": ["linux/amd64", "linux/arm64"] for i in range(20)}
    reg = buildx.Registry({}, budget=2.0)
    start = time.monotonic()
    answers = reg.inspect(refs)
    took = time.monotonic() - start
    assert 1.9 < took < 2.0 + SLACK, took
    assert {a.state for a in answers.values()} == {"unsure"}
    assert all("timed out" in a.why for a in answers.values())
    # the budget is the object's: once spent, every later question is unsure at once
    start = time.monotonic()
    assert reg.inspect(refs) == answers
    assert time.monotonic() - start < 0.3


def test_a_silent_token_service_costs_the_budget_only(fake):
    s = Silent()
    try:
        realm(lambda f: f"http://{s.host}/token")(fake)
        answer = ask(fake.ref(), ["linux/amd64"], budget=1.0)
        assert answer.why == (f"{fake.host}: the token service at {s.host}: timed out "
                              "(all registry questions together may take 1 s: BAKEGEN_REGISTRY_TIMEOUT)")
    finally:
        s.close()


def test_one_slow_registry_does_not_hold_the_answers_of_another(fake):
    fake.image(["linux/amd64"])
    s = Silent()
    try:
        answers = buildx.Registry({}, budget=1.0).inspect({f"{s.host}/{REPO}:{TAG}": (), fake.ref(): ["linux/amd64"]})
        assert [a.state for a in answers.values()] == ["unsure", "found"]
    finally:
        s.close()


# ------------------------------------------------------------------------------ TLS
@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (made by openssl)."""
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed: the TLS checks need a certificate")
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem"),
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return folder / "cert.pem", folder / "key.pem"


@pytest.fixture
def tls_fake(certificate):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    f = Fake(tls=context)
    f.image(["linux/amd64"])
    yield f
    f.close()


def https(host: str) -> bool:
    return False  # every host over HTTPS, this machine's too


def test_a_self_signed_certificate_is_unsure(tls_fake):
    answer = ask(tls_fake.ref(), ["linux/amd64"], plain_http=https)
    assert (answer.state, answer.why) == (
        "unsure", f"{tls_fake.host}: TLS: its certificate is not trusted (self-signed certificate)")


def test_a_trusted_certificate_is_found(tls_fake, certificate, monkeypatch):
    """The same server, its certificate trusted (as a company's CA is, through SSL_CERT_FILE)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    assert ask(tls_fake.ref(), ["linux/amd64"], plain_http=https).state == "found"


def test_https_to_a_port_that_speaks_http_is_unsure(fake):
    fake.image(["linux/amd64"])
    answer = ask(fake.ref(), ["linux/amd64"], plain_http=https)
    assert answer.state == "unsure" and answer.why.startswith(f"{fake.host}: TLS failed (")


def test_only_this_machine_is_spoken_to_over_http():
    assert [h for h in ("localhost:5000", "127.0.0.1:5000", "127.1.2.3", "[::1]:5000", "localhost")
            if registry.is_local(h)] == ["localhost:5000", "127.0.0.1:5000", "127.1.2.3", "[::1]:5000", "localhost"]
    assert not any(registry.is_local(h) for h in ("localhost.example.com", "127.example.com:5000", "registry:5000",
                                                   "10.0.0.1:5000", "[2001:db8::1]:443", "ghcr.io"))


# ------------------------------------------------------------------------------ docker buildx imagetools
def helper_config(fake: Fake) -> dict[str, Any]:
    return {"credHelpers": {fake.host: "bakegen-test-helper-that-is-not-installed"}}


def test_without_buildx_a_credential_helper_is_unsure_at_once(fake, tmp_path, monkeypatch):
    fake.bearer = True
    monkeypatch.setenv("PATH", str(tmp_path))
    answer = ask(fake.ref(), ["linux/amd64"], budget=1.0, config=helper_config(fake))
    assert (answer.state, answer.why) == ("unsure", f"{fake.host}: its credentials are in a helper; {buildx.NO_BUILDX}")
    assert "/token" not in [path for _, path, _ in fake.requests]


@pytest.mark.skipif(not BUILDX, reason="docker buildx is not installed")
def test_a_credential_helper_asks_imagetools_within_the_budget(fake):
    """The client does not run credential helpers: imagetools answers instead, and a registry
    that holds it (here a token service that never answers) costs the budget only."""
    fake.bearer = True
    digest = fake.image(["linux/amd64", "linux/arm64"], labels={"k": "v"})
    answer = ask(fake.ref(), ["linux/arm64"], budget=20.0, config=helper_config(fake))
    assert (answer.state, answer.digest, answer.configs["linux/arm64"]["config"]["Labels"]["k"]) == ("found", digest, "v")
    s = Silent()
    try:
        fake.realm = f"http://{s.host}/token"
        answer = ask(fake.ref(), ["linux/arm64"], budget=2.0, config=helper_config(fake))
        assert (answer.state, answer.why) == ("unsure", f"{fake.host}: its credentials are in a helper; docker buildx imagetools "
                                              "inspect: timed out (all registry questions together may take 2 s: BAKEGEN_REGISTRY_TIMEOUT)")
    finally:
        s.close()


# ------------------------------------------------------------------------------ retag
def test_retag_puts_the_manifest_under_each_tag(fake):
    fake.bearer = True
    digest = fake.image(["linux/amd64", "linux/arm64"])
    reg = buildx.Registry({})
    assert reg.inspect({fake.ref(): ()})[fake.ref()].state == "found"  # a pull token, kept
    reg.retag(fake.ref(digest), [fake.ref("latest"), fake.ref("main-abc")])
    assert fake.manifests[(REPO, "latest")] == fake.manifests[(REPO, "main-abc")] == fake.manifests[(REPO, digest)]
    puts = [h for m, _, h in fake.requests if m == "PUT"]  # the pull token refused, then one for pull,push
    assert [h["Content-Type"] for h in puts] == [OCI_INDEX] * 3
    assert [h["Authorization"] for h in puts] == [f"Bearer token-for-repository:{REPO}:pull"] + \
        [f"Bearer token-for-repository:{REPO}:pull,push"] * 2


def test_a_failing_put_is_one_line(fake):
    digest = fake.image(["linux/amd64"])
    fake.answer(500, b"<html>\n<b>boom</b>\n</html>", "text/html", path=fake.path("manifests", "latest"), method="PUT")
    with pytest.raises(BakegenError) as e:
        buildx.Registry({}).retag(fake.ref(digest), [fake.ref("latest")])
    assert str(e.value) == f"could not tag {fake.ref(digest)} as {fake.ref('latest')}: {fake.host}: HTTP 500 for PUT manifests/latest"


def test_retag_of_an_image_that_is_not_there_is_one_line(fake):
    digest = sha(b"nothing")
    with pytest.raises(BakegenError, match=f"^could not tag .*: {fake.host}: .* is not in the registry$"):
        buildx.Registry({}).retag(fake.ref(digest), [fake.ref("latest")])


def test_tags_in_another_repository_without_buildx_are_one_line(fake, tmp_path, monkeypatch):
    digest = fake.image(["linux/amd64"])
    monkeypatch.setenv("PATH", str(tmp_path))
    other = fake.ref("latest", repo="prd/svc")
    with pytest.raises(BakegenError) as e:
        buildx.Registry({}).retag(fake.ref(digest), [fake.ref("latest"), other])
    assert str(e.value) == f"could not tag {fake.ref(digest)} as {other}: {buildx.NO_BUILDX}"
    assert (REPO, "latest") in fake.manifests  # the same repository's tag went through the API


# ------------------------------------------------------------------------------ the harness's registry
def upload(host: str, repo: str, body: bytes) -> str:
    """A blob pushed as the distribution spec has it (POST, then PUT with its digest)."""
    post = urllib.request.Request(f"http://{host}/v2/{repo}/blobs/uploads/", method="POST", data=b"")
    with urllib.request.urlopen(post, timeout=10) as r:
        location = urllib.parse.urljoin(f"http://{host}/", r.headers["Location"])
    put = urllib.request.Request(f"{location}{'&' if '?' in location else '?'}digest={sha(body)}", method="PUT", data=body,
                                 headers={"Content-Type": "application/octet-stream"})
    urllib.request.urlopen(put, timeout=10).close()
    return sha(body)


@pytest.mark.slow
def test_the_harness_registry_answers_found_and_missing():
    facts = harness.load_facts()
    if facts is None:
        pytest.skip("the BuildKit harness is not up (scripts/buildkit-harness up)")
    host, repo = facts["REGISTRY"], f"bakegen-test/registry-{uuid.uuid4().hex[:8]}"
    config = dumps({"architecture": "amd64", "os": "linux", "config": {"Labels": {"dev.bakegen.key": "k1"}},
                    "rootfs": {"type": "layers", "diff_ids": []}})
    manifest = dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": [],
                      "config": {"mediaType": OCI_CONFIG, "digest": upload(host, repo, config), "size": len(config)}})
    index = dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": sha(manifest), "size": len(manifest),
         "platform": {"os": "linux", "architecture": "amd64"}}]})  # as buildx pushes one platform
    for ref, body, media in ((sha(manifest), manifest, OCI_MANIFEST), (TAG, index, OCI_INDEX)):
        put = urllib.request.Request(f"http://{host}/v2/{repo}/manifests/{ref}", method="PUT", data=body,
                                     headers={"Content-Type": media})
        urllib.request.urlopen(put, timeout=10).close()
    ref, gone = f"{host}/{repo}:{TAG}", f"{host}/{repo}:bakegen-{'0' * 40}"
    reg = buildx.Registry({})
    answers = reg.inspect({ref: ["linux/amd64", "linux/arm64"], gone: ["linux/amd64"], f"{host}/{repo}-none:x": ()})
    assert (answers[ref].state, answers[ref].digest) == ("found", sha(index))
    assert {p: c["config"]["Labels"] for p, c in answers[ref].configs.items()} == {"linux/amd64": {"dev.bakegen.key": "k1"}}
    assert (answers[gone].state, answers[gone].why) == ("missing", f"{host}: no manifest bakegen-{'0' * 40} in {repo} (MANIFEST_UNKNOWN)")
    assert answers[f"{host}/{repo}-none:x"].state == "missing"
    tags = [f"{host}/{repo}:latest"] + ([f"{host}/{repo}-prd:latest"] if BUILDX else [])
    reg.retag(f"{host}/{repo}@{sha(index)}", tags)  # the API for its repository, imagetools for another
    again = reg.inspect(dict.fromkeys(tags, ("linux/amd64",)))
    assert {a.digest for a in again.values()} == {sha(index)}, again
