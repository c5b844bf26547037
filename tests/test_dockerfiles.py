"""Static tests of the Dockerfiles under bake/ (BuildKit's own parser, the ``dockerfile`` package).

Besides reading them, a few run what they use with /bin/sh: the ``pick``, ``fetch`` and
``go-release`` helper scripts (bake/lib, the bakegen-lib context) and RUN snippets, with stub
commands (curl, apt-get, dpkg, go, ...) on PATH and paths redirected into a temp folder, so
neither Docker nor the network is needed. Those skip
where /bin/sh is missing. The cgo contract (CGO_ENABLED, CGO_PLATFORMS, the builder's platform)
is checked against the bake file bakegen generates, as tests/test_images_vs_bake.py does for the
other args. Real builds are in tests/test_real_builds.py.
"""

from __future__ import annotations

import functools
import hashlib
import re
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import dockerfile
import pytest
from conftest import ROOT, building_targets, run_bakegen, targets_of

BAKE = ROOT / "bake"
EXAMPLE = ROOT / "examples" / "repos" / "ci-demo-go"
NONROOT = "65532:65532"
DEFAULT_BASE_IMAGE = "debian:trixie-slim"
AUTOMATIC_ARGS = {f"{side}{part}" for side in ("TARGET", "BUILD") for part in ("PLATFORM", "OS", "ARCH", "VARIANT")}
EXPECTED = {"golang-tools", "golang-build", "golang-runtime", "golang-runtime-static"}
LIB = BAKE / "lib"  # the bakegen-lib context: scripts the Dockerfiles share
GO_IMAGES = ("golang-tools", "golang-build")  # the images that download Go (bake/lib/go-release)
NON_ROOT_IMAGES = ["golang-runtime", "golang-runtime-static", "ci-demo-go"]
# The seed's toolchain packages (its cgo toolchain and -dev libraries).
SEED_APT_PACKAGES = {"git", "g++", "gcc", "make", "cmake", "pkg-config", "binutils", "libc6-dev", "libstdc++6",
                     "libssl-dev", "libsasl2-dev", "libzstd-dev", "libcurl4-openssl-dev", "libprotobuf-dev"}
# Commands a Debian slim image lacks, and the packages that provide them.
APT_TOOLS = {"curl": {"curl"}, "wget": {"wget"}, "unzip": {"unzip"}, "git": {"git"}, "gpg": {"gnupg", "gpg"},
             "xz": {"xz-utils"}, "make": {"make"}, "cmake": {"cmake"}, "gcc": {"gcc"}, "g++": {"g++"}}


# --------------------------------------------------------------------------- parsing helpers
@dataclass
class Stage:
    index: int
    base: str
    name: str | None
    platform: str | None
    commands: list = field(default_factory=list)

    def of(self, cmd: str) -> list:
        return [c for c in self.commands if c.cmd == cmd]


@dataclass
class Parsed:
    path: Path
    text: str
    commands: list
    global_args: dict
    stages: list

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    def stage(self, name: str) -> Stage:
        return next(s for s in self.stages if s.name == name)

    def lineage(self, stage: Stage) -> list[Stage]:
        """The stage and its ancestors through FROM <stage>, nearest first."""
        out = [stage]
        while (p := next((s for s in self.stages[: out[-1].index] if s.name == out[-1].base), None)) is not None:
            out.append(p)
        return out


def split_arg(value: str) -> tuple[str, str | None]:
    name, eq, default = value.partition("=")
    if len(default) >= 2 and default[0] == default[-1] and default[0] in "\"'":
        default = default[1:-1]
    return name, default if eq else None


def flag_values(command, name: str) -> list[str]:
    return [f.split("=", 1)[1] for f in command.flags if f.startswith(f"--{name}=")]


def mounts(command) -> list[dict]:
    return [dict(kv.partition("=")[::2] for kv in m.split(",")) for m in flag_values(command, "mount")]


def run_text(command) -> str:
    return " ".join(command.value)


@functools.cache
def parse(path: Path) -> Parsed:
    commands = dockerfile.parse_file(str(path))
    global_args: dict = {}
    stages: list[Stage] = []
    for c in commands:
        if c.cmd == "FROM":
            v = c.value
            name = v[2] if len(v) >= 3 and v[1].upper() == "AS" else None
            stages.append(Stage(len(stages), v[0], name, next(iter(flag_values(c, "platform")), None)))
        elif stages:
            stages[-1].commands.append(c)
        else:
            assert c.cmd == "ARG", f"{path}: only ARG may precede the first FROM, got {c.cmd}"
            name, default = split_arg(c.value[0])
            global_args[name] = default
    return Parsed(path, path.read_text(), commands, global_args, stages)


def stage_args(stage: Stage) -> dict:
    return dict(split_arg(c.value[0]) for c in stage.of("ARG"))


def env_pairs(stage: Stage) -> dict:
    out = {}
    for c in stage.of("ENV"):
        out.update(zip(c.value[0::2], c.value[1::2], strict=True))
    return out


def apt_installed(stage: Stage) -> set[str]:
    pkgs: set[str] = set()
    for c in stage.of("RUN"):
        for m in re.finditer(r"apt-get\s+install\s+([^;&|]*)", run_text(c)):
            pkgs.update(w for w in m.group(1).split() if not w.startswith("-"))
    return pkgs


SHELL_SPLIT = re.compile(r"\n|\$\(|;|&&|\|\||\||\(|\)|\b(?:then|do|else|elif|if|while|until)\b|!\s")


def shell_commands(script: str) -> list[str]:
    """The command names of a shell snippet (rough, but enough for lint-style checks)."""
    names = []
    for part in SHELL_SPLIT.split(script):
        segment = re.sub(r"^(\s*[A-Za-z_][A-Za-z0-9_]*=(\"[^\"]*\"|'[^']*'|\S*)\s*)+", "", part).strip()
        if segment:
            names.append(segment.split()[0])
    return names


# The default output and its per-build file, as bake reads them (inherits merged).
TARGETS = building_targets(run_bakegen(cwd=ROOT).stdout)
CGO_REPO = ROOT / "examples" / "repos" / "cgo-demo"  # a service repository: the cgo sample
CGO_TARGETS = building_targets(run_bakegen(cwd=CGO_REPO).stdout)

# The Dockerfiles bakegen generates for the apps, as files (the parser reads files).
_GENERATED = Path(tempfile.mkdtemp(prefix="bakegen-generated-"))
GENERATED = {}
for _name, _target in (("ci-demo-go", TARGETS["ci-demo-go-prd"]), ("cgo-demo", CGO_TARGETS["cgo-demo"])):
    GENERATED[_name] = _GENERATED / _name / "Dockerfile"
    GENERATED[_name].parent.mkdir()
    GENERATED[_name].write_text(_target["dockerfile-inline"])
DOCKERFILES = sorted(BAKE.glob("*/Dockerfile")) + list(GENERATED.values())
IDS = [p.parent.name for p in DOCKERFILES]
TOOLS = BAKE / "golang-tools" / "Dockerfile"
COMPILE = BAKE / "golang-build" / "Dockerfile"
APP_DOCKERFILE = GENERATED["ci-demo-go"]


def tools_df() -> Parsed:
    return parse(TOOLS)


def app_df() -> Parsed:
    return parse(APP_DOCKERFILE)


def image_dockerfile(image: str) -> Path:
    return GENERATED.get(image) or BAKE / image / "Dockerfile"


@pytest.fixture(scope="module")
def per_build():
    r = run_bakegen("meta", "--branch", "main", "--commit", "0" * 40, cwd=ROOT, env={"SOURCE_DATE_EPOCH": "1751412000"})
    assert r.code == 0, r
    return targets_of(r.stdout)


def dockerfile_of_target(name: str) -> Parsed:
    t = TARGETS[name]
    if "dockerfile-inline" in t:
        return parse(GENERATED[t["inherits"][0].removeprefix("_")])
    return parse((ROOT / t["context"] / t["dockerfile"]).resolve())


