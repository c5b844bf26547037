"""The registry's HTTP API, for the two questions ``bakegen bake`` asks before it builds (which
images exist under their content keys, and their digests) and the one thing it does instead of
building (pointing new tags at an image): each a few milliseconds, where ``docker buildx
imagetools`` takes a tenth of a second per call.

It knows the registries CI and most teams use: no authentication, or the user's ``docker login``
(``auths`` of the docker config file, Basic or a Bearer token from the registry's realm), over
HTTPS, or HTTP for a registry on this machine. Every question runs against a ``Deadline``: its
time is shared by all the questions of a run, and when it is over every connection still open is
shut (a server that never answers, or answers a byte at a time, holds nothing longer).

An answer is ``found`` or ``missing`` (a 404 for the manifest asked) only when the registry said
so as the distribution spec has it; anything else raises ``Unsure`` with one line naming the host
(the image is then built). ``CannotAsk`` is the one case where another client can do better:
credentials in a helper, or an authentication this client does not speak; the caller asks
``docker buildx imagetools`` instead.
"""

from __future__ import annotations

import base64
import contextlib
import email.message
import hashlib
import http.client
import ipaddress
import json
import re
import socket
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from .model import Answer

INDEXES = ("application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json")
IMAGES = ("application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json")
MANIFESTS = INDEXES + IMAGES
MISSING = ("MANIFEST_UNKNOWN", "NAME_UNKNOWN")  # a 404 with these (or none) is "no such manifest"
MAX_BODY = 4 << 20  # a manifest, a config or a token is a few kilobytes
REDIRECTS = 3
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


class Unsure(Exception):
    """The registry's answer cannot be trusted: the image is built. The message says why, in one
    line naming the host."""


class CannotAsk(Unsure):
    """This client cannot ask this registry (its credentials are in a helper, it asks for an
    authentication this client does not speak, the reference names no registry it talks to);
    ``docker buildx imagetools`` can."""


class Deadline:
    """The time a set of questions may take together (``why``: the line a question that ran out of
    it gives). ``cancel`` shuts every connection still open and every one opened after."""

    def __init__(self, seconds: float, why: str) -> None:
        self.end = time.monotonic() + max(0.0, seconds)
        self.why = why
        self.cancelled = False
        self._lock = threading.Lock()
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()

    def remaining(self) -> float:
        return 0.0 if self.cancelled else max(0.0, self.end - time.monotonic())

    def left(self, host: str) -> float:
        """The seconds left, or ``Unsure`` naming ``host`` when there are none."""
        seconds = self.remaining()
        if seconds <= 0:
            raise Unsure(f"{host}: {self.why}")
        return seconds

    def track(self, sock: socket.socket) -> None:
        with self._lock:
            if not self.cancelled:
                self._sockets.add(sock)
                return
        _shut(sock)

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    """End a connection another thread may be reading (its read returns at once); the plain
    socket's shutdown, also for a TLS socket (whose own ``shutdown`` is not safe across threads)."""
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Plain(http.client.HTTPConnection):
    """A connection its request's deadline can shut."""

    deadline: Deadline | None = None

    def connect(self) -> None:
        super().connect()  # for _TLS: HTTPSConnection's, so self.sock is the TLS socket
        if self.deadline is not None:
            self.deadline.track(self.sock)


class _TLS(_Plain, http.client.HTTPSConnection):
    pass


class _Request(urllib.request.Request):
    def __init__(self, url: str, deadline: Deadline, *, method: str, headers: dict[str, str],
                 data: bytes | None = None) -> None:
        super().__init__(url, data=data, headers=headers, method=method)
        self.deadline = deadline


def _connection(cls: type[_Plain], request: urllib.request.Request) -> Callable[..., _Plain]:
    def make(host: str, **kwargs: Any) -> _Plain:
        conn = cls(host, **kwargs)
        conn.deadline = request.deadline if isinstance(request, _Request) else None
        return conn
    return make


class _HTTP(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_connection(_Plain, req), req)


class _HTTPS(urllib.request.HTTPSHandler):
    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__(context=context)
        self.tls = context

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_connection(_TLS, req), req, context=self.tls)


