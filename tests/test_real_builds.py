"""Real builds on the offline BuildKit harness (scripts/buildkit-harness; issues 10 and 14).

The definitions are generated the way users do it: a copy of bake/ and examples/ adapted to the
harness (registry, Debian base, Go from the local file server with its sha256, no protoc, no Go
tools), committed in a temp git repository, then `bakegen -o docker-bake.hcl`, `bakegen meta -o
meta.hcl` and `docker buildx bake -f docker-bake.hcl -f meta.hcl --push`. Images go to
<REGISTRY>/bakegen-real-builds/run-<random>/..., a repository path of this run's own: the harness
registry is shared, and another run of these tests (another builder, another checkout) pushing to
the same tags between this run's push and its read of a tag would make a nothing-changed rebuild
look as if its digests had changed. The definitions keep <REGISTRY>/bakegen-real-builds, so every
run commits the same tree (the same revision label, a warm builder's cache hits); the run's path
reaches bakegen and bake as $REGISTRY, as a CI job would give it.

Skipped, with the reason, when the harness is not up ($BUILDKIT_HARNESS_DIR/harness.env, default
/tmp/bakegen-buildkit) or its builder does not answer. The builder is $BAKEGEN_TEST_BUILDER, else
BUILDER from harness.env; no socket is named here.

The Debian suite is bookworm when the harness has it (BASE_SUITES), else its first suite. The
Debian mirror the harness reaches lacks bullseye-security arm64 packages (libc6:arm64 among
them), so on bullseye the toolchain is built without the arm64 cross compiler (CGO_PLATFORMS
limited to linux/amd64) and the cgo build for linux/arm64 is skipped.

The cgo sample is built as the seed's layout builds a service: from its own repository
(examples/repos/cgo-demo, as `bakegen init --app cgo-demo --cgo` wrote it), FROM the toolchain
and Debian runtime the first build pushed.

Time, measured on the harness machine (2 CPUs): about 4-6 minutes from an empty build cache
(toolchain with the arm64 cross compiler, two runtimes, the sample app and the cgo sample for
two platforms); under a minute with the cache warm. Tests of one module share one project and
run in file order (build, rebuild unchanged, one-line change, cgo).
"""

from __future__ import annotations

import base64
import json
import os
import platform
import re
import secrets
import shutil
import socket
import struct
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
from io import BytesIO
from pathlib import Path

import pytest
from conftest import ROOT, git, run_bakegen

sys.path.insert(0, str(Path(__file__).parent))
import harness

pytestmark = pytest.mark.slow

HARNESS_DIR = Path(os.environ.get("BUILDKIT_HARNESS_DIR", "/tmp/bakegen-buildkit"))
PREFIX = "bakegen-real-builds"
NEEDED = ("BUILDER", "REGISTRY", "GO_VERSION", "GO_DOWNLOAD_URL", "GO_SHA256_LINUX_AMD64",
          "GO_SHA256_LINUX_ARM64", "DEBIAN_MIRROR")