# --------------------------------------------------------------------------- every Dockerfile
def test_expected_dockerfiles_exist():
    """The base images' Dockerfiles are files under bake/; the apps' are generated (no copies)."""
    assert {p.parent.name for p in BAKE.glob("*/Dockerfile")} == EXPECTED


@pytest.mark.parametrize("path", DOCKERFILES, ids=IDS)
def test_no_syntax_line(path):
    """A `# syntax=` directive makes BuildKit pull a frontend image from Docker Hub; the built-in
    frontend has all these files use."""
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        assert not re.match(r"#\s*syntax\s*=", line, re.I), line


@pytest.mark.parametrize("path", DOCKERFILES, ids=IDS)
def test_parses_into_named_stages(path):
    df = parse(path)
    names = [s.name for s in df.stages if s.name]
    assert df.stages and len(names) == len(set(names)), names
    assert len(df.stages) == 1 or all(s.name for s in df.stages), "name every stage of a multi-stage file"


@pytest.mark.parametrize("path", DOCKERFILES, ids=IDS)
def test_header_documents_every_arg(path):
    header = "\n".join(line for line in path.read_text().split("\n\n")[0].splitlines() if line.startswith("#"))
    df = parse(path)
    declared = set(df.global_args) | {n for s in df.stages for n in stage_args(s)}
    for name in declared - AUTOMATIC_ARGS:
        assert name in header, f"{path}: ARG {name} is not described in the header comment"


@pytest.mark.parametrize("path", DOCKERFILES, ids=IDS)
def test_no_latest_anywhere(path):
    assert "@latest" not in path.read_text()
    assert not any(s.base.endswith(":latest") for s in parse(path).stages)


@pytest.mark.parametrize("path", DOCKERFILES, ids=IDS)
def test_run_shells_start_with_set_eux(path):
    for c in parse(path).commands:
        if c.cmd == "RUN":
            assert not c.json, f"{path}:{c.start_line}: use the shell form with set -eux"
            assert run_text(c).lstrip().startswith("set -eux"), f"{path}:{c.start_line}"


UNPACK = re.compile(r"\btar\b[^;&|\n]*?\s-[A-Za-z]*x[A-Za-z]*\b|\bunzip\b")


@pytest.mark.parametrize("path", DOCKERFILES, ids=IDS)
def test_downloads_only_through_fetch_and_verified_before_unpacking(path):
    """RUN steps never call curl or wget themselves, and unpack only what `fetch` (download,
    then sha256sum -c) brought in earlier in the same RUN; ADD takes no URL."""
    for c in parse(path).commands:
        if c.cmd == "ADD":
            assert not any(v.startswith(("http://", "https://", "git@")) for v in c.value), c.start_line
        if c.cmd != "RUN":
            continue
        text = re.sub(r"apt-get\s+install\s+[^;&|]*", "apt-get install", run_text(c))
        assert not {"curl", "wget"} & set(shell_commands(text)), f"{path}:{c.start_line}"
        for m in UNPACK.finditer(text):
            assert re.search(r"\bfetch\s", text[: m.start()]), f"{path}:{c.start_line}: unpacks what it did not fetch"


def lib_copies(df: Parsed, stage: Stage) -> list[str]:
    """The bake/lib scripts a stage (or one it is FROM) copies from the bakegen-lib context."""
    return [name for s in df.lineage(stage) for c in s.of("COPY") if flag_values(c, "from") == ["bakegen-lib"]
            for name in c.value[:-1]]


def test_fetch_checks_the_sha256_before_returning():
    script = "\n".join(line for line in (LIB / "fetch").read_text().splitlines() if not line.startswith("#"))
    curl, check = script.index("curl "), script.index("sha256sum -c")
    assert curl < check and 'rm -f "$file"' in script[check:] and "exit 1" in script[check:]
    assert not UNPACK.search(script)


@pytest.mark.parametrize("image", GO_IMAGES)
def test_go_comes_from_the_one_shared_verified_download(image):
    """Both images that hold Go get it from bake/lib/go-release (pick, fetch: checked with
    sha256sum before unpacking), copied from the bakegen-lib context, not from a copy of it."""
    df = parse(BAKE / image / "Dockerfile")
    fetcher = df.stage("fetcher")
    (copy,) = [c for c in fetcher.of("COPY") if flag_values(c, "from") == ["bakegen-lib"]]
    assert copy.value == ("pick", "fetch", "go-release", "/usr/local/bin/") and "--chmod=0755" in copy.flags
    assert not [c for c in df.commands if c.cmd == "COPY" and c.heredocs]  # no script of its own
    (host,) = df.stage("go-host").of("RUN")
    assert run_text(host).split("; ")[-1].strip() == "go-release host"
    (target,) = df.stage("go").of("RUN")
    assert "go-release target /opt/go-host;" in run_text(target) + ";"
    assert mounts(target) == [{"type": "bind", "from": "go-host", "source": "/usr/local/go", "target": "/opt/go-host"}]
    assert {"GOLANG_FILES", "GOLANG_DOWNLOAD_URL", "GOLANG_VERSION", "TARGETPLATFORM", "BUILDPLATFORM",
            "TARGETARCH", "TARGETVARIANT", "BUILDARCH"} <= set(stage_args(df.stage("go")))


def test_go_release_unpacks_only_what_fetch_verified():
    script = (LIB / "go-release").read_text()
    download = script[script.index("download() {"):script.index("\n}\n", script.index("download() {"))]
    assert download.index('"$here/fetch"') < download.index("tar -C /usr/local -xzf")
    assert [m.start() for m in UNPACK.finditer(script)] == [script.index("tar -C /usr/local -xzf")]
    assert not {"curl", "wget"} & set(shell_commands(script))


@pytest.mark.parametrize("path", DOCKERFILES, ids=IDS)
def test_tools_used_are_installed_by_apt(path):
    df = parse(path)
    for stage in df.stages:
        available = set().union(*(apt_installed(s) for s in df.lineage(stage)))
        scripts = [run_text(c) for c in stage.of("RUN")]
        scripts += [h.content for s in df.lineage(stage) for c in s.of("COPY") for h in c.heredocs or ()]
        scripts += [(LIB / name).read_text() for name in lib_copies(df, stage)]
        for script in scripts:
            for name in shell_commands(re.sub(r"apt-get\s+install\s+[^;&|]*", "", script)):
                if name in APT_TOOLS and stage.base not in ("${TOOLCHAIN_IMAGE}",):
                    assert APT_TOOLS[name] & available, f"{path} ({stage.name}): {name} used, never installed"


@pytest.mark.parametrize("path", DOCKERFILES, ids=IDS)
def test_apt_runs_apply_the_mirror_first_and_lock_nothing(path):
    """apt-get update runs after bake/lib/apt-mirror rewrote the sources (in that RUN or an
    ancestor stage's), and with no shared cache mount: independent apt steps run in parallel."""
    df = parse(path)
    for stage in df.stages:
        for c in stage.of("RUN"):
            text = run_text(c)
            if "apt-get" not in text:
                continue
            apt_mounts = [m for m in mounts(c) if "/apt" in m.get("target", "")]
            assert not apt_mounts, f"{path}:{c.start_line}: {apt_mounts} would be shared, locked or not, by apt steps"
            assert text.index("apt-get update") < text.index("apt-get install") and "--no-install-recommends" in text
            if stage in df.lineage(df.final):  # exported: no package lists in the image
                assert "rm -rf /var/lib/apt/lists/*" in text, f"{path}:{c.start_line}"
            earlier = [run_text(r) for s in df.lineage(stage)[1:] for r in s.of("RUN")]
            earlier += [run_text(r) for r in stage.of("RUN") if r.start_line < c.start_line]
            earlier.append(text[: text.index("apt-get update")])
            mirror = [t for t in earlier if 'sh /opt/bakegen-lib/apt-mirror "$DEBIAN_MIRROR"' in t]
            assert mirror, f"{path}:{c.start_line}: apt-get update without the DEBIAN_MIRROR rewrite"
    declared = set(df.global_args) | {n for s in df.stages for n in stage_args(s)}
    assert ("DEBIAN_MIRROR" in declared) == ("apt-get" in df.text)