class _EveryStatus(urllib.request.HTTPErrorProcessor):
    """Every status is an answer to read (no HTTPError, no redirect followed with credentials)."""

    def http_response(self, request: urllib.request.Request, response: Any) -> Any:
        return response

    https_response = http_response


class Reply(NamedTuple):
    status: int
    headers: email.message.Message
    body: bytes

    def media_type(self) -> str:
        return str(self.headers.get("Content-Type", "")).split(";")[0].strip().lower()

    def codes(self) -> list[str]:
        """The distribution spec's error codes in the body (``{"errors": [{"code": ...}]}``)."""
        try:
            errors = json.loads(self.body).get("errors")
        except (ValueError, AttributeError):
            return []
        return [str(e["code"]) for e in errors if isinstance(e, dict) and "code" in e] \
            if isinstance(errors, list) else []

    def status_line(self, host: str, what: str) -> str:
        codes = self.codes()
        return f"{host}: HTTP {self.status} for {what}" + (f" ({', '.join(codes)})" if codes else "")


def is_local(host: str) -> bool:
    """Whether ``host`` (``name[:port]``) is this machine: ``localhost``, 127.x or [::1], which are
    spoken to over HTTP (as Docker does); every other registry over HTTPS."""
    name = host[1:].partition("]")[0] if host.startswith("[") else host.rsplit(":", 1)[0]
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def split(ref: str) -> tuple[str, str, str]:
    """``host/repo:tag`` or ``host/repo@digest`` -> (host, repo, tag or digest)."""
    name, at, digest = ref.partition("@")
    host, _, rest = name.partition("/")
    if not rest or not ("." in host or ":" in host or host == "localhost") or host.endswith("docker.io"):
        raise CannotAsk(f"{ref}: not a registry this client talks to")
    repo, tag = rest.rsplit(":", 1) if ":" in rest.rsplit("/", 1)[-1] else (rest, "")
    if not (_DIGEST.fullmatch(digest) if at else tag):
        raise CannotAsk(f"{ref}: not a reference this client reads")
    return host, repo, digest if at else tag


def platform_key(platform: str) -> str:
    """``os/arch[/variant]``, with arm64's default variant (v8) left out as Docker does."""
    return platform.removesuffix("/v8") if platform.startswith(("linux/arm64/", "windows/arm64/")) else platform


def _platform(doc: Mapping[str, Any]) -> str | None:
    """The platform an index entry's ``platform`` or an image config names, or None."""
    os_, arch, variant = doc.get("os"), doc.get("architecture"), doc.get("variant")
    if not isinstance(os_, str) or not isinstance(arch, str) or not os_ or not arch:
        return None
    return platform_key(f"{os_}/{arch}" + (f"/{variant}" if isinstance(variant, str) and variant else ""))


_REASONS: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], Callable[[Any], str]], ...] = (
    (ConnectionRefusedError, lambda e: "connection refused"),
    (socket.gaierror, lambda e: "the name does not resolve"),
    (ssl.SSLCertVerificationError, lambda e: f"TLS: its certificate is not trusted ({e.verify_message})"),
    (ssl.SSLError, lambda e: f"TLS failed ({e.reason or e})"),
    ((http.client.RemoteDisconnected, http.client.IncompleteRead, ConnectionResetError),
     lambda e: "closed the connection before answering"),
)


def _reason(e: BaseException) -> str:
    """An OS, URL or TLS error in a few words."""
    if isinstance(e, urllib.error.URLError):
        e = e.reason if isinstance(e.reason, BaseException) else OSError(str(e.reason))
    for kind, words in _REASONS:
        if isinstance(e, kind):
            return words(e)
    return " ".join(str(e).split()) or type(e).__name__


def document(reply: Reply, who: str) -> dict[str, Any]:
    """The JSON object ``reply`` holds; ``Unsure`` (``who`` answered ...) when it is not one."""
    if reply.media_type() == "text/html" or reply.body.lstrip()[:1] == b"<":
        raise Unsure(f"{who} answered an HTML page, not JSON")
    try:
        doc = json.loads(reply.body)
    except ValueError:
        raise Unsure(f"{who} answered something that is not JSON") from None
    if not isinstance(doc, dict):
        raise Unsure(f"{who} answered JSON that is not an object")
    return doc