COMMIT_ENV = {"GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}
ACCEPT = ", ".join([
    "application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"])
AMD64, ARM64 = "linux/amd64", "linux/arm64"


# ------------------------------------------------------------------------------ the harness
def _facts() -> tuple[dict[str, str] | None, str]:
    path = HARNESS_DIR / "harness.env"
    if not path.is_file():
        return None, f"no {path}: the BuildKit harness is not up (scripts/buildkit-harness up)"
    facts = {}
    for line in path.read_text().splitlines():
        key, eq, value = line.partition("=")
        if eq and not key.startswith("#"):
            facts[key.strip()] = value.strip()
    missing = [k for k in NEEDED if k not in facts]
    if missing:
        return None, f"{path} lacks {', '.join(missing)}"
    return _reachable(facts)


def _reachable(facts: dict[str, str]) -> tuple[dict[str, str] | None, str]:
    if not shutil.which("docker"):
        return None, "no docker CLI (docker buildx drives the harness)"
    try:
        urllib.request.urlopen(f"http://{facts['REGISTRY']}/v2/", timeout=5).close()
    except OSError as e:
        return None, f"the harness registry {facts['REGISTRY']} does not answer: {e}"
    facts["TEST_BUILDER"] = os.environ.get("BAKEGEN_TEST_BUILDER") or facts["BUILDER"]
    try:
        proc = subprocess.run(["docker", "buildx", "inspect", "--bootstrap", facts["TEST_BUILDER"]],
                              capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError) as e:
        return None, f"docker buildx inspect {facts['TEST_BUILDER']}: {e}"
    if proc.returncode != 0:
        return None, f"builder {facts['TEST_BUILDER']} does not answer: {proc.stderr.strip()[:200]}"
    facts["BUILDER_PLATFORMS"] = proc.stdout
    suites = re.split(r"[,\s]+", facts.get("BASE_SUITES", "bullseye").strip())
    facts["SUITE"] = "bookworm" if "bookworm" in suites else suites[0]
    return facts, ""


FACTS, WHY_NOT = _facts()
if FACTS is None:
    pytest.skip(WHY_NOT, allow_module_level=True)
assert FACTS is not None
SUITE = FACTS["SUITE"]
ARM64_CROSS = SUITE != "bullseye"  # see the module docstring: the mirror lacks bullseye-security arm64
EMULATES_ARM64 = "linux/arm64" in FACTS["BUILDER_PLATFORMS"]
COMMITTED_REGISTRY = f"{FACTS['REGISTRY']}/{PREFIX}"  # in the definitions
REGISTRY = f"{COMMITTED_REGISTRY}/run-{secrets.token_hex(4)}"  # $REGISTRY of every build: this run's own tags
NUMBER = {"bullseye": 11, "bookworm": 12, "trixie": 13}[SUITE]


# ------------------------------------------------------------------------------ the project
def _sub(path: Path, pattern: str, repl: str, count: int = 1) -> None:
    text = path.read_text()
    new, n = re.subn(pattern, repl, text, flags=re.M | re.S)
    assert n == count, f"{path}: {pattern!r} matched {n} times, expected {count}"
    path.write_text(new)


def adapt(dest: Path) -> None:
    """bake/ and examples/ copied to dest and adapted to the harness, only as it needs."""
    assert FACTS is not None
    for name in ("bake", "examples"):
        shutil.copytree(ROOT / name, dest / name)
    bake = dest / "bake"
    _sub(bake / "bakegen.hcl", r'^registry\s*=.*?$', f'registry = "{COMMITTED_REGISTRY}"')
    _sub(bake / "bakegen.hcl", r'^debian_mirror\s*=.*?$', f'debian_mirror = "{FACTS["DEBIAN_MIRROR"]}"')
    base = f'base_image = "{FACTS["REGISTRY"]}/library/debian:{{suite}}-slim"'
    for name in ("golang-tools", "golang-build", "golang-runtime", "golang-runtime-static"):
        _sub(bake / name / "image.hcl", r'^(\s*)base_image\s*=.*?$', rf"\1{base}")
        _sub(bake / name / "image.hcl", r'^(\s*)variants\s*=.*?$', rf'\1variants = ["{SUITE}"]')
    version = FACTS["GO_VERSION"]
    for name in ("golang-tools", "golang-build"):
        tools = bake / name / "image.hcl"
        _sub(tools, r'^(\s*)versions\s*=.*?$', rf'\1versions = ["{version}"]')
        _sub(tools, r'^(\s*)go_download_url\s*=.*?$', rf'\1go_download_url = "{FACTS["GO_DOWNLOAD_URL"]}"')
        _sub(tools, r'^(\s*)go_checksums\s*=.*?$',
             rf'\1go_checksums = {{ "{version}" = {{ "linux-amd64" = "{FACTS["GO_SHA256_LINUX_AMD64"]}", '
             rf'"linux-arm64" = "{FACTS["GO_SHA256_LINUX_ARM64"]}" }} }}')
    tools = bake / "golang-tools" / "image.hcl"
    _sub(tools, r'^(\s*)protoc_version\s*=.*?$', r'\1protoc_version = ""')
    _sub(tools, r'^(\s*)tools\s*=\s*\[.*?\n\s*\]', r"\1tools = []")


def commit(path: Path, message: str) -> None:
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", message, env=COMMIT_ENV)


def generate(path: Path) -> None:
    """docker-bake.hcl and a fresh meta.hcl, as CI writes them for each build."""
    (path / "meta.hcl").unlink(missing_ok=True)
    for args in (("-o", "docker-bake.hcl"), ("meta", "-o", "meta.hcl")):
        r = run_bakegen(*args, cwd=path, env={"REGISTRY": REGISTRY})
        assert r.code == 0, r


class Build:
    """One `docker buildx bake --progress=rawjson` run: its steps and how long it took."""

    def __init__(self, stderr: str, seconds: float):
        self.seconds = seconds
        self.steps: dict[str, dict] = {}
        self.logs: list[str] = []
        for line in stderr.splitlines():
            if not line.startswith("{"):
                continue
            try:
                status = json.loads(line)
            except ValueError:
                continue
            for v in status.get("vertexes") or []:
                step = self.steps.setdefault(v["digest"], {"name": v.get("name", "")})
                # one vertex may be reported by several builds of the run (a linked target):
                # its span is the earliest start to the latest completion
                if v.get("started"):
                    step["started"] = min(step.get("started", v["started"]), v["started"], key=_time)
                if v.get("completed"):
                    step["completed"] = max(step.get("completed", v["completed"]), v["completed"], key=_time)
                if v.get("error"):
                    step["error"] = v["error"]
                step["cached"] = step.get("cached", False) or bool(v.get("cached"))
            for log in status.get("logs") or []:
                self.logs.append(base64.b64decode(log.get("data", "")).decode(errors="replace"))

    def named(self, text: str) -> list[dict]:
        return [s for s in self.steps.values() if text in s["name"]]

    def ran(self) -> list[str]:
        """Build steps (not metadata, context loading or export) that were not cache hits."""
        return sorted(s["name"] for s in self.steps.values()
                      if s.get("started") and not s["cached"] and re.match(r"\[[^\]]* \d+/\d+\] (?!FROM )", s["name"]))


def _time(stamp: str) -> float:
    """An RFC 3339 time with up to nanoseconds, as BuildKit writes it, in seconds."""
    base, _, frac = stamp.rstrip("Z").partition(".")
    return time.mktime(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) + float(f"0.{frac or 0}")


def bake(path: Path, targets: list[str], platforms: dict[str, list[str]], toolchain: bool = True) -> Build:
    assert FACTS is not None
    sets = [f"{t}.platform={','.join(p)}" for t, p in platforms.items()]
    if toolchain and not ARM64_CROSS:
        sets.append("golang-tools.args.CGO_PLATFORMS=linux/amd64=amd64:x86_64-linux-gnu")
    cmd = ["docker", "buildx", "bake", "--builder", FACTS["TEST_BUILDER"], "-f", "docker-bake.hcl", "-f", "meta.hcl",
           "--push", "--progress=rawjson", *(a for s in sets for a in ("--set", s)), *targets]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=path, env={**os.environ, "REGISTRY": REGISTRY}, capture_output=True, text=True,
                          timeout=3600, check=False)
    build = Build(proc.stderr, time.monotonic() - t0)
    if proc.returncode != 0:
        errors = [f"{s['name'][:120]}: {s['error'][:300]}" for s in build.steps.values() if s.get("error")]
        tail = "".join(build.logs)[-3000:] or proc.stderr[-3000:]
        pytest.fail(f"{' '.join(cmd)} failed:\n" + "\n".join(errors) + f"\n--- last output:\n{tail}")
    return build