@pytest.mark.parametrize("path", DOCKERFILES, ids=IDS)
def test_copies_from_stages_are_linked_and_known(path):
    df = parse(path)
    for stage in df.stages:
        earlier = {s.name for s in df.stages[: stage.index] if s.name}
        for c in stage.of("COPY"):
            if flag_values(c, "from"):
                assert "--link" in c.flags and flag_values(c, "from")[0] in earlier | {"bakegen-lib"}, \
                    f"{path}:{c.start_line}"
        for c in stage.of("RUN"):
            for m in mounts(c):
                assert "from" not in m or m["from"] in earlier | {"bakegen-lib"}, f"{path}:{c.start_line}: {m}"


@pytest.mark.parametrize("path", DOCKERFILES, ids=IDS)
def test_build_args_are_declared_in_the_stage_that_uses_them(path):
    """A global ARG (or TARGET*/BUILD*) is empty inside a stage unless redeclared there."""
    df = parse(path)
    known = set(df.global_args) | AUTOMATIC_ARGS | {n for s in df.stages for n in stage_args(s)}
    for stage in df.stages:
        declared = set(stage_args(stage)) | {n for s in df.lineage(stage) for n in env_pairs(s)}
        for c in stage.commands:
            if c.cmd == "ARG":
                continue
            for name in re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", " ".join([*c.value, *c.flags])):
                assert name not in known or name in declared, f"{path}:{c.start_line}: ${name} without ARG"
    for s in df.stages:
        for name in re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", f"{s.base} {s.platform or ''}"):
            assert name in set(df.global_args) | AUTOMATIC_ARGS, f"{path}: FROM uses ${name}"


@pytest.mark.parametrize("path", DOCKERFILES, ids=IDS)
def test_exec_form_for_entrypoint_cmd_healthcheck(path):
    for c in parse(path).commands:
        if c.cmd in ("ENTRYPOINT", "CMD"):
            assert c.json, f"{path}:{c.start_line}"
        if c.cmd == "HEALTHCHECK":
            assert c.json and c.value[0] == "CMD", f"{path}:{c.start_line}"


@pytest.mark.parametrize("image", NON_ROOT_IMAGES)
def test_final_stage_runs_as_numeric_non_root_65532(image):
    """The last stage (an app's env stage) or the stages it is FROM set the user and /app."""
    df = parse(image_dockerfile(image))
    lineage = list(reversed(df.lineage(df.final)))
    users = [c for s in lineage for c in s.of("USER")]
    assert users and users[-1].value[0] == NONROOT
    workdirs = [c for s in lineage for c in s.of("WORKDIR")]
    if image in ("golang-runtime", "golang-runtime-static"):
        assert workdirs[-1].value[0] == "/app"
    else:  # an app: no WORKDIR of its own (a step re-run with every commit): the runtime's /app
        assert not workdirs and lineage[0].base == "${RUNTIME_IMAGE}"


@pytest.mark.parametrize("image", ["golang-tools", "golang-build", "golang-runtime", "golang-runtime-static"])
def test_base_images_start_from_the_base_image_arg(image):
    df = parse(BAKE / image / "Dockerfile")
    assert df.global_args["BASE_IMAGE"] == DEFAULT_BASE_IMAGE
    for s in df.stages:
        assert s.base in ("${BASE_IMAGE}", "scratch") or s.base in {x.name for x in df.stages}, s.base


# --------------------------------------------------------------------------- the bake file
@pytest.mark.parametrize("name", sorted(TARGETS))
def test_bake_passes_only_declared_args_and_every_required_one(name, per_build):
    df = dockerfile_of_target(name)
    declared = set(df.global_args) | {n for s in df.stages for n in stage_args(s)}
    required = {n for n, d in df.global_args.items() if d is None} | {
        n for s in df.stages for n, d in stage_args(s).items() if d is None} - AUTOMATIC_ARGS
    passed = set(TARGETS[name].get("args", {})) | set(per_build[name].get("args", {})) - {"SOURCE_DATE_EPOCH"}
    assert passed <= declared, passed - declared
    assert required <= passed, required - passed


def test_default_apps_run_on_the_debian_runtime():
    """Every app of the default output is FROM ${RUNTIME_IMAGE}, which bake maps to the Debian
    runtime target (FROM ${BASE_IMAGE}, a shell and the C library), as the seed's app was."""
    apps = [n for n, t in TARGETS.items() if "RUNTIME_IMAGE" in t.get("args", {})]
    assert {"ci-demo-go-prd", "ci-demo-go-dev", "ci-demo-go-test"} == set(apps)
    for name in apps:
        t = TARGETS[name]
        df = dockerfile_of_target(name)
        assert df.lineage(df.stage(t["target"]))[-1].base == "${RUNTIME_IMAGE}"
        assert t["contexts"][t["args"]["RUNTIME_IMAGE"]] == "target:golang-runtime"
    assert parse(BAKE / "golang-runtime" / "Dockerfile").final.base == "${BASE_IMAGE}"


def test_file_args_cover_every_platform_the_toolchain_builds():
    t = TARGETS["golang-tools"]
    files = {pair.split("=")[0] for pair in t["args"]["GOLANG_FILES"].split()}
    assert set(t["platforms"]) <= files
    assert {pair.split("=")[0] for pair in t["args"]["PROTOC_FILES"].split()} == set(t["platforms"])
    assert "GOLANG_SHA256" not in t["args"] and "GOLANG_SHA256" not in TOOLS.read_text()


def test_no_unpinned_tool_in_args():
    for t in TARGETS.values():
        assert not any("@latest" in v for v in t.get("args", {}).values())
    for tool in TARGETS["golang-tools"]["args"]["GO_TOOLS"].split():
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._~/-]*@v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?", tool), tool


# --------------------------------------------------------------------------- cgo against the bake file
def test_cgo_args_and_stages_match_the_bake_file():
    """cgo-demo gets CGO_ENABLED=1, which the app's builder declares; the builder runs on the
    build platform and reads CGO_PLATFORMS from the toolchain image, whose bake target passes
    every platform of the app with the dpkg arch and GNU triplet of bakegen's table, and whose
    final stage declares the arg and keeps it as ENV."""
    from bakegen.platforms import ARCHES

    app, tools = CGO_TARGETS["cgo-demo"], TARGETS["golang-tools"]
    toolchain = app["args"]["TOOLCHAIN_IMAGE"]  # the published toolchain the base images build
    assert app["contexts"][toolchain] == f"docker-image://{toolchain}" and toolchain.startswith("REGISTRY/common/tools/golang:")
    df = parse(GENERATED["cgo-demo"])
    builder = df.stage("builder")
    assert df.stage("modules").platform == "$BUILDPLATFORM" and df.stage("modules").base == "${TOOLCHAIN_IMAGE}"
    assert builder.base == "deps" and df.stage("deps").base == "modules"
    assert {"TARGETPLATFORM", "BUILDPLATFORM"} <= set(stage_args(builder)) & set(stage_args(df.stage("deps")))
    (build,) = [c for c in builder.of("RUN") if "go build" in run_text(c)]
    assert "CGO_ENABLED=1 " in run_text(build) and "CGO_ENABLED=0 " in run_text(
        next(c for c in app_df().stage("builder").of("RUN") if "go build" in run_text(c)))
    assert "${CGO_PLATFORMS:-}" in run_text(build) and "CGO_PLATFORMS" not in stage_args(builder)
    assert tools["args"]["CGO_PLATFORMS"] == CGO  # Debian's names, not bakegen's table read back
    table = dict(entry.split("=", 1) for entry in tools["args"]["CGO_PLATFORMS"].split())
    for p in app["platforms"]:
        assert table[p] == f"{ARCHES[p].dpkg}:{ARCHES[p].gnu_triplet}"
    final = tools_df().final
    assert "CGO_PLATFORMS" in stage_args(final) and env_pairs(final)["CGO_PLATFORMS"] == "${CGO_PLATFORMS}"
    cross = next(c for c in final.of("RUN") if "$CGO_PLATFORMS" in run_text(c) and "apt-get install" in run_text(c))
    native = next(c for c in final.of("RUN") if "apt-get install" in run_text(c))
    assert native.start_line < cross.start_line  # a new platform does not re-run the native install