class Client:
    """One run's registry conversations (``config``: the docker config file, for ``docker login``'s
    credentials); a token is asked for once per repository. ``plain_http``: which hosts are spoken
    to over HTTP (by default this machine's, ``is_local``)."""

    def __init__(self, config: Mapping[str, Any], *, plain_http: Callable[[str], bool] = is_local) -> None:
        self.config = config
        self.plain_http = plain_http
        self.tokens: dict[tuple[str, str], str] = {}
        self.opener = urllib.request.build_opener(_HTTP(), _HTTPS(ssl.create_default_context()), _EveryStatus())

    # ------------------------------------------------------------------------------ the wire
    def _send(self, url: str, deadline: Deadline, who: str, *, method: str = "GET",
              headers: Mapping[str, str] | None = None, data: bytes | None = None) -> Reply:
        """One request; ``Unsure`` (naming ``who``) when it gets no answer in time."""
        seconds = deadline.left(who)
        request = _Request(url, deadline, method=method, headers=dict(headers or {}), data=data)
        try:
            with self.opener.open(request, timeout=seconds) as response:
                body = response.read(MAX_BODY + 1)
                reply = Reply(response.status, response.headers, body)
        except (OSError, ValueError, http.client.HTTPException) as e:
            if deadline.remaining() <= 0 or isinstance(getattr(e, "reason", e), TimeoutError):
                raise Unsure(f"{who}: {deadline.why}") from None
            raise Unsure(f"{who}: {_reason(e)}") from None
        if deadline.cancelled:  # what was read when its connection was shut is cut short
            raise Unsure(f"{who}: {deadline.why}")
        if len(body) > MAX_BODY:
            raise Unsure(f"{who}: answered more than {MAX_BODY >> 20} MiB")
        length = str(reply.headers.get("Content-Length", ""))
        if length.isdigit() and len(body) < int(length) and method != "HEAD":
            raise Unsure(f"{who}: closed the connection before the end of its answer")
        return reply

    def _get(self, url: str, deadline: Deadline, who: str, headers: Mapping[str, str],
             credentials: Mapping[str, str]) -> Reply:
        """GET, following redirects (a blob kept in other storage); ``credentials`` go only to
        the host first asked."""
        first = urllib.parse.urlsplit(url)
        for _hop in range(REDIRECTS + 1):
            here = urllib.parse.urlsplit(url)
            same = (here.scheme, here.netloc) == (first.scheme, first.netloc)
            reply = self._send(url, deadline, who if same else f"{who} (redirected to {here.netloc})",
                               headers={**headers, **(credentials if same else {})})
            if reply.status not in (301, 302, 303, 307, 308):
                return reply
            location = reply.headers.get("Location")
            if not location:
                raise Unsure(f"{who}: HTTP {reply.status} without a Location")
            url = urllib.parse.urljoin(url, str(location))
            if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
                raise Unsure(f"{who}: redirected to {url[:80]}")
        raise Unsure(f"{who}: more than {REDIRECTS} redirects")

    def _call(self, host: str, repo: str, path: str, deadline: Deadline, *, method: str = "GET",
              headers: Mapping[str, str] | None = None, data: bytes | None = None) -> Reply:
        """A request to the repository's API, authenticated as the registry asks (once more with
        a new token when it refuses the one it gave before)."""
        url = f"{'http' if self.plain_http(host) else 'https'}://{host}/v2/{repo}/{path}"
        fresh = False
        while True:
            auth = self.tokens.get((host, repo))
            credentials = {"Authorization": auth} if auth else {}
            if method == "GET":
                reply = self._get(url, deadline, host, headers or {}, credentials)
            else:
                reply = self._send(url, deadline, host, method=method, data=data,
                                   headers={**(headers or {}), **credentials})
            if reply.status != 401:
                return reply
            if fresh:
                raise Unsure(f"{host}: refused the credentials it asked for (HTTP 401 for {path})")
            self.tokens[(host, repo)] = self._authorize(host, repo, str(reply.headers.get("WWW-Authenticate", "")),
                                                        deadline)
            fresh = True

    # ------------------------------------------------------------------------------ authentication
    def _basic(self, host: str) -> str | None:
        if self.config.get("credsStore") or host in (self.config.get("credHelpers") or {}):
            raise CannotAsk(f"{host}: its credentials are in a helper")
        auths = self.config.get("auths") or {}
        entry = auths.get(host) or auths.get(f"https://{host}") or {}
        return f"Basic {entry['auth']}" if isinstance(entry, dict) and entry.get("auth") else None

    def _authorize(self, host: str, repo: str, challenge: str, deadline: Deadline) -> str:
        """The Authorization header the challenge of a 401 asks for."""
        scheme, _, params = challenge.strip().partition(" ")
        fields = dict(re.findall(r'(\w+)="([^"]*)"', params))
        if scheme.lower() == "basic":
            basic = self._basic(host)
            if not basic:
                raise Unsure(f"{host}: asks for a password, and docker login has none for it")
            return basic
        if scheme.lower() != "bearer" or not fields.get("realm"):
            raise CannotAsk(f"{host}: asks for {scheme or 'an unnamed'} authentication")
        basic = self._basic(host)
        realm = fields["realm"]
        if urllib.parse.urlsplit(realm).scheme not in ("http", "https"):
            raise Unsure(f"{host}: its token service is not a URL ({realm[:80]})")
        query = urllib.parse.urlencode({"service": fields.get("service", ""),
                                        "scope": fields.get("scope") or f"repository:{repo}:pull"})
        where = urllib.parse.urlsplit(realm).netloc
        who = f"{host}: the token service" + (f" at {where}" if where != host else "")
        reply = self._get(f"{realm}{'&' if '?' in realm else '?'}{query}", deadline, who, {},
                          {"Authorization": basic} if basic else {})
        if reply.status != 200:
            raise Unsure(f"{who} answered HTTP {reply.status}")
        doc = document(reply, who)
        token = doc.get("token") or doc.get("access_token")
        if not isinstance(token, str) or not token or not token.isprintable():
            raise Unsure(f"{who} answered JSON without a token")
        return f"Bearer {token}"

    # ------------------------------------------------------------------------------ manifests, configs
    def _manifest(self, host: str, repo: str, ref: str, deadline: Deadline) -> tuple[Reply, str, str, dict[str, Any]]:
        """The manifest ``ref`` names: (the reply, its digest, its media type, its JSON); the
        reply alone (status 404) when there is none."""
        what = f"manifests/{ref}"
        reply = self._call(host, repo, what, deadline, headers={"Accept": ", ".join(MANIFESTS)})
        if reply.status == 404:
            return reply, "", "", {}
        if reply.status != 200:
            raise Unsure(reply.status_line(host, what))
        digest = "sha256:" + hashlib.sha256(reply.body).hexdigest()
        if ref.startswith("sha256:") and ref != digest:
            raise Unsure(f"{host}: asked for manifest {ref[:19]}..., answered another ({digest[:19]}...)")
        said = str(reply.headers.get("Docker-Content-Digest", ""))
        if said.startswith("sha256:") and said != digest:
            raise Unsure(f"{host}: the Docker-Content-Digest of {what} is not the digest of the manifest it sent")
        content_type = reply.media_type()
        if content_type not in (*MANIFESTS, "application/json", ""):
            raise Unsure(f"{host}: answered {content_type} for {what}, not a manifest")
        doc = document(reply, f"{host}: {what}")
        media = doc.get("mediaType") or content_type
        if media not in MANIFESTS or (content_type in MANIFESTS and media != content_type):
            raise Unsure(f"{host}: {what} is of type {media or '(none given)'}, which bakegen does not read")
        if media in INDEXES and not (isinstance(doc.get("manifests"), list)
                                     and all(isinstance(m, dict) and _DIGEST.fullmatch(str(m.get("digest")))
                                             for m in doc["manifests"])):
            raise Unsure(f"{host}: {what} is an index without a list of manifests and their digests")
        if media in IMAGES and not (isinstance(doc.get("config"), dict)
                                    and _DIGEST.fullmatch(str(doc["config"].get("digest")))):
            raise Unsure(f"{host}: {what} is an image manifest without a config digest")
        return reply, digest, media, doc

    def _config(self, host: str, repo: str, manifest: Mapping[str, Any], deadline: Deadline) -> dict[str, Any]:
        """The image config a (single-image) manifest names."""
        digest = manifest["config"]["digest"]
        what = f"blobs/{digest[:19]}..."
        reply = self._call(host, repo, f"blobs/{digest}", deadline)
        if reply.status == 404:
            raise Unsure(f"{host}: the config {what} is missing (HTTP 404)")
        if reply.status != 200:
            raise Unsure(reply.status_line(host, what))
        if "sha256:" + hashlib.sha256(reply.body).hexdigest() != digest:
            raise Unsure(f"{host}: {what} answered other bytes than the config it names")
        return document(reply, f"{host}: the config {what}")

    def answer(self, ref: str, platforms: Sequence[str], deadline: Deadline) -> Answer:
        """``found`` (the digest of the image ``ref`` names, and the config of each of
        ``platforms`` it has) or ``missing`` (a 404 for that manifest); ``Unsure`` otherwise."""
        host, repo, tag = split(ref)
        reply, digest, media, doc = self._manifest(host, repo, tag, deadline)
        if reply.status == 404:
            codes = reply.codes()
            if codes and not set(codes) & set(MISSING):
                raise Unsure(reply.status_line(host, f"manifests/{tag}"))
            return Answer("missing", why=f"{host}: no manifest {tag} in {repo} ({codes[0] if codes else 'HTTP 404'})")
        wanted = {platform_key(p): p for p in platforms}
        configs: dict[str, dict[str, Any]] = {}
        raw = doc.get("annotations")
        annotations = {str(k): v for k, v in raw.items() if isinstance(v, str)} if isinstance(raw, dict) else {}
        listed = tuple(dict.fromkeys(p for m in doc["manifests"] if isinstance(m.get("platform"), dict)
                                     and (p := _platform(m["platform"])) and p != "unknown/unknown")) \
            if media in INDEXES else ()
        if media in IMAGES and wanted:
            config = self._config(host, repo, doc, deadline)
            platform = _platform(config)
            if platform is None:
                raise Unsure(f"{host}: the config of {tag} names no os and architecture")
            if platform in wanted:
                configs[wanted[platform]] = config
        elif wanted:
            entries: dict[str, str] = {}
            for m in doc["manifests"]:
                platform = _platform(m["platform"]) if isinstance(m.get("platform"), dict) else None
                if platform is None:
                    raise Unsure(f"{host}: the index {tag} has an entry without a platform")
                entries.setdefault(platform, m["digest"])
            for key, asked in wanted.items():
                if key not in entries:
                    continue
                child, _, child_media, child_doc = self._manifest(host, repo, entries[key], deadline)
                if child.status == 404:
                    raise Unsure(f"{host}: the {asked} manifest of {tag} is missing (HTTP 404)")
                if child_media not in IMAGES:
                    raise Unsure(f"{host}: the {asked} entry of {tag} is not an image manifest")
                configs[asked] = self._config(host, repo, child_doc, deadline)
        return Answer("found", digest, configs, annotations=annotations, platforms=listed)

    def tag(self, source: str, tags: Sequence[str], deadline: Deadline) -> None:
        """Point ``tags`` (in ``source``'s repository) at the manifest ``source``
        (``host/repo@sha256:...``): its bytes put again under each tag."""
        host, repo, digest = split(source)
        reply, _, media, _ = self._manifest(host, repo, digest, deadline)
        if reply.status == 404:
            raise Unsure(f"{host}: {source} is not in the registry")
        for ref in tags:
            thost, trepo, tag = split(ref)
            if (thost, trepo) != (host, repo):
                raise CannotAsk(f"{ref}: another repository than {source}'s")
            put = self._call(host, repo, f"manifests/{tag}", deadline, method="PUT", data=reply.body,
                             headers={"Content-Type": media})
            if put.status not in (200, 201, 202, 204):
                raise Unsure(put.status_line(host, f"PUT manifests/{tag}"))


def same_repository(source: str, ref: str) -> bool:
    """Whether ``ref`` is in the repository of ``source`` (so ``Client.tag`` can point it)."""
    try:
        return split(source)[:2] == split(ref)[:2]
    except CannotAsk:
        return False


def auth_header(user: str, password: str) -> str:
    """What ``docker login`` stores in ``auths``: base64 of user:password (for tests and tools)."""
    return base64.b64encode(f"{user}:{password}".encode()).decode()