# ------------------------------------------------------------------------------ the registry
def _get(ref_path: str, raw: bool = False):
    host, _, rest = REGISTRY.partition("/")
    req = urllib.request.Request(f"http://{host}/v2/{rest}/{ref_path}", headers={"Accept": ACCEPT})
    with urllib.request.urlopen(req, timeout=30) as resp:
        body = resp.read()
        return body if raw else (resp.headers.get("Docker-Content-Digest", ""), json.loads(body))


def digest(repo_tag: str) -> str:
    repo, _, tag = repo_tag.rpartition(":")
    return _get(f"{repo}/manifests/{tag}")[0]


def manifest(repo_tag: str, want: str = AMD64) -> tuple[list[str], dict, dict]:
    """(platforms in the index, the manifest of ``want``, its image config)."""
    repo, _, tag = repo_tag.rpartition(":")
    _, top = _get(f"{repo}/manifests/{tag}")
    platforms = [AMD64]
    if "manifests" in top:
        platforms = [f"{m['platform']['os']}/{m['platform']['architecture']}" for m in top["manifests"]
                     if m.get("platform", {}).get("os") != "unknown"]
        d = next(m["digest"] for m in top["manifests"]
                 if f"{m['platform']['os']}/{m['platform']['architecture']}" == want)
        _, top = _get(f"{repo}/manifests/{d}")
    config = json.loads(_get(f"{repo}/blobs/{top['config']['digest']}", raw=True))
    return platforms, top, config


def layers_holding(repo_tag: str, path: str, want: str = AMD64) -> list[bytes]:
    """The content of ``path`` in each layer of the image that holds it."""
    repo = repo_tag.rpartition(":")[0]
    found = []
    for layer in manifest(repo_tag, want)[1]["layers"]:
        with tarfile.open(fileobj=BytesIO(_get(f"{repo}/blobs/{layer['digest']}", raw=True))) as tar:
            for member in tar.getmembers():
                if member.isfile() and member.name.lstrip("./") == path:
                    data = tar.extractfile(member)
                    assert data is not None
                    found.append(data.read())
    return found