# Debian's multiarch triplets (dpkg-architecture -qDEB_HOST_MULTIARCH) and cross gcc packages.
DEBIAN_TRIPLETS = {"linux/amd64": "amd64:x86_64-linux-gnu", "linux/arm64": "arm64:aarch64-linux-gnu",
                   "linux/arm/v7": "armhf:arm-linux-gnueabihf", "linux/arm/v5": "armel:arm-linux-gnueabi",
                   "linux/386": "i386:i686-linux-gnu", "linux/ppc64le": "ppc64el:powerpc64le-linux-gnu",
                   "linux/s390x": "s390x:s390x-linux-gnu", "linux/mips64le": "mips64el:mips64el-linux-gnuabi64",
                   "linux/riscv64": "riscv64:riscv64-linux-gnu"}


def test_platform_table_has_debians_cross_triplets():
    from bakegen.platforms import ARCHES, cgo_platforms

    assert dict(e.split("=", 1) for e in cgo_platforms(list(ARCHES)).split()) == DEBIAN_TRIPLETS
    assert ARCHES["linux/arm/v6"].gnu_triplet is None  # Debian's armhf gcc emits ARMv7


@pytest.fixture
def project(tmp_path):
    """This repository's definitions plus the cgo sample defined beside the base images."""
    dest = tmp_path / "project"
    shutil.copytree(BAKE, dest / "bake")
    shutil.copytree(ROOT / "examples", dest / "examples")
    app = dest / "bake" / "cgo-demo"
    shutil.copytree(CGO_REPO / "bake" / "cgo-demo", app)
    hcl = (app / "image.hcl").read_text()
    for old, new in (('context     = "../.."', 'context     = "../../examples/repos/cgo-demo"'),
                     ('"{registry}/common/tools/golang:1.27-debian13"', '"golang-tools"'),
                     ('"{registry}/common/runtime/golang:debian13"', '"golang-runtime"')):
        assert old in hcl, old
        hcl = hcl.replace(old, new)
    (app / "image.hcl").write_text(hcl)
    assert run_bakegen(cwd=dest).code == 0
    return dest


@pytest.mark.parametrize("edit, message", [
    (('runtime   = "golang-runtime"', 'runtime   = "golang-runtime-static"'),
     'cgo = true builds a binary that needs a C library, which the static runtime "golang-runtime-static" has not'),
    (("envs   = [\"dev\"]", 'envs   = ["dev"]\n  platforms = ["linux/amd64", "linux/arm/v6"]'),
     "cgo = true, but Debian has no C cross compiler for linux/arm/v6"),
])
def test_cgo_app_that_cannot_work_is_refused(project, edit, message):
    app = project / "bake/cgo-demo/image.hcl"
    app.write_text(app.read_text().replace(*edit))
    if "arm/v6" in edit[1]:
        (project / "bake/bakegen.hcl").write_text((project / "bake/bakegen.hcl").read_text().replace(
            'platforms = ["linux/amd64", "linux/arm64"]', 'platforms = ["linux/amd64", "linux/arm64", "linux/arm/v6"]'))
        tools = project / "bake/golang-tools/image.hcl"  # protoc publishes nothing for arm/v6
        tools.write_text(tools.read_text().replace('protoc_version      = "30.2"', 'protoc_version      = ""'))
    r = run_bakegen(cwd=project)
    assert r.code == 2 and message in r.stderr, r
    assert len(r.stderr.strip().splitlines()[-1:]) == 1


def test_cgo_app_on_an_older_debian_than_its_toolchain_is_refused(project):
    runtime = project / "bake/golang-runtime/image.hcl"
    runtime.write_text(runtime.read_text().replace('variants    = ["trixie"]', 'variants    = ["bookworm"]'))
    r = run_bakegen(cwd=project)
    assert r.code == 2 and "links against Debian trixie's C library" in r.stderr, r


def line_of(path: Path, needle: str) -> int:
    return next(n for n, text in enumerate(path.read_text().splitlines(), 1) if needle in text)


def test_cgo_app_on_the_compile_image_of_the_same_bake_is_refused_with_the_fix(project):
    """Issue 23: golang-build's definition says it has no C compiler (cgo = false): a cgo app
    that builds FROM it is refused at generation time, one line naming the app's cgo line, the
    definition that says so and the toolchain of the same bake/ that has one."""
    app = project / "bake/cgo-demo/image.hcl"
    app.write_text(app.read_text().replace('toolchain = "golang-tools"', 'toolchain = "golang-build"'))
    r = run_bakegen(cwd=project)
    build = project / "bake/golang-build/image.hcl"
    assert r.code == 2 and r.stdout == "" and r.stderr.strip() == (
        f'bakegen: error: bake/cgo-demo/image.hcl:{line_of(app, "cgo          = true")}: app "cgo-demo": cgo = true '
        f'needs a C compiler, which the toolchain "golang-build" has not (cgo = false, '
        f'bake/golang-build/image.hcl:{line_of(build, "cgo = false")}): set toolchain = "golang-tools", or set cgo = false')
    tools = project / "bake/golang-tools/image.hcl"  # no toolchain beside it has one: say what to define
    tools.write_text(tools.read_text().replace("  cgo = true", "  cgo = false"))
    assert 'define a toolchain with a C compiler beside it (golang-tools' in run_bakegen(cwd=project).stderr
    build.write_text(build.read_text().replace("  cgo = false", "  cgo = true"))  # it says it has one now
    assert run_bakegen(cwd=project).code == 0


@pytest.mark.parametrize("key, value, arg", [("tools", '["gotest.tools/gotestsum@v1.13.0"]', "GO_TOOLS"),
                                             ("protoc_version", '"30.2"', "PROTOC_VERSION")])
def test_a_toolchain_key_its_dockerfile_cannot_honour_is_refused(project, key, value, arg):
    """The compile image's Dockerfile installs no Go tools and no protoc: asking for them there
    would build an image without them, silently."""
    build = project / "bake/golang-build/image.hcl"
    build.write_text(build.read_text().replace("  cgo = false", f"  cgo = false\n  {key} = {value}"))
    r = run_bakegen(cwd=project)
    assert r.code == 2 and f"bake/golang-build/image.hcl:{line_of(build, key + ' = ')}: {key} is set, but " \
        f"bake/golang-build/Dockerfile declares no ARG {arg}" in r.stderr, r


# --------------------------------------------------------------------------- golang-tools
def test_tools_stage_layout():
    df = tools_df()
    for name in ("fetcher", "go-host", "go", "protoc", "tools"):
        df.stage(name)
    assert df.stage("fetcher").platform == "$BUILDPLATFORM"
    final = df.final
    copied = {flag_values(c, "from")[0]: c.value[-1] for c in final.of("COPY") if flag_values(c, "from")}
    assert copied == {"go": "/usr/local/go", "protoc": "/usr/local/", "tools": "/go/bin/"}
    assert SEED_APT_PACKAGES | {"ca-certificates"} <= apt_installed(final)
    assert not {"curl", "wget", "unzip"} & set().union(*(apt_installed(s) for s in df.lineage(final)))
    assert apt_installed(df.stage("fetcher")) == {"ca-certificates", "curl"}  # only what it uses
    assert final.of("WORKDIR")[-1].value[0] == "/go" and not final.of("USER")


def test_tools_environment():
    env = env_pairs(tools_df().final)
    assert env["GOTOOLCHAIN"] == "local" and env["GOPATH"] == "/go"
    assert env["GOPROXY"] == "${GOPROXY}" and env["GOSUMDB"] == "${GOSUMDB}"
    assert {"/usr/local/go/bin", "/go/bin"} <= set(env["PATH"].split(":"))


