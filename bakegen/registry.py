"""The registry's HTTP API, for the two questions ``bakegen bake`` asks before it builds (which
images exist under their content keys, and their digests) and the one thing it does instead of
building (pointing new tags at an image): each a few milliseconds, where ``docker buildx
imagetools`` takes a tenth of a second per call.

It knows the registries CI and most teams use: no authentication, or the user's ``docker login``
(``auths`` of the docker config file, Basic or a Bearer token from the registry's realm), over
HTTPS, or HTTP for a registry on this machine. Anything else (a credential helper, an unexpected
answer, TLS trouble) is ``Unsure``: the caller asks ``docker buildx imagetools`` instead, which is
always right, only slower. A clear "not there" (404) is an answer.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, NamedTuple

MANIFESTS = ("application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json",
             "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json")
TIMEOUT = 10.0


class Unsure(Exception):
    """The registry's answer cannot be trusted here: ask ``docker buildx imagetools``."""


class Image(NamedTuple):
    digest: str
    configs: dict[str, dict[str, Any]]  # platform -> image config


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a blob's redirect is followed by hand, without the registry's credentials


_OPENER = urllib.request.build_opener(_NoRedirect)


def split(ref: str) -> tuple[str, str, str]:
    """``host/repo:tag`` or ``host/repo@digest`` -> (host, repo, tag or digest)."""
    name, at, digest = ref.partition("@")
    host, _, rest = name.partition("/")
    if not rest or not ("." in host or ":" in host or host == "localhost") or host.endswith("docker.io"):
        raise Unsure(f"{ref}: not a registry this client talks to")
    repo, tag = rest.rsplit(":", 1) if ":" in rest.rsplit("/", 1)[-1] else (rest, "")
    return host, repo, digest if at else tag


class Client:
    """One run's registry conversations (``config``: the docker config file, for ``docker login``'s
    credentials); a token is asked for once per repository."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.tokens: dict[tuple[str, str], str] = {}

    def _basic(self, host: str) -> str | None:
        if self.config.get("credsStore") or host in self.config.get("credHelpers", {}):
            raise Unsure(f"{host}: its credentials are in a helper")
        entry = self.config.get("auths", {}).get(host) or self.config.get("auths", {}).get(f"https://{host}")
        return f"Basic {entry['auth']}" if entry and entry.get("auth") else None

    def _token(self, host: str, repo: str, challenge: str) -> str:
        fields = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        if not challenge.lower().startswith("bearer ") or "realm" not in fields:
            basic = self._basic(host)
            if not basic or not challenge.lower().startswith("basic"):
                raise Unsure(f"{host}: asks for {challenge.split(' ')[0]} authentication")
            return basic
        query = urllib.parse.urlencode({"service": fields.get("service", ""),
                                        "scope": f"repository:{repo}:pull,push"})
        request = urllib.request.Request(f"{fields['realm']}?{query}")
        basic = self._basic(host)
        if basic:
            request.add_header("Authorization", basic)
        body = self._open(request)[1]
        token = json.loads(body).get("token") or json.loads(body).get("access_token")
        if not token:
            raise Unsure(f"{host}: its token service gave no token")
        return f"Bearer {token}"

    def _open(self, request: urllib.request.Request) -> tuple[dict[str, str], bytes]:
        try:
            with _OPENER.open(request, timeout=TIMEOUT) as response:
                return dict(response.headers), response.read()
        except urllib.error.HTTPError as e:
            raise e from None
        except (OSError, ValueError) as e:
            raise Unsure(f"{request.full_url}: {e}") from None

    def _call(self, host: str, repo: str, path: str, *, method: str = "GET", data: bytes | None = None,
              headers: dict[str, str] | None = None) -> tuple[dict[str, str], bytes] | None:
        """None for a 404; a redirect (a blob in other storage) is followed without credentials."""
        scheme = "http" if re.match(r"(localhost|127\.|\[::1\])", host) else "https"
        for _attempt in range(2):
            request = urllib.request.Request(f"{scheme}://{host}/v2/{repo}/{path}", data=data, method=method,
                                             headers=dict(headers or {}))
            if (host, repo) in self.tokens:
                request.add_header("Authorization", self.tokens[(host, repo)])
            try:
                return self._open(request)
            except urllib.error.HTTPError as e:
                if e.code == 404:
                    return None
                if e.code == 401 and (host, repo) not in self.tokens:
                    self.tokens[(host, repo)] = self._token(host, repo, e.headers.get("WWW-Authenticate", ""))
                    continue
                if e.code in (301, 302, 303, 307, 308) and e.headers.get("Location"):
                    return self._open(urllib.request.Request(urllib.parse.urljoin(request.full_url,
                                                                                  e.headers["Location"])))
                raise Unsure(f"{host}/{repo}: HTTP {e.code} for {path}") from None
        raise Unsure(f"{host}/{repo}: refused after authentication")

    def _manifest(self, host: str, repo: str, ref: str) -> tuple[str, str, bytes] | None:
        answer = self._call(host, repo, f"manifests/{ref}", headers={"Accept": ", ".join(MANIFESTS)})
        if answer is None:
            return None
        headers, body = answer
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        if ref.startswith("sha256:") and ref != digest:
            raise Unsure(f"{host}/{repo}@{ref}: the registry answered another manifest")
        return digest, headers.get("Content-Type", "").split(";")[0], body

    def image(self, ref: str, platforms: list[str]) -> Image | None:
        """The image ``ref`` names (its digest and the config of each of ``platforms`` it has);
        None when the registry says it has no such tag."""
        host, repo, tag = split(ref)
        top = self._manifest(host, repo, tag)
        if top is None:
            return None
        digest, _, body = top
        doc = json.loads(body)
        entries = {f"{m['platform']['os']}/{m['platform']['architecture']}"
                   + (f"/{m['platform']['variant']}" if m["platform"].get("variant") else ""): m["digest"]
                   for m in doc.get("manifests", []) if m.get("platform", {}).get("os") not in (None, "unknown")}
        configs = {}
        for p in platforms:
            if "manifests" in doc and p not in entries:
                continue
            manifest = doc
            if "manifests" in doc:
                found = self._manifest(host, repo, entries[p])
                if found is None:
                    raise Unsure(f"{ref}: its {p} manifest is missing")
                manifest = json.loads(found[2])
            blob = self._call(host, repo, f"blobs/{manifest['config']['digest']}")
            if blob is None:
                raise Unsure(f"{ref}: its config blob is missing")
            configs[p] = json.loads(blob[1])
        return Image(digest, configs)

    def tag(self, source: str, tags: list[str]) -> None:
        """Point ``tags`` (same repository) at the manifest ``source`` (``repo@sha256:...``)."""
        host, repo, digest = split(source)
        found = self._manifest(host, repo, digest)
        if found is None:
            raise Unsure(f"{source}: not in the registry")
        _, media_type, body = found
        for ref in tags:
            thost, trepo, tag = split(ref)
            if (thost, trepo) != (host, repo):
                raise Unsure(f"{ref}: another repository than {source}")
            self._call(host, repo, f"manifests/{tag}", method="PUT", data=body, headers={"Content-Type": media_type})


def auth_header(user: str, password: str) -> str:
    """What ``docker login`` stores in ``auths``: base64 of user:password (for tests and tools)."""
    return base64.b64encode(f"{user}:{password}".encode()).decode()