def app_tag(path: Path, target: str) -> str:
    """The first tag `bakegen meta` gave ``target``, without the registry."""
    text = (path / "meta.hcl").read_text()
    block = text[text.index(f'target "{target}"'):]
    return re.search(r'"\$\{REGISTRY\}/([^"]+)"', block).group(1)  # type: ignore[union-attr]


# ------------------------------------------------------------------------------ fixtures
TOOLCHAIN = f"common/tools/golang:{FACTS['GO_VERSION']}"
COMPILE = f"common/tools/golang-build:{FACTS['GO_VERSION']}"  # the sample app compiles on it (no cgo)
RUNTIME = f"common/runtime/golang:debian{NUMBER}"
STATIC = f"common/runtime/golang:static-debian{NUMBER}"
BASES = [TOOLCHAIN, COMPILE, RUNTIME, STATIC]
TASK1 = ["golang-tools", "golang-build", "golang-runtime", "golang-runtime-static", "ci-demo-go-dev"]
TASK1_PLATFORMS = {"golang-tools": [AMD64], "golang-build": [AMD64], "golang-runtime-static": [AMD64],
                   "golang-runtime": [AMD64, ARM64], "ci-demo-go-dev": [AMD64, ARM64]}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("real-builds") / "repo"
    path.mkdir()
    adapt(path)
    (path / ".gitignore").write_text("/docker-bake.hcl\n/meta.hcl\n")  # written per build: the tree stays clean
    git(path, "init", "-q", "-b", "main")
    commit(path, "definitions adapted to the BuildKit harness")
    generate(path)
    return path


@pytest.fixture(scope="module")
def first_build(project) -> dict:
    if not EMULATES_ARM64:
        pytest.skip(f"builder {FACTS['TEST_BUILDER']} lists no linux/arm64 (qemu binfmt): the app's arm64 build needs it")
    build = bake(project, TASK1, TASK1_PLATFORMS)
    app = app_tag(project, "ci-demo-go-dev")
    return {"build": build, "app": app, "digests": {r: digest(r) for r in [*BASES, app]}}


# ------------------------------------------------------------------------------ issue 10
def test_toolchain_runtimes_and_app_build_for_real(first_build):
    platforms, _, tools = manifest(TOOLCHAIN)
    env = dict(e.split("=", 1) for e in tools["config"]["Env"])
    assert platforms == [AMD64] and env["GOTOOLCHAIN"] == "local" and env["GOLANG_VERSION"] == FACTS["GO_VERSION"]
    assert env["CGO_PLATFORMS"].startswith("linux/amd64=amd64:x86_64-linux-gnu")
    assert tools["created"] == "2026-01-01T00:00:00Z"  # the definitions' commit, not the clock
    assert re.fullmatch(r"dev/ci-demo-go:main-[0-9a-f]{7}-202601010000", first_build["app"])  # clean tree
    platforms, _, runtime = manifest(RUNTIME)
    assert sorted(platforms) == [AMD64, ARM64] and runtime["config"]["User"] == "65532:65532"
    assert manifest(STATIC)[2]["config"]["User"] == "65532:65532"
    platforms, _, app = manifest(first_build["app"], ARM64)
    assert sorted(platforms) == [AMD64, ARM64]
    assert app["config"]["User"] == "65532:65532" and app["config"]["Entrypoint"] == ["/app/ci-demo-go"]
    assert app["config"]["Cmd"] == ["-f", "/app/etc/app_dev.yaml"]  # the seed's contract, no shell
    assert app["architecture"] == "arm64"
    # The binary is in one layer only (the config stage once copied it a second time).
    assert len(layers_holding(first_build["app"], "app/ci-demo-go")) == 1
    assert len(layers_holding(first_build["app"], "app/etc/app_dev.yaml")) == 1


def layer_paths(repo_tag: str, want: str = AMD64) -> set[str]:
    """Every file and link path of every layer of the image (the image's own files, before
    whiteouts); zstd layers (the toolchains') through the zstd command, which tarfile cannot read."""
    repo = repo_tag.rpartition(":")[0]
    paths = set()
    for layer in manifest(repo_tag, want)[1]["layers"]:
        blob = _get(f"{repo}/blobs/{layer['digest']}", raw=True)
        if layer["mediaType"].endswith("+zstd"):
            if not shutil.which("zstd"):
                pytest.skip("no zstd command to read the toolchains' zstd layers")
            blob = subprocess.run(["zstd", "-dc"], input=blob, capture_output=True, check=True).stdout
        with tarfile.open(fileobj=BytesIO(blob)) as tar:
            paths |= {m.name.lstrip("./") for m in tar.getmembers() if not m.isdir()}
    return paths