def test_toolchain_apt_layer_does_not_depend_on_the_go_version():
    """An ARG before a RUN is part of its cache key: a Go bump must reuse the apt layers."""
    final = tools_df().final
    first_apt = next(c for c in final.of("RUN") if "apt-get install" in run_text(c))
    before = {c.value[0].split("=")[0] for c in final.commands if c.cmd == "ARG" and c.start_line < first_apt.start_line}
    assert not before & {"GOLANG_VERSION", "GOPROXY", "GOSUMDB", "GO_TOOLS", "CGO_PLATFORMS"}, before


def test_toolchain_keeps_nothing_that_differs_between_two_builds():
    text = tools_df().text
    assert text.count("/var/cache/ldconfig/aux-cache") == 2 and "rm -rf /root/.config/go" in text


def test_tools_never_ask_the_build_machine_for_its_arch():
    text = tools_df().text
    assert "dpkg --print-architecture" not in text and not re.search(r"\buname\b", text)


# ---- the embedded scripts, run with /bin/sh and stubs ----
needs_sh = pytest.mark.skipif(shutil.which("sh") is None, reason="no /bin/sh")


def write_exe(path: Path, content: str) -> Path:
    path.write_text(content)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def sh(script: str, env: dict, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", "-c", script], env={"PATH": "/usr/bin:/bin", **env}, cwd=cwd,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def bindir(tmp_path) -> Path:
    """pick and fetch (bake/lib), and a log every stub appends its argv to."""
    d = tmp_path / "bin"
    d.mkdir()
    for name in ("pick", "fetch"):
        write_exe(d / name, (LIB / name).read_text())
    for name in ("apt-get", "dpkg", "unzip", "tar", "cp"):
        write_exe(d / name, f'#!/bin/sh\necho "{name} $*" >> "$LOG"\n')
    return d


def env_of(bindir: Path, tmp_path: Path, **extra: str) -> dict:
    return {"PATH": f"{bindir}:/usr/bin:/bin", "LOG": str(tmp_path / "log"), **extra}


def log(tmp_path: Path) -> list[str]:
    path = tmp_path / "log"
    return path.read_text().splitlines() if path.exists() else []


SHA = "a" * 64
GOLANG_FILES = (f"linux/amd64=go1.24.2.linux-amd64.tar.gz@{SHA} linux/arm64=go1.24.2.linux-arm64.tar.gz@{'b' * 64} "
                f"linux/arm/v5=go1.24.2.src.tar.gz@{'c' * 64}")


@needs_sh
@pytest.mark.parametrize("platform, expected", [
    ("linux/amd64", f"go1.24.2.linux-amd64.tar.gz {SHA}"), ("linux/arm64", f"go1.24.2.linux-arm64.tar.gz {'b' * 64}"),
    ("linux/arm/v5", f"go1.24.2.src.tar.gz {'c' * 64}")])
def test_pick_finds_the_platforms_file(bindir, tmp_path, platform, expected):
    r = sh(f'pick "{platform}" "$FILES"', env_of(bindir, tmp_path, FILES=GOLANG_FILES))
    assert r.returncode == 0 and r.stdout.strip() == expected, r


@needs_sh
@pytest.mark.parametrize("platform", ["linux/riscv64", "linux/arm", "linux/amd6", ""])
def test_pick_refuses_a_platform_it_has_no_file_for(bindir, tmp_path, platform):
    r = sh(f'pick "{platform}" "$FILES"', env_of(bindir, tmp_path, FILES=GOLANG_FILES))
    assert r.returncode == 1 and "error: no file for" in r.stderr and "run bakegen again" in r.stderr


@needs_sh
def test_fetch_keeps_a_verified_download_and_deletes_a_wrong_one(bindir, tmp_path):
    payload = tmp_path / "payload"
    payload.write_bytes(b"pretend tarball\n")
    good = hashlib.sha256(payload.read_bytes()).hexdigest()
    write_exe(bindir / "curl", '#!/bin/sh\nwhile [ $# -gt 0 ]; do case "$1" in -o) out=$2; shift;; esac; shift; done\n'
                               'cat "$PAYLOAD" > "$out"\n')
    env = env_of(bindir, tmp_path, PAYLOAD=str(payload))
    r = sh(f'fetch https://x/go.tgz "{tmp_path}/ok.tgz" {good}', env)
    assert r.returncode == 0 and (tmp_path / "ok.tgz").read_bytes() == payload.read_bytes(), r
    r = sh(f'fetch https://x/go.tgz "{tmp_path}/bad.tgz" {"0" * 64}', env)
    assert r.returncode == 1 and "sha256 mismatch" in r.stderr and not (tmp_path / "bad.tgz").exists()


@needs_sh
def test_fetch_stops_when_the_download_fails(bindir, tmp_path):
    write_exe(bindir / "curl", "#!/bin/sh\nexit 22\n")
    r = sh(f'fetch https://x/go.tgz "{tmp_path}/x.tgz" {SHA}', env_of(bindir, tmp_path))
    assert r.returncode == 22 and not (tmp_path / "x.tgz").exists()


def stage_run(stage: str, needle: str) -> str:
    (c,) = [c for c in tools_df().stage(stage).of("RUN") if needle in run_text(c)]
    return run_text(c)


def go_release(bindir: Path, tmp_path: Path) -> Path:
    """bake/lib/go-release in ``bindir``, its /tmp and /usr/local/go moved into ``tmp_path/root``;
    a fetch stub that logs and leaves an empty file; the go it unpacked says go1.24.2."""
    write_exe(bindir / "fetch", '#!/bin/sh\necho "fetch $*" >> "$LOG"\ntouch "$2"\n')
    root = tmp_path / "root"
    (root / "usr/local/go/bin").mkdir(parents=True)
    (root / "usr/local/go/VERSION").write_text("go1.24.2\n")
    write_exe(root / "usr/local/go/bin/go", '#!/bin/sh\necho "go $*" >> "$LOG"\n')
    text = (LIB / "go-release").read_text().replace("/tmp/", f"{tmp_path}/").replace("/usr/local/go", f"{root}/usr/local/go")
    write_exe(bindir / "go-release", text)
    return root


GO_RELEASE_ENV = {"BUILDPLATFORM": "linux/amd64", "TARGETARCH": "arm64", "TARGETVARIANT": "", "BUILDARCH": "amd64",
                  "GOLANG_VERSION": "1.24.2", "GOLANG_FILES": GOLANG_FILES, "GOLANG_DOWNLOAD_URL": "https://dl.example/go/"}


@needs_sh
@pytest.mark.parametrize("target, fetched", [("linux/arm64", "go1.24.2.linux-arm64.tar.gz"), ("linux/amd64", None)])
def test_go_release_downloads_the_targets_release_and_copies_the_hosts(bindir, tmp_path, target, fetched):
    root = go_release(bindir, tmp_path)
    r = sh("go-release target /opt/go-host", env_of(bindir, tmp_path, TARGETPLATFORM=target, **GO_RELEASE_ENV))
    assert r.returncode == 0, r.stderr
    lines = log(tmp_path)
    if fetched:
        assert lines[0] == f"fetch https://dl.example/go/{fetched} {tmp_path}/go-release.tgz {'b' * 64}"
        assert lines[1].startswith("tar -C /usr/local -xzf")  # unpacked after the verified fetch
    else:
        assert lines == [f"cp -a /opt/go-host {root}/usr/local/go"]
    script = (LIB / "go-release").read_text()
    assert "make.bash" in script and 'GOROOT_BOOTSTRAP="$hostgo"' in script  # arm/v5: from verified source
    (root / "usr/local/go/VERSION").write_text("go1.24.1\n")  # not the release the definition names
    assert sh("go-release target /opt/go-host", env_of(bindir, tmp_path, TARGETPLATFORM=target,
                                                      **GO_RELEASE_ENV)).returncode != 0


@needs_sh
def test_go_release_host_fetches_the_build_machines_release(bindir, tmp_path):
    go_release(bindir, tmp_path)
    r = sh("go-release host", env_of(bindir, tmp_path, **GO_RELEASE_ENV))
    assert r.returncode == 0, r.stderr
    lines = log(tmp_path)
    assert lines[0] == f"fetch https://dl.example/go/go1.24.2.linux-amd64.tar.gz {tmp_path}/go-release.tgz {SHA}"
    assert lines[1].startswith("tar -C /usr/local -xzf") and lines[2] == "go version"
    r = sh("go-release hots", env_of(bindir, tmp_path, **GO_RELEASE_ENV))
    assert r.returncode == 2 and "usage: go-release host | go-release target HOSTGO" in r.stderr


@needs_sh
def test_protoc_stage_is_empty_without_a_version_and_picks_the_targets_zip(bindir, tmp_path):
    script = stage_run("protoc", "PROTOC_VERSION").replace("/tmp/", f"{tmp_path}/").replace("/out", f"{tmp_path}/out")
    write_exe(bindir / "fetch", '#!/bin/sh\necho "fetch $*" >> "$LOG"\ntouch "$2"\n')
    write_exe(bindir / "chmod", "#!/bin/sh\n")
    base = {"TARGETPLATFORM": "linux/arm64", "PROTOC_DOWNLOAD_URL": "https://dl.example/",
            "PROTOC_FILES": f"linux/amd64=protoc-30.2-linux-x86_64.zip@{SHA} linux/arm64=protoc-30.2-linux-aarch_64.zip@{'d' * 64}"}
    r = sh(script, env_of(bindir, tmp_path, **base, PROTOC_VERSION=""))
    assert r.returncode == 0 and log(tmp_path) == [] and not any((tmp_path / "out").iterdir())
    r = sh(script, env_of(bindir, tmp_path, **base, PROTOC_VERSION="30.2"))
    assert r.returncode == 0, r.stderr
    lines = log(tmp_path)
    assert f"fetch https://dl.example/v30.2/protoc-30.2-linux-aarch_64.zip {tmp_path}/protoc.zip {'d' * 64}" in lines
    assert lines.index(next(x for x in lines if x.startswith("fetch"))) < lines.index(next(x for x in lines if x.startswith("unzip")))
    assert "apt-get install -y --no-install-recommends unzip" in lines  # only when protoc is wanted


@needs_sh
def test_tools_stage_installs_nothing_without_tools_and_cross_installs_each(bindir, tmp_path):
    script = stage_run("tools", "GO_TOOLS").replace("/go/bin", f"{tmp_path}/gobin").replace("/out", f"{tmp_path}/out")
    write_exe(bindir / "go", '#!/bin/sh\necho "go $GOOS/$GOARCH/$GOARM $*" >> "$LOG"\n')
    r = sh(script, env_of(bindir, tmp_path, TARGETARCH="arm", TARGETVARIANT="v7", GO_TOOLS=""))
    assert r.returncode == 0 and log(tmp_path) == []
    tools = "github.com/go-delve/delve/cmd/dlv@v1.26.3 honnef.co/go/tools/cmd/staticcheck@v0.6.1"
    r = sh(script, env_of(bindir, tmp_path, TARGETARCH="arm", TARGETVARIANT="v7", GO_TOOLS=tools))
    assert r.returncode == 0, r.stderr
    assert [x for x in log(tmp_path) if x.startswith("go ")] == [
        "go linux/arm/7 install -trimpath honnef.co/go/tools/cmd/staticcheck@v0.6.1"]
    assert "delve does not support linux/arm" in r.stderr


CGO = "linux/amd64=amd64:x86_64-linux-gnu linux/arm64=arm64:aarch64-linux-gnu"


@needs_sh
@pytest.mark.parametrize("target, arch, packages", [
    ("linux/amd64", "arm64", "gcc-aarch64-linux-gnu g++-aarch64-linux-gnu libc6-dev:arm64"),
    ("linux/arm64", "amd64", "gcc-x86-64-linux-gnu g++-x86-64-linux-gnu libc6-dev:amd64")])
def test_toolchain_installs_a_cross_compiler_for_each_other_platform(bindir, tmp_path, target, arch, packages):
    (c,) = [c for c in tools_df().final.of("RUN") if "$CGO_PLATFORMS" in run_text(c) and "apt-get install" in run_text(c)]
    (tmp_path / "var/log").mkdir(parents=True)
    r = sh(run_text(c).replace("/var/", f"{tmp_path}/var/").replace("/tmp/*", f"{tmp_path}/t/*"),
           env_of(bindir, tmp_path, TARGETPLATFORM=target, CGO_PLATFORMS=CGO))
    assert r.returncode == 0, r.stderr
    lines = log(tmp_path)
    assert lines[0] == f"dpkg --add-architecture {arch}" and lines[1] == "apt-get update"
    install = lines[2].split()
    assert " ".join(install[4:7]) == packages and f"libcurl4-openssl-dev:{arch}" in install
    assert not any(p.endswith(f":{'amd64' if arch == 'arm64' else 'arm64'}") for p in install)
    r = sh(run_text(c), env_of(bindir, tmp_path, TARGETPLATFORM="linux/amd64", CGO_PLATFORMS="linux/arm64"))
    assert r.returncode == 1 and "is not <platform>=<dpkg arch>:<GNU triplet>" in r.stderr


# --------------------------------------------------------------------------- golang-build
def compile_df() -> Parsed:
    return parse(COMPILE)


def test_compile_image_layout():
    """Go and the CA bundle on the Debian base, nothing else: every RUN is in a stage on the build
    platform, so the image's own stage only copies (another platform needs no emulation); no apt
    there, no C compiler, none of the toolchain's args (cgo platforms, protoc, tools)."""
    df = compile_df()
    assert [(s.name, s.base, s.platform) for s in df.stages] == [
        ("fetcher", "${BASE_IMAGE}", "$BUILDPLATFORM"), ("go-host", "fetcher", None), ("go", "fetcher", None),
        ("golang-build", "${BASE_IMAGE}", None)]
    final = df.final
    assert not final.of("RUN") and not final.of("USER") and final.of("WORKDIR")[-1].value[0] == "/go"
    assert [(flag_values(c, "from")[0], c.value) for c in final.of("COPY")] == [
        ("fetcher", ("/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/certs/ca-certificates.crt")),
        ("go", ("/usr/local/go", "/usr/local/go"))]
    assert apt_installed(df.stage("fetcher")) == {"ca-certificates", "curl"}
    env = env_pairs(final)
    assert env["CGO_ENABLED"] == "0" and env["GOTOOLCHAIN"] == "local" and env["GOPATH"] == "/go"
    assert env["GOPROXY"] == "${GOPROXY}" and env["GOSUMDB"] == "${GOSUMDB}" and "CGO_PLATFORMS" not in env
    assert env["GOLANG_VERSION"] == "${GOLANG_VERSION}" and {"/usr/local/go/bin", "/go/bin"} <= set(env["PATH"].split(":"))
    declared = set(df.global_args) | {n for s in df.stages for n in stage_args(s)}
    assert not declared & {"CGO_PLATFORMS", "GO_TOOLS", "PROTOC_VERSION", "PROTOC_FILES"}


# A GOROOT as Go's release lays it out: what the compile image keeps, and what it leaves out.
GOROOT_KEPT = ["VERSION", "go.env", "LICENSE", "bin/go", "bin/gofmt", "pkg/tool/linux_amd64/compile",
               "pkg/include/textflag.h", "lib/time/zoneinfo.zip", "src/go.mod", "src/strings/strings.go",
               "src/vendor/modules.txt", "src/cmd/go/main.go", "src/testing/testing.go",
               "src/encoding/json/internal/jsontest/_embed/x.json.zst"]
GOROOT_LEFT_OUT = ["api/go1.txt", "doc/go_spec.html", "misc/wasm/x.js", "test/fixedbugs/bug1.go",
                   "src/strings/strings_test.go", "src/strings/testdata/x.txt", "src/cmd/go/testdata/script/x.txt",
                   "src/cmd/go/go_test.go", "src/go/build/testdata/a/b/c.go"]


@needs_sh
def test_compile_image_leaves_out_what_gos_build_never_reads(bindir, tmp_path):
    """The go stage's RUN on such a GOROOT: Go's API lists, documents, misc and compiler tests,
    every testdata folder and _test.go file go; everything else stays. Then the build machine's
    go lists every package of std and cmd on what is left, and a failure there fails the build."""
    (c,) = compile_df().stage("go").of("RUN")
    goroot, host = tmp_path / "root/usr/local/go", tmp_path / "host"
    for name in GOROOT_KEPT + GOROOT_LEFT_OUT:
        (goroot / name).parent.mkdir(parents=True, exist_ok=True)
        (goroot / name).write_text(name)
    write_exe(bindir / "go-release", '#!/bin/sh\necho "go-release $*" >> "$LOG"\n')
    (host / "bin").mkdir(parents=True)
    write_exe(host / "bin/go", '#!/bin/sh\necho "go $* GOROOT=$GOROOT GOTOOLCHAIN=$GOTOOLCHAIN" >> "$LOG"\n')
    script = run_text(c).replace("/tmp/", f"{tmp_path}/").replace("/usr/local/go", str(goroot)).replace(
        "/opt/go-host", str(host))
    r = sh(script, env_of(bindir, tmp_path))
    assert r.returncode == 0, r.stderr
    assert {p.relative_to(goroot).as_posix() for p in goroot.rglob("*") if p.is_file()} == set(GOROOT_KEPT)
    assert log(tmp_path) == [f"go-release target {host}", f"go list -deps std cmd GOROOT={goroot} GOTOOLCHAIN=local"]
    write_exe(host / "bin/go", "#!/bin/sh\necho >&2 'package strings is not in std'\nexit 1\n")
    assert sh(script, env_of(bindir, tmp_path)).returncode == 1


# --------------------------------------------------------------------------- the application
def test_app_bases_are_the_team_references_from_build_args():
    df = app_df()
    assert set(df.global_args) == {"TOOLCHAIN_IMAGE", "RUNTIME_IMAGE"}
    assert [(s.name, s.base, s.platform) for s in df.stages] == [
        ("modules", "${TOOLCHAIN_IMAGE}", "$BUILDPLATFORM"), ("deps", "modules", None), ("builder", "deps", None),
        ("app", "${RUNTIME_IMAGE}", None),
        ("env-dev", "app", None), ("env-test", "app", None), ("env-prd", "app", None)]


def test_app_compile_uses_no_per_env_or_per_build_time_arg():
    """Every env of an app shares one compile, and a commit builds the same binary whenever it is
    built: before `go build` the builder declares only per-commit and build-shape args."""
    builder = app_df().stage("builder")
    build = next(c for c in builder.of("RUN") if "go build" in run_text(c))
    before = {split_arg(c.value[0])[0] for c in builder.of("ARG") if c.start_line < build.start_line}
    assert before == {"GIT_BRANCH", "GIT_COMMIT_ID", "VERSION"} | {
        "TARGETPLATFORM", "BUILDPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT"}
    modules, deps = app_df().stage("modules"), app_df().stage("deps")
    assert not modules.of("ARG")  # the modules layer changes with go.mod and go.sum alone
    assert set(stage_args(deps)) == {"GO_DEPS", "TARGETPLATFORM", "BUILDPLATFORM", "TARGETOS", "TARGETARCH",
                                     "TARGETVARIANT"}  # ... and the compiled dependencies with GO_DEPS
    for c in [*modules.commands, *deps.commands, *builder.commands]:
        assert not re.search(r"\$\{?(APP_ENV|APP_CONFIG|APP)\b", " ".join(c.value)), c.start_line


def test_app_version_has_no_build_time(per_build):
    for name, t in per_build.items():
        if "VERSION" in t.get("args", {}):
            assert not re.search(r"\d{12}", t["args"]["VERSION"]), (name, t["args"]["VERSION"])


def test_app_builder_downloads_modules_and_compiles_dependencies_before_copying_sources():
    """Modules and compiled dependencies are layers (a registry cache carries them to an empty
    runner; a cache mount it would not), before any WORKDIR (which SOURCE_DATE_EPOCH, the
    commit's time, would stamp: every later step would miss the cache on every commit). The
    builder's cache mount starts from the deps stage's build cache."""
    df = app_df()
    modules, deps, builder = (df.stage(n) for n in ("modules", "deps", "builder"))
    assert [(c.cmd, c.value) for c in modules.commands if c.cmd != "RUN"] == [("COPY", ("go.mod", "go.sum*", "/src/"))]
    (download,) = modules.of("RUN")
    assert "go mod download" in run_text(download) and not mounts(download)
    (compile_deps,) = deps.of("RUN")
    assert "go build -trimpath -tags netgo,osusergo $GO_DEPS" in run_text(compile_deps) and not mounts(compile_deps)
    assert not modules.of("WORKDIR") and not deps.of("WORKDIR") and not builder.of("WORKDIR")
    cmds = [c for c in builder.commands if c.cmd in ("COPY", "RUN")]
    assert cmds[0].value == (".", "/src/") and "--link" not in cmds[0].flags
    assert "cd /src;" in run_text(cmds[1]) and "go build" in run_text(cmds[1])
    assert mounts(cmds[1]) == [{"type": "cache", "target": "/root/.cache/go-build", "from": "deps",
                                "source": "/root/.cache/go-build"}]
    words = run_text(cmds[1]).split()  # the same compile flags: the builder hits what deps compiled
    assert "-trimpath" in words and words[words.index("-tags") + 1] == "netgo,osusergo"


def test_app_final_stages_keep_the_services_contract():
    """The seed starts the service as `/app/<app> -f /app/etc/app_<env>.yaml` with its etc/
    folder: so does the app image, in exec form, as user 65532; the definition asks for the
    healthcheck and the port."""
    df = app_df()
    app = df.stage("app")
    copies = [(flag_values(c, "from"), c.value) for c in app.of("COPY")]
    assert copies == [([], ("etc", "/app/etc")), (["builder"], ("/out/", "/"))]  # a new binary: one copy re-runs
    assert all("--chown=65532:65532" in c.flags and "--link" in c.flags for c in app.of("COPY"))
    assert [c.value for c in app.of("ENTRYPOINT")] == [("/app/ci-demo-go",)] and not app.of("CMD")
    assert [c.value for c in app.of("EXPOSE")] == [("8080",)]
    for env in ("dev", "test", "prd"):
        stage = df.stage(f"env-{env}")
        assert env_pairs(stage) == {"APP": "ci-demo-go", "APP_ENV": env, "APP_CONFIG": f"/app/etc/app_{env}.yaml"}
        assert [c.value for c in stage.of("CMD")] == [("-f", f"/app/etc/app_{env}.yaml")]
        (health,) = stage.of("HEALTHCHECK")
        assert health.value == ("CMD", "/app/ci-demo-go", "-healthcheck", "-f", f"/app/etc/app_{env}.yaml")
        assert "--interval=30s" in health.flags


@pytest.fixture
def app_build(tmp_path):
    """The builder's go build RUN of an app's generated Dockerfile (ci-demo-go, or with cgo the
    cgo sample's), runnable with a stub go that logs its environment and argv."""
    d = tmp_path / "bin"
    d.mkdir()
    write_exe(d / "go", '#!/bin/sh\necho "CC=${CC:-} CXX=${CXX:-} CGO_ENABLED=$CGO_ENABLED GOARCH=$GOARCH" > "$LOG"\n'
                        'printf "%s\\n" "$@" >> "$LOG"\n'
                        'while [ $# -gt 0 ]; do case "$1" in -o) out=$2; shift;; esac; shift; done\ntouch "$out"\n')
    for cross in ("aarch64-linux-gnu-gcc",):
        write_exe(d / cross, "#!/bin/sh\n")

    def script(app: str, stage: str = "builder") -> str:
        run = next(c for c in parse(GENERATED[app]).stage(stage).of("RUN") if "go build" in run_text(c))
        return run_text(run).replace("/out", str(tmp_path / "out")).replace("cd /src", f"cd {tmp_path}")
    env = {"PATH": f"{d}:/usr/bin:/bin", "LOG": str(tmp_path / "go.log"), "GIT_BRANCH": "main", "GIT_COMMIT_ID": "abc1234",
           "VERSION": "main-abc1234", "TARGETOS": "linux", "TARGETARCH": "arm64", "TARGETVARIANT": "",
           "TARGETPLATFORM": "linux/arm64", "BUILDPLATFORM": "linux/amd64"}
    return script, env, tmp_path


@needs_sh
def test_app_build_cross_compiles_without_cgo(app_build):
    script, env, tmp = app_build
    r = sh(script("ci-demo-go"), env)
    assert r.returncode == 0, r.stderr
    lines = (tmp / "go.log").read_text().splitlines()
    assert lines[0] == "CC= CXX= CGO_ENABLED=0 GOARCH=arm64" and lines[1] == "build" and lines[-1] == "./"
    assert "-s -w -buildid= -X main.branch=main -X main.commit=abc1234 -X main.version=main-abc1234" in lines
    assert (tmp / "out/app/ci-demo-go").exists() and (tmp / "out/app/logs").is_dir()


@needs_sh
def test_deps_compile_for_the_target_and_never_fail_the_build(app_build):
    """The deps stage compiles GO_DEPS as the builder will (same target, same flags); if some do
    not compile there, the builder compiles what the app needs, so the build goes on."""
    script, env, tmp = app_build
    r = sh(script("ci-demo-go", "deps"), {**env, "GO_DEPS": "fmt example.com/x/y"})
    assert r.returncode == 0, r.stderr
    assert (tmp / "go.log").read_text().splitlines() == [
        "CC= CXX= CGO_ENABLED=0 GOARCH=arm64", "build", "-trimpath", "-tags", "netgo,osusergo", "fmt", "example.com/x/y"]
    (tmp / "go.log").unlink()
    r = sh(script("ci-demo-go", "deps"), {**env, "GO_DEPS": ""})
    assert r.returncode == 0 and not (tmp / "go.log").exists()
    write_exe(tmp / "bin" / "go", "#!/bin/sh\necho >&2 'cannot compile'\nexit 1\n")
    r = sh(script("ci-demo-go", "deps"), {**env, "GO_DEPS": "example.com/needs/cgo"})
    assert r.returncode == 0 and "warning: some of GO_DEPS did not compile here" in r.stderr


@needs_sh
def test_app_build_uses_the_targets_cross_compiler_for_cgo(app_build):
    script, env, tmp = app_build
    r = sh(script("cgo-demo"), {**env, "CGO_PLATFORMS": CGO})
    assert r.returncode == 0, r.stderr
    assert (tmp / "go.log").read_text().splitlines()[0] == (
        "CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ CGO_ENABLED=1 GOARCH=arm64")
    r = sh(script("cgo-demo"), {**env, "CGO_PLATFORMS": CGO, "TARGETPLATFORM": "linux/amd64", "TARGETARCH": "amd64"})
    assert r.returncode == 0 and (tmp / "go.log").read_text().startswith("CC= CXX= CGO_ENABLED=1 GOARCH=amd64")


@needs_sh
@pytest.mark.parametrize("cgo_platforms", ["", "linux/amd64=amd64:x86_64-linux-gnu", "linux/arm64=arm64:riscv64-linux-gnu"])
def test_app_build_stops_when_the_toolchain_lacks_the_cross_compiler(app_build, cgo_platforms):
    script, env, tmp = app_build
    r = sh(script("cgo-demo"), {**env, "CGO_PLATFORMS": cgo_platforms})
    assert r.returncode == 1 and "error: cgo for linux/arm64 needs its C cross compiler" in r.stderr
    assert "add the platform to the toolchain's platforms" in r.stderr and not (tmp / "go.log").exists()


def test_example_ships_a_config_for_every_env():
    for env in ("dev", "test", "prd"):
        assert (EXAMPLE / "etc" / f"app_{env}.yaml").is_file(), env
    assert not (EXAMPLE / "etc" / "app_prod.yaml").exists(), "APP_ENV=prd reads etc/app_prd.yaml"
    ignored = (EXAMPLE / ".dockerignore").read_text().split()
    assert "etc" not in ignored and "go.mod" not in ignored and ".git" in ignored


def test_cgo_example_calls_c_and_has_a_test():
    demo = CGO_REPO
    cgo = (demo / "cgo.go").read_text()
    assert re.search(r'^import "C"$', cgo, re.M) and "C.cgo_demo_fnv1a32" in cgo
    assert "TestFNV1a32InC" in (demo / "main_test.go").read_text()
    assert re.search(r"^module example\.com/cgo-demo\n\ngo 1\.\d+\n$", (demo / "go.mod").read_text())
    main = (demo / "main.go").read_text()
    assert '"healthcheck"' in main and '"version"' in main and "APP_ENV" in main


def test_runtime_adds_only_the_nonroot_user():
    df = parse(BAKE / "golang-runtime" / "Dockerfile")
    (run,) = df.final.of("RUN")
    text = run_text(run)
    assert len(df.stages) == 1 and "apt-get" not in df.text and set(df.global_args) == {"BASE_IMAGE"}
    for opt in ("groupadd --gid 65532 nonroot", "--uid 65532", "--gid 65532", "--no-log-init", "--home-dir /app",
                "--shell /usr/sbin/nologin", "install -d -o 65532 -g 65532 -m 0755 /app /app/logs"):
        assert opt in text, opt


def test_runtime_static_is_scratch_with_a_prepared_rootfs():
    df = parse(BAKE / "golang-runtime-static" / "Dockerfile")
    final, rootfs = df.final, df.stage("rootfs")
    assert final.base == "scratch" and not final.of("RUN") and rootfs.platform == "$BUILDPLATFORM"
    assert [c.value for c in final.of("COPY")] == [("/rootfs/", "/")]
    assert env_pairs(final)["SSL_CERT_FILE"] == "/etc/ssl/certs/ca-certificates.crt"
    assert apt_installed(rootfs) == {"ca-certificates", "tzdata"}
    text = run_text(rootfs.of("RUN")[0])
    for needle in ("nonroot:x:65532:65532:", "root:x:0:0:", "hosts: files dns", "chmod 1777 /rootfs/tmp",
                   "chown -R 65532:65532 /rootfs/app", "/rootfs/app/logs", "/rootfs/usr/share/zoneinfo"):
        assert needle in text, needle


@needs_sh
def test_apt_mirror_rewrites_every_sources_file(tmp_path):
    script = (BAKE / "lib" / "apt-mirror").read_text().replace("/etc/apt", f"{tmp_path}/apt")
    (tmp_path / "apt/sources.list.d").mkdir(parents=True)
    (tmp_path / "apt/sources.list").write_text("deb http://deb.debian.org/debian bullseye main\n")
    (tmp_path / "apt/sources.list.d/debian.sources").write_text("URIs: https://deb.debian.org/debian\n")
    run = tmp_path / "apt-mirror"
    run.write_text(script)
    assert subprocess.run(["sh", str(run), ""], check=False).returncode == 0
    assert "deb.debian.org" in (tmp_path / "apt/sources.list").read_text()
    assert subprocess.run(["sh", str(run), "http://mirror.example/a&b/"], check=False).returncode == 0
    assert (tmp_path / "apt/sources.list").read_text() == "deb http://mirror.example/a&b/debian bullseye main\n"
    assert (tmp_path / "apt/sources.list.d/debian.sources").read_text() == "URIs: http://mirror.example/a&b/debian\n"

