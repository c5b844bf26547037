"""``bakegen lock``: reads Go's release list with its checksums from go.dev (what docker-library's
versions.sh reads), hashes the protoc release zips nobody published a checksum for, and writes
exactly the checksums of the files the definitions use into the committed lock file (see
``checksums``): reviewed like the bake file, as pip-tools' ``--generate-hashes`` output is.
``upgrades`` moves each version to the newest patch of its line, as docker-library's update.sh does.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .checksums import SHA256, Checksums, Table, merge, protoc_key, render_lock
from .errors import BakegenError
from .loader import read_lock, read_text, shipped_checksums
from .output import write_atomic
from .platforms import ARCHES, BUILD_MACHINES, canonical_platform, go_archive, protoc_archive
from .versions import GoVersion, known_versions

if TYPE_CHECKING:
    from http.client import HTTPResponse

GO_RELEASES_URL = "https://go.dev/dl/?mode=json&include=all"
PROTOC_DOWNLOAD_URL = "https://github.com/protocolbuffers/protobuf/releases/download"
TIMEOUT = 30.0
_MAX_LIST = 64 << 20  # go.dev's full list is ~2 MB

Progress = Callable[[str], None]


def stderr_progress(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


# ---------------------------------------------------------------- the network
def _open(url: str, timeout: float) -> HTTPResponse:
    import urllib.request

    from . import __version__

    request = urllib.request.Request(url, headers={"User-Agent": f"bakegen/{__version__}"})
    response: HTTPResponse = urllib.request.urlopen(request, timeout=timeout)
    return response


def _network_error(url: str, e: Exception) -> BakegenError:
    import urllib.error

    if isinstance(e, urllib.error.HTTPError):
        why = f"HTTP {e.code} {e.reason}"
    elif isinstance(e, urllib.error.URLError):
        why = str(e.reason)
    else:
        why = str(e) or type(e).__name__
    return BakegenError(f"cannot download {url}: {' '.join(why.split())} (is the network up?)")


def _download(url: str, timeout: float, limit: int) -> bytes:
    from http.client import HTTPException

    try:
        with _open(url, timeout) as response:
            body = response.read(limit + 1)
    except (OSError, HTTPException) as e:
        raise _network_error(url, e) from None
    if len(body) > limit:
        raise BakegenError(f"{url} answered more than {limit >> 20} MB: not Go's release list")
    return body


def sha256_of(url: str, *, timeout: float = TIMEOUT, progress: Progress = stderr_progress) -> str:
    """The sha256 of the file at ``url``, hashed while it streams in."""
    import hashlib
    from http.client import HTTPException

    progress(f"bakegen lock: downloading {url}")
    digest = hashlib.sha256()
    size = 0
    try:
        with _open(url, timeout) as response:
            while chunk := response.read(1 << 16):
                digest.update(chunk)
                size += len(chunk)
    except (OSError, HTTPException) as e:
        raise _network_error(url, e) from None
    progress(f"bakegen lock:   {size} bytes, sha256 {digest.hexdigest()}")
    return digest.hexdigest()


# ---------------------------------------------------------------- go.dev's release list
@dataclass(frozen=True)
class GoReleases:
    """Go's release list: the sha256 of each release's linux archives and source tarball."""

    origin: str
    go: Table

    def checksums(self) -> Checksums:
        return Checksums(f"go.dev's release list ({self.origin})", go=self.go)


def fetch_go_releases(url: str = GO_RELEASES_URL, *, timeout: float = TIMEOUT,
                      progress: Progress = stderr_progress) -> GoReleases:
    progress(f"bakegen lock: reading Go's release list from {url}")
    body = _download(url, timeout, _MAX_LIST)
    try:
        data = json.loads(body)
    except ValueError:
        raise BakegenError(f"{url} did not answer Go's release list: its answer is not JSON") from None
    releases = parse_go_releases(data, url)
    progress(f"bakegen lock:   {len(releases.go)} releases")
    return releases


def _shape(origin: str, detail: str) -> BakegenError:
    return BakegenError(f"{origin} did not answer Go's release list (a JSON list of releases with version, "
                        f"stable and files, as go.dev/dl/?mode=json gives): {detail}")


_FILE_FIELDS = {"filename": str, "os": str, "arch": str, "version": str, "sha256": str, "size": int, "kind": str}


def parse_go_releases(data: object, origin: str) -> GoReleases:
    """Go's release list (``[{"version": "go1.24.2", "stable": true, "files": [{"filename", "os",
    "arch", "version", "sha256", "size", "kind"}, ...]}, ...]``) as ``{version: {file: sha256}}``
    for the linux archives (``linux-amd64``, ...) and the source tarball (``src``). Releases bakegen
    cannot name (Go 1.0's ``go1``, patch pre-releases like ``go1.9.2rc2``) are left out."""
    if not isinstance(data, list) or not data:
        raise _shape(origin, "not a non-empty JSON list")
    table: Table = {}
    for i, release in enumerate(data):
        if not isinstance(release, dict) or not isinstance(release.get("version"), str) \
                or not isinstance(release.get("stable"), bool) or not isinstance(release.get("files"), list):
            raise _shape(origin, f"release #{i} has no string version, boolean stable and list of files")
        try:
            v = GoVersion.release(release["version"])
        except BakegenError:
            continue
        for file, sha in _release_files(release["files"], v, origin):
            if table.setdefault(v.go, {}).setdefault(file, sha) != sha:
                raise _shape(origin, f"{go_archive(v.go, file)} is listed twice with two sha256 values")
    return GoReleases(origin, table)


def _release_files(files: list[Any], v: GoVersion, origin: str) -> Iterable[tuple[str, str]]:
    """(file key, sha256) of each linux archive and source tarball of one release."""
    for f in files:
        if not isinstance(f, dict) or any(not isinstance(f.get(k), t) for k, t in _FILE_FIELDS.items()):
            raise _shape(origin, f"a file of {v.go} lacks one of {', '.join(_FILE_FIELDS)}")
        name: str = f["filename"]
        prefix = f"go{v.go}."
        if f["kind"] not in ("archive", "source") or not name.startswith(prefix) or not name.endswith(".tar.gz"):
            continue
        key = name[len(prefix):-len(".tar.gz")]
        if key != "src" and not key.startswith("linux-"):
            continue
        if not f["sha256"]:
            continue  # some of Go's oldest files were published without a sha256
        if not SHA256.fullmatch(f["sha256"]):
            raise _shape(origin, f'{name}: sha256 "{f["sha256"]}" is not 64 lower-case hex digits')
        yield key, f["sha256"]


# ---------------------------------------------------------------- what the definitions use
@dataclass(frozen=True)
class ToolchainUse:
    """What one toolchain image needs checksums for: its Go versions as written (``1.24`` is the
    newest known 1.24.x), its platforms, its protoc version (``""``: none)."""

    image: str
    versions: tuple[str, ...]
    platforms: tuple[str, ...]
    protoc_version: str = ""
    protoc_download_url: str = PROTOC_DOWNLOAD_URL
    where: str | None = None  # the image's versions, for messages


def go_needs(uses: Iterable[ToolchainUse], known: Table) -> dict[str, set[str]]:
    """Go version (resolved, Go's spelling) -> the release files the toolchain Dockerfile fetches:
    each target platform's, and the build machines' (their Go cross-compiles the tools)."""
    releases = known_versions(known)
    needs: dict[str, set[str]] = {}
    for use in uses:
        files = {ARCHES[canonical_platform(p)].go_file for p in (*use.platforms, *BUILD_MACHINES)}
        for text in use.versions:
            try:
                v = GoVersion.parse(text).resolve(releases)
            except BakegenError as e:
                raise BakegenError(f'image "{use.image}": {e.message}', use.where) from None
            needs.setdefault(v.go, set()).update(files)
    return needs


def protoc_needs(uses: Iterable[ToolchainUse]) -> dict[str, tuple[str, set[str]]]:
    """protoc version -> (download URL of the first image using it, the zips' platform keys)."""
    needs: dict[str, tuple[str, set[str]]] = {}
    for use in uses:
        if not use.protoc_version:
            continue
        version = protoc_key(use.protoc_version)
        _, files = needs.setdefault(version, (use.protoc_download_url, set()))
        for p in use.platforms:
            file = ARCHES[canonical_platform(p)].protoc_file
            if file is None:
                raise BakegenError(f'image "{use.image}": protoc publishes no release for platform {p}', use.where)
            files.add(file)
    return needs


def _pick(needs: Mapping[str, set[str]], known: Table, archive: Callable[[str, str], str], hint: str) -> Table:
    out: Table = {}
    for version in sorted(needs):
        have = known.get(version, {})
        missing = sorted(needs[version] - have.keys())
        if missing:
            raise BakegenError(f"no published sha256 for {', '.join(archive(version, f) for f in missing)}: {hint}")
        out[version] = {file: have[file] for file in sorted(needs[version])}
    return out


def _hash_protoc(needs: dict[str, tuple[str, set[str]]], known: Table, timeout: float,
                 progress: Progress) -> list[Checksums]:
    """Download and hash the protoc zips no source has a checksum for."""
    hashed = []
    for version in sorted(needs):
        url, files = needs[version]
        for file in sorted(files - known.get(version, {}).keys()):
            link = f"{url.rstrip('/')}/v{version}/{protoc_archive(version, file)}"
            sha = sha256_of(link, timeout=timeout, progress=progress)
            hashed.append(Checksums(f"the download of {link}", protoc={version: {file: sha}}))
    return hashed


# ---------------------------------------------------------------- bakegen lock
@dataclass(frozen=True)
class LockResult:
    go: Table
    protoc: Table
    text: str
    written: bool  # False: the file already held exactly this text, and was left alone
    added: tuple[str, ...]  # release files the old lock file did not have
    removed: tuple[str, ...]  # release files it had that nothing uses now


def lock(path: Path, uses: Sequence[ToolchainUse], definitions: Sequence[Checksums] = (), *,
         shown: str | None = None, releases: GoReleases | None = None, go_url: str = GO_RELEASES_URL,
         timeout: float = TIMEOUT, progress: Progress = stderr_progress) -> LockResult:
    """Write to ``path`` the checksums of every Go and protoc file ``uses`` need, from go.dev's
    list (``releases``, else read from ``go_url``), the shipped data, the lock file itself, the
    ``definitions`` and, for protoc zips none of them knows, their download. A value that differs
    from a known one is an error; on any error the file is left as it was."""
    shown = shown or str(path)
    old = read_lock(path, shown)
    if releases is None:
        releases = fetch_go_releases(go_url, timeout=timeout, progress=progress)
    sources = [*shipped_checksums(), old, *definitions, releases.checksums()]
    go_known, protoc_known = merge(sources)
    go = _pick(go_needs(uses, go_known), go_known, go_archive,
               f"neither {releases.origin} nor the definitions' go_checksums list it")
    wanted = protoc_needs(uses)
    _, protoc_known = merge([*sources, *_hash_protoc(wanted, protoc_known, timeout, progress)])
    protoc = _pick({v: files for v, (_, files) in wanted.items()}, protoc_known, protoc_archive, "")
    text = render_lock(go, protoc)
    written = read_text(path, shown) != text
    if written:
        write_atomic(path, text)
    before, after = _files(old.go, old.protoc), _files(go, protoc)
    return LockResult(go, protoc, text, written, tuple(sorted(after - before)), tuple(sorted(before - after)))


def _files(go: Table, protoc: Table) -> set[str]:
    return ({go_archive(v, f) for v, files in go.items() for f in files}
            | {protoc_archive(v, f) for v, files in protoc.items() for f in files})


# ---------------------------------------------------------------- upgrades
def upgrades(written: Iterable[str], available: Iterable[str]) -> list[tuple[str, str]]:
    """``(old, new)`` for each written Go version that has a newer release of its line among
    ``available`` (go.dev's list), as docker-library's update.sh moves each line to its newest
    release: a release moves to the newest stable patch of its line; a pre-release to that too
    once its line has one, else to the line's newest pre-release; a line alone (``1.24``) already
    means the newest and stays. Each written text once, in order; the new one keeps its ``go``/``v``."""
    known = known_versions(available)
    out: list[tuple[str, str]] = []
    for text in dict.fromkeys(written):
        v = GoVersion.parse(text)
        if v.partial:
            continue
        line = [k for k in known if k.line == v.line]
        pool = [k for k in line if not k.prerelease] or ([k for k in line if k.prerelease] if v.prerelease else [])
        newest = max(pool, key=lambda k: k.key, default=None)
        if newest is not None and v < newest:
            prefix = next((p for p in ("go", "v") if text.strip().startswith(p)), "")
            out.append((text, prefix + newest.go))
    return out