def test_the_compile_image_builds_for_real_holds_go_alone_and_the_app_builds_from_it(project, first_build):
    """Issue 23: golang-build, the image the sample app (no cgo) compiles on: Go and the CA
    certificates on Debian, no C compiler, no git, no GOROOT test data; the app's images were
    built FROM it (bake links its modules, deps and builder stages to the golang-build target of
    the same run), not FROM the toolchain; that app runs and answers (the next tests)."""
    platforms, _, image = manifest(COMPILE)
    env = dict(e.split("=", 1) for e in image["config"]["Env"])
    assert platforms == [AMD64] and env["GOLANG_VERSION"] == FACTS["GO_VERSION"]
    assert env["CGO_ENABLED"] == "0" and env["GOTOOLCHAIN"] == "local" and env["GOPATH"] == "/go"
    assert "/usr/local/go/bin" in env["PATH"].split(":") and "CGO_PLATFORMS" not in env
    paths = layer_paths(COMPILE)
    assert {"usr/local/go/bin/go", "usr/local/go/pkg/tool/linux_amd64/compile", "usr/local/go/src/strings/strings.go",
            "usr/local/go/src/go.mod", "etc/ssl/certs/ca-certificates.crt"} <= paths
    assert not [p for p in paths if p.endswith("_test.go") or "/testdata/" in p or p.startswith(
        ("usr/local/go/test/", "usr/local/go/api/", "usr/local/go/doc/", "usr/local/go/misc/"))]
    assert not {"usr/bin/gcc", "usr/bin/cc", "usr/bin/git", "usr/bin/protoc"} & paths
    assert "usr/bin/gcc" in layer_paths(TOOLCHAIN)  # where the toolchain has it
    bake_file = (project / "docker-bake.hcl").read_text()
    app = bake_file[bake_file.index('target "ci-demo-go-dev" {'):]
    assert f'"${{REGISTRY}}/{COMPILE}" = "target:golang-build"' in app[:app.index("\n}")]


def test_the_compile_image_is_a_fraction_of_the_toolchain(first_build):
    """Compressed, from the registry (linux/amd64): what a build with an empty cache pulls. The
    toolchain here has no protoc and no Go tools (the harness has no GitHub and no module proxy);
    it keeps the cgo toolchain, the -dev libraries and the arm64 cross compiler."""
    sizes = {name: harness.image_size(f"{REGISTRY}/{ref}")[AMD64]["compressed"]
             for name, ref in (("golang-tools", TOOLCHAIN), ("golang-build", COMPILE))}
    print("compressed, linux/amd64: " + ", ".join(f"{n} {s / 1e6:.1f} MB" for n, s in sizes.items()))
    assert sizes["golang-build"] < sizes["golang-tools"] / 2, sizes


def test_independent_apt_steps_run_at_the_same_time(first_build):
    """No cache mount or lock serialises them: the toolchain's apt install, its download
    stage's and the static runtime's overlap (when they were not cache hits)."""
    steps = [s for s in first_build["build"].steps.values() if "apt-get install" in s["name"]
             and not s["cached"] and s.get("started") and s.get("completed")
             and re.search(r"(golang-tools 2/\d+|fetcher 2/\d+|rootfs 2/\d+)\]", s["name"])]
    if len(steps) < 2:
        pytest.skip("the apt steps were cache hits in this run (a warm builder): nothing to compare")
    latest_start = max(_time(s["started"]) for s in steps)
    earliest_end = min(_time(s["completed"]) for s in steps)
    assert latest_start < earliest_end, [(s["name"][:60], s["started"], s["completed"]) for s in steps]


def test_nothing_changed_gives_the_same_digests_and_no_relink(project, first_build):
    generate(project)  # a fresh meta file, same commit: as CI runs it
    build = bake(project, TASK1, TASK1_PLATFORMS)
    # steps that ran (a build cache evicted in between) would give the files new times, so new digests
    assert {r: digest(r) for r in first_build["digests"]} == first_build["digests"], f"steps that ran: {build.ran()}"
    go_builds = [s for s in build.named("go build") if re.match(r"\[[^]]* builder \d+/\d+\]", s["name"])]
    assert len(go_builds) == 2 and all(s["cached"] for s in go_builds), go_builds
    assert build.ran() == [], build.ran()


class Container:
    """An image started as a container runtime starts it: its file system from the registry
    (exported by BuildKit), and its Entrypoint, Cmd, Env, User and WorkingDir from its config, by
    runc (Debian's, the harness's OCI runtime), in a network namespace of its own."""

    def __init__(self, ref: str, config: dict, bundle: Path):
        self.id = f"bakegen-test-{os.getpid()}-{time.monotonic_ns()}"
        self.bundle, self.config = bundle, config["config"]
        (bundle / "ctx").mkdir(parents=True)
        (bundle / "ctx" / "Dockerfile").write_text(f"FROM {ref}\n")
        assert FACTS is not None
        subprocess.run(["docker", "buildx", "build", "--builder", FACTS["TEST_BUILDER"], "--progress=quiet",
                        "--platform", AMD64, "--output", f"type=tar,dest={bundle / 'rootfs.tar'}", str(bundle / "ctx")],
                       check=True, capture_output=True, timeout=600)
        with tarfile.open(bundle / "rootfs.tar") as tar:
            tar.extractall(bundle / "rootfs", numeric_owner=True, filter="fully_trusted")
        subprocess.run(["runc", "spec", "--bundle", str(bundle)], check=True)
        spec = json.loads((bundle / "config.json").read_text())
        uid, _, gid = self.config["User"].partition(":")
        spec["process"].update(terminal=False, args=self.config.get("Entrypoint", []) + self.config.get("Cmd", []),
                               env=self.config["Env"], cwd=self.config.get("WorkingDir") or "/",
                               user={"uid": int(uid), "gid": int(gid or uid)})
        spec["root"] = {"path": "rootfs", "readonly": False}
        (bundle / "config.json").write_text(json.dumps(spec))

    def __enter__(self) -> Container:
        with (self.bundle / "log").open("wb") as log:
            subprocess.run(["runc", "run", "--detach", "--bundle", str(self.bundle), "--pid-file",
                            str(self.bundle / "pid"), self.id], check=True, stdin=subprocess.DEVNULL, stdout=log,
                           stderr=log, timeout=60)
        self.pid = (self.bundle / "pid").read_text().strip()
        self.netns(["ip", "link", "set", "lo", "up"])
        return self

    def netns(self, cmd: list[str]) -> subprocess.CompletedProcess:
        """Run a command of this machine in the container's network namespace."""
        return subprocess.run(["nsenter", "--target", self.pid, "--net", "--", *cmd], capture_output=True, text=True,
                              timeout=30, check=False)

    def exec(self, cmd: list[str]) -> subprocess.CompletedProcess:
        """Run a command of the image in the container (as `docker exec` does)."""
        return subprocess.run(["runc", "exec", self.id, *cmd], capture_output=True, text=True, timeout=30, check=False)

    def log(self) -> str:
        return (self.bundle / "log").read_text(errors="replace")

    def __exit__(self, *_exc: object) -> None:
        subprocess.run(["runc", "delete", "--force", self.id], capture_output=True, timeout=30, check=False)


GET = "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=2).read().decode())"


def test_the_app_image_starts_as_the_seed_starts_it_and_answers_on_health(first_build, tmp_path):
    """The sample reads its config from -f, as the seed's services do: its image, started by its
    own Entrypoint and Cmd (`/app/ci-demo-go -f /app/etc/app_dev.yaml`), as user 65532, reads
    that file (its port and message), answers /health, and its HEALTHCHECK command passes."""
    if not (shutil.which("runc") and shutil.which("nsenter") and shutil.which("ip") and os.geteuid() == 0):
        pytest.skip("starting the image needs root, runc, nsenter and ip (the harness installs runc)")
    _, _, config = manifest(first_build["app"], AMD64)
    assert config["config"]["Entrypoint"] + config["config"]["Cmd"] == ["/app/ci-demo-go", "-f", "/app/etc/app_dev.yaml"]
    with Container(f"{REGISTRY}/{first_build['app']}", config, tmp_path / "bundle") as c:
        deadline = time.monotonic() + 30
        while (health := c.netns(["python3", "-c", GET, "http://127.0.0.1:8080/health"])).returncode != 0:
            assert time.monotonic() < deadline, f"no answer on /health: {health.stderr[-300:]}\n{c.log()[-1000:]}"
            time.sleep(0.3)
        assert health.stdout.strip() == "ok"
        root = json.loads(c.netns(["python3", "-c", GET, "http://127.0.0.1:8080/"]).stdout)
        assert root == {"message": "hello from ci-demo-go (development)"}  # etc/app_dev.yaml, read through -f
        version = json.loads(c.netns(["python3", "-c", GET, "http://127.0.0.1:8080/version"]).stdout)
        assert version["env"] == "dev" and version["version"].startswith("main-")
        (check,) = [h for h in [config["config"].get("Healthcheck", {}).get("Test")] if h]
        assert check[0] == "CMD" and c.exec(check[1:]).returncode == 0
        status = c.exec(["/app/ci-demo-go", "-version"])
        assert status.returncode == 0 and "ci-demo-go main-" in status.stdout
    assert '"config":"/app/etc/app_dev.yaml"' in c.log() and '"env":"dev"' in c.log()


def test_one_line_change_rebuilds_only_the_apps_compile_and_final_layers(project, first_build):
    handler = project / "examples/repos/ci-demo-go/handler.go"
    # unique: the same change on a warm builder would be a cache hit (the builds are reproducible)
    _sub(handler, r'_, _ = w.Write\(\[\]byte\("ok"\)\)', f'_, _ = w.Write([]byte("ok")) // changed {time.time_ns()}')
    commit(project, "one line of the app")
    generate(project)
    build = bake(project, TASK1, TASK1_PLATFORMS)
    assert {r: digest(r) for r in BASES} == {r: first_build["digests"][r] for r in BASES}
    ran = build.ran()
    assert ran and all(n.startswith("[ci-demo-go-dev ") for n in ran), ran
    assert not [n for n in ran if "etc /app/etc" in n], ran  # the config folder did not change
    # One layer differs: the binary's. The runtime's layers and the config file's are the same blobs.
    before = [layer["digest"] for layer in manifest(first_build["app"])[1]["layers"]]
    after = [layer["digest"] for layer in manifest(app_tag(project, "ci-demo-go-dev"))[1]["layers"]]
    assert len(before) == len(after) and len(set(after) - set(before)) == 1, (before, after)
    assert layers_holding(app_tag(project, "ci-demo-go-dev"), "app/ci-demo-go") != layers_holding(
        first_build["app"], "app/ci-demo-go")


# ------------------------------------------------------------------------------ issue 14: cgo
CGO_PLATFORMS = [AMD64, ARM64] if ARM64_CROSS and EMULATES_ARM64 else [AMD64]


@pytest.fixture(scope="module")
def cgo_service(first_build, tmp_path_factory) -> Path:
    """The cgo sample's own repository (examples/repos/cgo-demo, as `bakegen init --app cgo-demo
    --cgo` wrote it), pointed at the harness's registry and at the bases the first build pushed."""
    path = tmp_path_factory.mktemp("cgo-service") / "cgo-demo"
    shutil.copytree(ROOT / "examples" / "repos" / "cgo-demo", path,
                    ignore=shutil.ignore_patterns("docker-bake.hcl"))
    _sub(path / "bake" / "bakegen.hcl", r'^registry\s*=.*?$', f'registry = "{COMMITTED_REGISTRY}"')
    image = path / "bake" / "cgo-demo" / "image.hcl"
    _sub(image, r'"\{registry\}/common/tools/golang:[^"]*"', f'"{{registry}}/{TOOLCHAIN}-debian{NUMBER}"')
    _sub(image, r'"\{registry\}/common/runtime/golang:[^"]*"', f'"{{registry}}/{RUNTIME}"')
    (path / ".gitignore").write_text("/docker-bake.hcl\n/meta.hcl\n")
    git(path, "init", "-q", "-b", "main")
    commit(path, "the cgo sample, on the harness")
    return path


@pytest.fixture(scope="module")
def cgo_build(cgo_service, tmp_path_factory) -> dict:
    generate(cgo_service)
    build = bake(cgo_service, ["cgo-demo"], {"cgo-demo": CGO_PLATFORMS}, toolchain=False)
    tag = app_tag(cgo_service, "cgo-demo")
    out = tmp_path_factory.mktemp("cgo")
    binaries = {}
    for p in CGO_PLATFORMS:
        (data,) = layers_holding(tag, "app/cgo-demo", p)
        binaries[p] = out / f"service-{p.replace('/', '-')}"
        binaries[p].write_bytes(data)
        binaries[p].chmod(0o755)
    return {"build": build, "tag": tag, "binaries": binaries}


def elf(path: Path) -> tuple[int, bool]:
    """(e_machine, has a PT_INTERP program header, i.e. dynamically linked) of a 64-bit ELF."""
    data = path.read_bytes()
    assert data[:4] == b"\x7fELF" and data[4] == 2, path
    machine = struct.unpack_from("<H", data, 18)[0]
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    interp = any(struct.unpack_from("<I", data, phoff + i * phentsize)[0] == 3 for i in range(phnum))
    return machine, interp


@pytest.mark.parametrize("target_platform, machine, file_says", [
    (AMD64, 62, "x86-64"), (ARM64, 183, "ARM aarch64")])
def test_cgo_binary_is_linked_for_its_platform(cgo_build, target_platform, machine, file_says):
    if target_platform not in cgo_build["binaries"]:
        pytest.skip(f"no {target_platform} cgo build on Debian {SUITE} here: the harness's mirror lacks "
                    "bullseye-security arm64 packages (run the harness with HARNESS_SUITES='bullseye bookworm')"
                    if not ARM64_CROSS else "the builder cannot run linux/arm64 (qemu binfmt)")
    binary = cgo_build["binaries"][target_platform]
    assert elf(binary) == (machine, True)  # dynamically linked: cgo, against the C library
    if shutil.which("file"):
        out = subprocess.run(["file", str(binary)], capture_output=True, text=True, check=True).stdout
        assert file_says in out and "dynamically linked" in out, out
    arch = target_platform.split("/")[1]
    steps = [s for s in cgo_build["build"].named("go build") if f'GOARCH="{arch}"' in s["name"]]
    assert steps and all('CGO_ENABLED=1 ' in s["name"] for s in steps), [s["name"][-400:] for s in steps]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cgo_amd64_binary_serves_health_and_version(cgo_build):
    if platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip(f"this machine is {platform.machine()}, the binary linux/amd64")
    binary = cgo_build["binaries"][AMD64]
    probe = subprocess.run([str(binary), "-version"], capture_output=True, text=True, timeout=30, check=False)
    if probe.returncode != 0 and "GLIBC_" in probe.stderr:
        pytest.skip(f"this machine's C library is older than Debian {SUITE}'s: {probe.stderr.strip()[:200]}")
    assert probe.returncode == 0 and "glibc 2." in probe.stdout, probe
    port = _free_port()
    proc = subprocess.Popen([str(binary), "-port", str(port)], env={**os.environ, "APP_ENV": "test"},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    assert r.status == 200 and r.read() == b"ok"
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline and proc.poll() is None, "the service did not come up"
                time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/version", timeout=5) as r:
            info = json.loads(r.read())
        assert info["platform"] == AMD64 and info["env"] == "test" and re.fullmatch(r"2\.\d+", info["libc"]), info
        assert len(info["commit"]) == 7 and info["version"].startswith("main-"), info
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/hash?text=hello", timeout=5) as r:
            assert json.loads(r.read())["fnv1a32"] == "4f9f2cab"
        assert subprocess.run([str(binary), "-healthcheck", "-port", str(port)], timeout=30, check=False).returncode == 0
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_cgo_binaries_run_in_their_runtime_image(cgo_build, tmp_path):
    """Each platform's image runs its binary (arm64 under emulation): the C library it needs is
    in the Debian runtime. bash's /dev/tcp stands in for curl, which the runtime has not."""
    assert FACTS is not None
    # Build steps share the host's network: each platform (and each run) listens on a port of its own,
    # or one platform's probe could reach the other's service (seen once: arm64 answered linux/amd64).
    ports = {"amd64": _free_port(), "arm64": _free_port()}
    script = ('v=PORT_$TARGETARCH; port=${!v}; /app/cgo-demo -port $port & for i in $(seq 50); do '
              '/app/cgo-demo -healthcheck -port $port && break; sleep 0.2; done; exec 3<>/dev/tcp/127.0.0.1/$port; '
              'printf "GET /version HTTP/1.0\\r\\n\\r\\n" >&3; sed -n "\\$p" <&3 > /tmp/version.json')
    (tmp_path / "Dockerfile").write_text(
        f"FROM {REGISTRY}/{cgo_build['tag']} AS run\nARG TARGETARCH\n"
        f"ENV PORT_amd64={ports['amd64']} PORT_arm64={ports['arm64']}\nRUN [\"bash\", \"-c\", {json.dumps(script)}]\n"
        "FROM scratch\nCOPY --from=run /tmp/version.json /\n")
    out = tmp_path / "out"
    cmd = ["docker", "buildx", "build", "--builder", FACTS["TEST_BUILDER"], "--progress=quiet", "--no-cache",
           "--platform", ",".join(CGO_PLATFORMS), "--output", f"type=local,dest={out}", str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for p in CGO_PLATFORMS:
        path = out / p.replace("/", "_") / "version.json" if len(CGO_PLATFORMS) > 1 else out / "version.json"
        info = json.loads(path.read_text())
        assert info["platform"] == p and re.fullmatch(r"2\.\d+", info["libc"]) and info["env"] == "dev", info
