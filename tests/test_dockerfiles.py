"""Static tests of the Dockerfiles under bake/.

They need only the ``dockerfile`` parser (BuildKit's own Go parser). A few also run the
shell snippets and helper scripts embedded in the Dockerfiles with /bin/sh, with stub
commands on PATH and paths redirected into a temporary directory, so no Docker, network
or Go toolchain is needed; those skip when /bin/sh is missing.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import dockerfile
import pytest

REPO = Path(__file__).resolve().parents[1]
BAKE = REPO / "bake"
EXAMPLE = REPO / "examples" / "ci-demo-go"
SHARED_DATA = REPO.parent / "shared" / "data"

NONROOT = "65532:65532"
SYNTAX_LINE = "# syntax=docker/dockerfile:1"
DEFAULT_BASE_IMAGE = "debian:bullseye-slim"
DEFAULT_MIRROR = "http://deb.debian.org"
AUTOMATIC_ARGS = {
    f"{side}{part}"
    for side in ("TARGET", "BUILD")
    for part in ("PLATFORM", "OS", "ARCH", "VARIANT")
}
EXPECTED_IMAGES = {"golang-tools", "golang-runtime", "golang-runtime-static", "ci-demo-go"}
NON_ROOT_IMAGES = ["golang-runtime", "golang-runtime-static", "ci-demo-go"]

# The seed's apt package set for the toolchain image (plus what we use explicitly).
SEED_APT_PACKAGES = {
    "git", "g++", "gcc", "make", "cmake", "pkg-config", "binutils", "libc6-dev", "libstdc++6",
    "libssl-dev", "libsasl2-dev", "libzstd-dev", "libcurl4-openssl-dev", "libprotobuf-dev",
}
# Commands that are not in a Debian slim image and the apt packages that provide them.
APT_TOOLS = {
    "curl": {"curl"},
    "wget": {"wget"},
    "unzip": {"unzip"},
    "gpg": {"gnupg", "gpg"},
    "gpgv": {"gpgv"},
    "git": {"git"},
    "xz": {"xz-utils"},
    "bzip2": {"bzip2"},
    "make": {"make"},
    "cmake": {"cmake"},
    "gcc": {"gcc"},
    "g++": {"g++"},
    "jq": {"jq"},
    "file": {"file"},
}
SEED_TOOL_MODULES = [
    "honnef.co/go/tools/cmd/staticcheck",
    "github.com/go-delve/delve/cmd/dlv",
    "gotest.tools/gotestsum",
    "github.com/boumenot/gocover-cobertura",
    "github.com/elliots/protoc-gen-twirp_swagger",
    "google.golang.org/protobuf/cmd/protoc-gen-go",
    "google.golang.org/grpc/cmd/protoc-gen-go-grpc",
]
PINNED_TOOL = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9._~/-]*@v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"
)
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


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
        for s in self.stages:
            if s.name == name:
                return s
        raise KeyError(f"{self.path}: no stage named {name!r}")

    def parent(self, stage: Stage) -> Stage | None:
        for s in self.stages[: stage.index]:
            if s.name == stage.base:
                return s
        return None

    def lineage(self, stage: Stage) -> list[Stage]:
        """The stage and its ancestors through FROM <stage>, nearest first."""
        out = [stage]
        while (p := self.parent(out[-1])) is not None:
            out.append(p)
        return out


def split_arg(value: str) -> tuple[str, str | None]:
    name, eq, default = value.partition("=")
    if not eq:
        return name, None
    if len(default) >= 2 and default[0] == default[-1] and default[0] in "\"'":
        default = default[1:-1]
    return name, default


def flag_values(command, name: str) -> list[str]:
    prefix = f"--{name}="
    return [f[len(prefix):] for f in command.flags if f.startswith(prefix)]


def mounts(command) -> list[dict]:
    out = []
    for m in flag_values(command, "mount"):
        out.append(dict(kv.partition("=")[::2] for kv in m.split(",")))
    return out


def run_text(command) -> str:
    return " ".join(command.value)


def heredoc_texts(command) -> list[str]:
    return [h.content for h in (command.heredocs or ())]


@functools.cache
def parse(path: Path) -> Parsed:
    commands = dockerfile.parse_file(str(path))
    global_args: dict = {}
    stages: list[Stage] = []
    for c in commands:
        if c.cmd == "FROM":
            v = c.value
            name = v[2] if len(v) >= 3 and v[1].upper() == "AS" else None
            platform = next(iter(flag_values(c, "platform")), None)
            stages.append(Stage(len(stages), v[0], name, platform))
        elif stages:
            stages[-1].commands.append(c)
        else:
            assert c.cmd == "ARG", f"{path}: only ARG may precede the first FROM, got {c.cmd}"
            name, default = split_arg(c.value[0])
            global_args[name] = default
    return Parsed(path, path.read_text(), commands, global_args, stages)


def dockerfile_of(image: str) -> Parsed:
    return parse(BAKE / image / "Dockerfile")


def stage_args(stage: Stage) -> dict:
    return dict(split_arg(c.value[0]) for c in stage.of("ARG"))


def env_pairs(stage: Stage) -> dict:
    out = {}
    for c in stage.of("ENV"):
        v = list(c.value)
        out.update(zip(v[0::2], v[1::2]))
    return out


SHELL_SPLIT = re.compile(r"\n|\$\(|;|&&|\|\||\||\(|\)|\b(?:then|do|else|elif|if|while|until)\b|!\s")
ASSIGNMENT = re.compile(r"""^[A-Za-z_][A-Za-z0-9_]*=("[^"]*"|'[^']*'|\S*)\s*""")


def shell_commands(script: str) -> list[str]:
    """The command names of a shell snippet (rough, but enough for lint-style checks)."""
    names = []
    for segment in SHELL_SPLIT.split(script):
        segment = segment.strip()
        while (m := ASSIGNMENT.match(segment)) is not None:
            segment = segment[m.end():]
        if segment:
            word = segment.split()[0]
            if word in ("env", "exec", "command"):
                rest = segment.split()[1:]
                rest = [w for w in rest if "=" not in w and not w.startswith("-")]
                word = rest[0] if rest else word
            names.append(word)
    return names


def apt_installed(stage: Stage) -> set[str]:
    pkgs: set[str] = set()
    for c in stage.of("RUN"):
        for m in re.finditer(r"apt-get\s+install\s+([^;&|]*)", run_text(c)):
            pkgs.update(w for w in m.group(1).split() if not w.startswith("-") and w != "\\")
    return pkgs


def all_dockerfiles() -> list[Path]:
    return sorted(BAKE.glob("*/Dockerfile"))


DOCKERFILES = all_dockerfiles()
IDS = [p.parent.name for p in DOCKERFILES]


# --------------------------------------------------------------------------- every Dockerfile


def test_expected_dockerfiles_exist():
    assert {p.parent.name for p in DOCKERFILES} >= EXPECTED_IMAGES


@pytest.mark.parametrize("path", DOCKERFILES, ids=IDS)
def test_parses_into_stages(path):
    df = parse(path)
    assert df.stages, f"{path}: no FROM"
    names = [s.name for s in df.stages if s.name]
    assert len(names) == len(set(names)), f"{path}: duplicate stage names {names}"


@pytest.mark.parametrize("path", DOCKERFILES, ids=IDS)
def test_syntax_directive_is_first_line(path):
    assert path.read_text().splitlines()[0] == SYNTAX_LINE


@pytest.mark.parametrize("path", DOCKERFILES, ids=IDS)
def test_header_documents_args_and_user(path):
    lines = path.read_text().splitlines()[1:]
    header = []
    for line in lines:
        if not line.startswith("#"):
            break
        header.append(line)
    text = "\n".join(header)
    assert path.parent.name in text, "header must say which image this builds"
    df = parse(path)
    declared = set(df.global_args)
    for s in df.stages:
        declared |= {n for n in stage_args(s) if n not in AUTOMATIC_ARGS}
    for name in declared:
        assert name in text, f"build arg {name} is not described in the header comment"
    if path.parent.name in NON_ROOT_IMAGES:
        assert "65532" in text
    else:
        assert "root" in text.lower()


@pytest.mark.parametrize("path", DOCKERFILES, ids=IDS)
def test_no_latest_anywhere(path):
    text = path.read_text()
    assert "@latest" not in text
    for s in parse(path).stages:
        assert not s.base.endswith(":latest"), s.base


@pytest.mark.parametrize("path", DOCKERFILES, ids=IDS)
def test_run_shells_use_set_eux(path):
    for c in parse(path).commands:
        if c.cmd == "RUN":
            assert not c.json, f"line {c.start_line}: use shell form with set -eux"
            assert run_text(c).lstrip().startswith("set -eux"), f"line {c.start_line}"


APT_INSTALL_LIST = re.compile(r"apt-get\s+install\s+[^;&|]*")


def _scripts(path: Path):
    """RUN scripts and heredoc files, with apt-get install package lists removed."""
    for c in parse(path).commands:
        if c.cmd == "RUN":
            yield c.start_line, APT_INSTALL_LIST.sub("apt-get install", run_text(c))
        for h in heredoc_texts(c):
            yield c.start_line, h


UNPACK = re.compile(r"\btar\b[^;&|\n]*?\s-[A-Za-z]*x[A-Za-z]*\b|\bunzip\b")


@pytest.mark.parametrize("path", DOCKERFILES, ids=IDS)
def test_downloads_are_verified_before_unpacking(path):
    for line, script in _scripts(path):
        for m in re.finditer(r"\b(curl|wget)\b", script):
            rest = script[m.end():]
            check = re.search(r"sha256sum\s+(--\S+\s+)*-c\b", rest)
            assert check, f"line {line}: {m.group(1)} download without a following sha256sum -c"
            unpack = UNPACK.search(rest)
            assert unpack is None or unpack.start() > check.start(), (
                f"line {line}: unpacked before the sha256 check"
            )
        for m in UNPACK.finditer(script):
            before = script[: m.start()]
            assert "fetch-verified" in before or re.search(r"sha256sum\s+(--\S+\s+)*-c\b", before), (
                f"line {line}: unpacks a file that this RUN did not verify"
            )


@pytest.mark.parametrize("path", DOCKERFILES, ids=IDS)
def test_fetch_helper_is_the_only_downloader(path):
    """RUN lines download only through fetch-verified (which checks the sha256)."""
    for c in parse(path).commands:
        if c.cmd == "RUN":
            names = shell_commands(run_text(c))
            assert "curl" not in names and "wget" not in names, f"line {c.start_line}"
    for c in parse(path).commands:
        if c.cmd == "ADD":
            assert not any(v.startswith(("http://", "https://", "git@")) for v in c.value), (
                f"line {c.start_line}: ADD of a remote file is not verified"
            )


@pytest.mark.parametrize("path", DOCKERFILES, ids=IDS)
def test_tools_used_are_installed_by_apt(path):
    df = parse(path)
    for stage in df.stages:
        available = set().union(*(apt_installed(s) for s in df.lineage(stage)))
        scripts = [(c.start_line, run_text(c)) for c in stage.of("RUN")]
        # helper scripts copied into this stage or an ancestor and run from PATH
        for s in df.lineage(stage):
            scripts += [(c.start_line, h) for c in s.of("COPY") for h in heredoc_texts(c)]
        for line, script in scripts:
            script = APT_INSTALL_LIST.sub("", script)
            for name in shell_commands(script):
                if name in APT_TOOLS:
                    assert APT_TOOLS[name] & available, (
                        f"line {line} ({stage.name or stage.base}): uses {name} but no apt-get install "
                        f"of {sorted(APT_TOOLS[name])} in this stage or its ancestors"
                    )


@pytest.mark.parametrize("path", DOCKERFILES, ids=IDS)
def test_apt_runs_use_cache_mounts(path):
    for c in parse(path).commands:
        if c.cmd != "RUN" or "apt-get install" not in run_text(c):
            continue
        text = run_text(c)
        targets = {m.get("target"): m for m in mounts(c) if m.get("type") == "cache"}
        for target in ("/var/cache/apt", "/var/lib/apt"):
            assert target in targets, f"line {c.start_line}: no cache mount for {target}"
            assert targets[target].get("sharing") == "locked", f"line {c.start_line}: {target}"
        assert "docker-clean" in text, f"line {c.start_line}: docker-clean would empty the cache"
        assert text.index("apt-get update") < text.index("apt-get install")
        assert "--no-install-recommends" in text
        assert re.search(r"apt-get\s+install\s+-y\b", text)


@pytest.mark.parametrize("path", DOCKERFILES, ids=IDS)
def test_debian_mirror_applied_before_apt(path):
    df = parse(path)
    uses_apt = any("apt-get update" in run_text(c) for c in df.commands if c.cmd == "RUN")
    if not uses_apt:
        assert "DEBIAN_MIRROR" not in df.global_args, "DEBIAN_MIRROR declared but no apt run"
        return
    assert df.global_args.get("DEBIAN_MIRROR") == DEFAULT_MIRROR
    for stage in df.stages:
        for c in stage.of("RUN"):
            text = run_text(c)
            if "apt-get update" not in text:
                continue
            rewrites = []
            for s in df.lineage(stage):
                for r in s.of("RUN"):
                    t = run_text(r)
                    if r is c:
                        t = t[: t.index("apt-get update")]
                    if "DEBIAN_MIRROR" in t:
                        assert "DEBIAN_MIRROR" in stage_args(s), f"{s.name}: ARG DEBIAN_MIRROR missing"
                        rewrites.append(t)
            assert rewrites, f"line {c.start_line}: apt-get update without the DEBIAN_MIRROR rewrite"
            t = rewrites[0]
            assert "/etc/apt/sources.list" in t and "*.sources" in t
            assert r"https?://deb\.debian\.org" in t
            assert '-n "$mirror"' in t, "an empty DEBIAN_MIRROR must leave the sources alone"


@pytest.mark.parametrize("path", DOCKERFILES, ids=IDS)
def test_cross_stage_copies_use_link_and_known_stages(path):
    df = parse(path)
    for stage in df.stages:
        earlier = {s.name for s in df.stages[: stage.index] if s.name}
        for c in stage.of("COPY"):
            src = flag_values(c, "from")
            if src:
                assert "--link" in c.flags, f"line {c.start_line}: COPY --from without --link"
                assert src[0] in earlier, f"line {c.start_line}: --from={src[0]} is not an earlier stage"
        for c in stage.of("RUN"):
            for m in mounts(c):
                if "from" in m:
                    assert m["from"] in earlier, f"line {c.start_line}: mount from={m['from']}"


@pytest.mark.parametrize("path", DOCKERFILES, ids=IDS)
def test_build_args_are_declared_where_used(path):
    """A global ARG (or a TARGET*/BUILD* arg) is empty inside a stage unless redeclared there."""
    df = parse(path)
    known = set(df.global_args) | AUTOMATIC_ARGS
    for stage in df.stages:
        known |= set(stage_args(stage))
    for stage in df.stages:
        declared = set(stage_args(stage))
        for s in df.lineage(stage):
            declared |= set(env_pairs(s))
        for c in stage.commands:
            if c.cmd in ("ARG",):
                continue
            texts = [" ".join(c.value), *c.flags]
            for text in texts:
                for name in re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", text):
                    if name in known:
                        assert name in declared, (
                            f"line {c.start_line}: ${name} used in stage {stage.name or stage.base} "
                            "without ARG there"
                        )
    for s in df.stages:
        for name in re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", s.base + " " + (s.platform or "")):
            assert name in set(df.global_args) | AUTOMATIC_ARGS, f"FROM uses ${name}, which is not a global ARG"


@pytest.mark.parametrize("path", DOCKERFILES, ids=IDS)
def test_go_build_compiles_packages_not_files(path):
    for c in parse(path).commands:
        if c.cmd != "RUN":
            continue
        for m in re.finditer(r"\bgo\s+build\b([^;&|]*)", run_text(c)):
            assert not re.search(r"(^|\s)\S*\*?\.go(\s|$|\")", m.group(1)), m.group(0)


@pytest.mark.parametrize("path", DOCKERFILES, ids=IDS)
def test_exec_form_for_entrypoint_cmd_healthcheck(path):
    for c in parse(path).commands:
        if c.cmd in ("ENTRYPOINT", "CMD"):
            assert c.json, f"line {c.start_line}: {c.cmd} must be exec form"
        if c.cmd == "HEALTHCHECK" and c.value[0].upper() != "NONE":
            assert c.json and c.value[0].upper() == "CMD", f"line {c.start_line}"


@pytest.mark.parametrize("path", DOCKERFILES, ids=IDS)
def test_base_image_arg(path):
    df = parse(path)
    if path.parent.name == "ci-demo-go":
        return
    assert df.global_args.get("BASE_IMAGE") == DEFAULT_BASE_IMAGE
    assert any(s.base == "${BASE_IMAGE}" for s in df.stages)
    for s in df.stages:
        assert s.base in ("${BASE_IMAGE}", "scratch") or s.base in {x.name for x in df.stages}, s.base


@pytest.mark.parametrize("image", NON_ROOT_IMAGES)
def test_final_stage_runs_as_nonroot_uid(image):
    final = dockerfile_of(image).final
    users = final.of("USER")
    assert users, f"{image}: final stage sets no USER"
    assert users[-1].value[0] == NONROOT
    assert final.of("WORKDIR")[-1].value[0] == "/app"


# --------------------------------------------------------------------------- golang-tools


def tools_df() -> Parsed:
    return dockerfile_of("golang-tools")


def pairs(value: str) -> dict[str, str]:
    out = {}
    for item in value.split():
        key, eq, sha = item.partition("=")
        assert eq and key and key not in out, item
        out[key] = sha
    return out


def test_tools_args_and_defaults():
    args = tools_df().global_args
    assert args["GOLANG_VERSION"] == "1.24.2"
    assert args["GOLANG_DOWNLOAD_URL"] == "https://dl.google.com/go"
    assert args["PROTOC_VERSION"] == "30.2"
    assert args["PROTOC_DOWNLOAD_URL"] == "https://github.com/protocolbuffers/protobuf/releases/download"
    assert args["GOPROXY"] == "https://proxy.golang.org,direct"
    assert args["GOSUMDB"] == "sum.golang.org"
    for name in ("GOLANG_SHA256", "PROTOC_SHA256", "GO_TOOLS"):
        assert name in args


def test_tools_default_checksums_are_wellformed():
    args = tools_df().global_args
    go = pairs(args["GOLANG_SHA256"])
    assert {"linux-amd64", "linux-arm64", "linux-armv6l", "linux-386", "src"} <= set(go)
    protoc = pairs(args["PROTOC_SHA256"])
    assert set(protoc) == {"linux-x86_64", "linux-aarch_64", "linux-ppcle_64", "linux-s390_64", "linux-x86_32"}
    for sha in [*go.values(), *protoc.values()]:
        assert SHA256_HEX.match(sha), sha


@pytest.mark.skipif(not (SHARED_DATA / "go-releases.json").exists(), reason="shared data not present")
def test_tools_default_checksums_match_published_data():
    args = tools_df().global_args
    go = pairs(args["GOLANG_SHA256"])
    release = json.loads((SHARED_DATA / "go-releases.json").read_text())["versions"][args["GOLANG_VERSION"]]
    published = {"src": release["src"]["sha256"]}
    for arch in release["arches"].values():
        if arch.get("url"):
            name = arch["url"].rsplit("/", 1)[1]
            published[name.removeprefix(f"go{args['GOLANG_VERSION']}.").removesuffix(".tar.gz")] = arch["sha256"]
    for key, sha in go.items():
        assert published.get(key) == sha, key
    protoc = pairs(args["PROTOC_SHA256"])
    files = json.loads((SHARED_DATA / "protoc-releases.json").read_text())["files"]
    for key, sha in protoc.items():
        assert files[f"protoc-{args['PROTOC_VERSION']}-{key}.zip"]["sha256"] == sha, key


def test_tools_default_go_tools_are_pinned():
    items = tools_df().global_args["GO_TOOLS"].split()
    assert items
    for item in items:
        assert PINNED_TOOL.match(item), item
    assert sorted(i.split("@")[0] for i in items) == sorted(SEED_TOOL_MODULES)


def test_tools_stage_layout():
    df = tools_df()
    final = df.final
    for name in ("go", "protoc", "tools", "go-host", "fetcher"):
        df.stage(name)
    copied = {flag_values(c, "from")[0]: c for c in final.of("COPY") if flag_values(c, "from")}
    assert set(copied) == {"go", "protoc", "tools"}
    assert copied["go"].value[-1] == "/usr/local/go"
    assert copied["protoc"].value[-1] == "/usr/local/"
    assert copied["tools"].value[-1] == "/go/bin/"
    # the apt toolchain is in the final stage's own lineage, separate from the download stages
    assert SEED_APT_PACKAGES | {"ca-certificates"} <= set().union(*(apt_installed(s) for s in df.lineage(final)))
    # the download tools stay in the build-platform stages, out of the image
    assert not {"curl", "wget", "unzip"} & set().union(*(apt_installed(s) for s in df.lineage(final)))
    assert final.of("WORKDIR")[-1].value[0] == "/go"
    assert not final.of("USER"), "the toolchain image runs as root (cache mounts under /root)"


def test_tools_environment():
    env = {}
    df = tools_df()
    for s in reversed(df.lineage(df.final)):
        env.update(env_pairs(s))
    assert env["GOTOOLCHAIN"] == "local"
    assert env["GOPATH"] == "/go"
    assert env["GOPROXY"] == "${GOPROXY}" and env["GOSUMDB"] == "${GOSUMDB}"
    path = env["PATH"].split(":")
    assert "/usr/local/go/bin" in path and "/go/bin" in path


def test_tools_go_install_uses_cache_mounts_and_pins():
    tools = tools_df().stage("tools")
    (run,) = [c for c in tools.of("RUN") if "go install" in run_text(c)]
    targets = {m["target"] for m in mounts(run) if m.get("type") == "cache"}
    assert {"/go/pkg/mod", "/root/.cache/go-build"} <= targets
    assert env_pairs(tools)["CGO_ENABLED"] == "0"
    assert env_pairs(tools)["GOTOOLCHAIN"] == "local"


def test_tools_never_ask_the_build_machine_for_its_arch():
    text = tools_df().text
    assert "dpkg --print-architecture" not in text
    assert not re.search(r"\buname\b", text)
    assert "TARGETARCH" in text and "TARGETVARIANT" in text


def test_tools_go_unpack_is_checked_and_version_asserted():
    go = tools_df().stage("go")
    (run,) = go.of("RUN")
    text = run_text(run)
    assert "GOROOT_BOOTSTRAP" in text and "make.bash" in text, "arm/v5 builds Go from source"
    assert 'go${GOLANG_VERSION}' in text and "VERSION" in text


# ---- behaviour of the embedded helper scripts and RUN snippets (needs /bin/sh) ----

needs_sh = pytest.mark.skipif(shutil.which("sh") is None, reason="no /bin/sh")


def heredoc(df: Parsed, target: str) -> str:
    for c in df.commands:
        if c.cmd == "COPY" and c.value[-1] == target and c.heredocs:
            return c.heredocs[0].content
    raise KeyError(target)


def write_exe(path: Path, content: str) -> Path:
    path.write_text(content)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


@pytest.fixture
def helpers(tmp_path) -> Path:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    df = tools_df()
    for name in ("go-platform", "fetch-verified"):
        write_exe(bindir / name, heredoc(df, f"/usr/local/bin/{name}"))
    return bindir


def sh(script: str, env: dict, cwd: Path | None = None) -> subprocess.CompletedProcess:
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env}
    return subprocess.run(["sh", "-c", script], env=full_env, cwd=cwd, capture_output=True,
                          text=True, timeout=60)


GO_PLATFORMS = [
    ("amd64", "", "linux-amd64 amd64 -"),
    ("arm64", "", "linux-arm64 arm64 -"),
    ("arm64", "v8", "linux-arm64 arm64 -"),
    ("arm", "v7", "linux-armv6l arm 7"),
    ("arm", "", "linux-armv6l arm 7"),
    ("arm", "v6", "linux-armv6l arm 6"),
    ("arm", "v5", "src arm 5"),
    ("386", "", "linux-386 386 -"),
    ("ppc64le", "", "linux-ppc64le ppc64le -"),
    ("s390x", "", "linux-s390x s390x -"),
    ("riscv64", "", "linux-riscv64 riscv64 -"),
    ("mips64le", "", "linux-mips64le mips64le -"),
    ("loong64", "", "linux-loong64 loong64 -"),
]


@needs_sh
@pytest.mark.parametrize("arch,variant,expected", GO_PLATFORMS)
def test_go_platform_mapping(helpers, arch, variant, expected):
    r = sh(f'go-platform "{arch}" "{variant}"', {"PATH": f"{helpers}:/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == expected


@needs_sh
@pytest.mark.parametrize("arch,variant", [("mips", ""), ("arm", "v8"), ("", ""), ("sparc64", "")])
def test_go_platform_refuses_unknown(helpers, arch, variant):
    r = sh(f'go-platform "{arch}" "{variant}"', {"PATH": f"{helpers}:/usr/bin:/bin"})
    assert r.returncode != 0
    assert "unsupported architecture" in r.stderr


@needs_sh
@pytest.mark.parametrize(
    "pairs_value,message",
    [
        ("linux-arm64=" + "a" * 64, "GOLANG_SHA256 has no 'linux-amd64=<sha256>' entry"),
        ("", "GOLANG_SHA256 has no 'linux-amd64=<sha256>' entry"),
        ("linux-amd64=XYZ", "is not a 64-digit lower-case hex sha256"),
        ("linux-amd64=" + "A" * 64, "is not a 64-digit lower-case hex sha256"),
    ],
)
def test_fetch_verified_refuses_missing_or_bad_checksum(helpers, tmp_path, pairs_value, message):
    # curl is a stub that would succeed: the helper must stop before downloading
    write_exe(helpers / "curl", "#!/bin/sh\necho downloaded >> \"$CURL_LOG\"\nexit 0\n")
    log = tmp_path / "curl.log"
    r = sh('fetch-verified https://x/go.tgz "$OUT" linux-amd64 GOLANG_SHA256 "$PAIRS"',
           {"PATH": f"{helpers}:/usr/bin:/bin", "OUT": str(tmp_path / "go.tgz"),
            "PAIRS": pairs_value, "CURL_LOG": str(log)})
    assert r.returncode != 0
    assert message in r.stderr
    assert not log.exists(), "downloaded although the checksum was unusable"


@needs_sh
def test_fetch_verified_checks_the_download(helpers, tmp_path):
    payload = b"pretend tarball\n"
    good = hashlib.sha256(payload).hexdigest()
    (tmp_path / "payload").write_bytes(payload)
    # stub curl: honours "-o FILE URL" by copying the payload
    write_exe(helpers / "curl", '#!/bin/sh\nout=\nwhile [ $# -gt 0 ]; do case "$1" in -o) out=$2; shift;; esac; shift; done\n'
                                'cp "$PAYLOAD" "$out"\n')
    env = {"PATH": f"{helpers}:/usr/bin:/bin", "PAYLOAD": str(tmp_path / "payload")}
    out = tmp_path / "ok.tgz"
    r = sh(f'fetch-verified https://x/go.tgz "{out}" src GOLANG_SHA256 "linux-amd64={"0" * 64} src={good}"', env)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == payload
    bad = tmp_path / "bad.tgz"
    r = sh(f'fetch-verified https://x/go.tgz "{bad}" src GOLANG_SHA256 "src={"0" * 64}"', env)
    assert r.returncode != 0
    assert "sha256 mismatch" in r.stderr
    assert not bad.exists(), "a file that failed verification must not be left behind"


def stage_run(df: Parsed, stage: str, needle: str) -> str:
    (c,) = [c for c in df.stage(stage).of("RUN") if needle in run_text(c)]
    return run_text(c)


@needs_sh
@pytest.mark.parametrize(
    "arch,expected_key",
    [("amd64", "linux-x86_64"), ("arm64", "linux-aarch_64"), ("ppc64le", "linux-ppcle_64"),
     ("s390x", "linux-s390_64"), ("386", "linux-x86_32")],
)
def test_protoc_run_picks_the_target_zip(helpers, tmp_path, arch, expected_key):
    script = stage_run(tools_df(), "protoc", "protoc").replace("/out", str(tmp_path / "out"))
    write_exe(helpers / "fetch-verified", '#!/bin/sh\necho "$@" > "$LOG"\nexit 7\n')
    log = tmp_path / "log"
    r = sh(script, {"PATH": f"{helpers}:/usr/bin:/bin", "LOG": str(log), "TARGETARCH": arch,
                    "TARGETVARIANT": "", "PROTOC_VERSION": "30.2", "PROTOC_SHA256": "x",
                    "PROTOC_DOWNLOAD_URL": "https://example.invalid/dl/"})
    assert r.returncode == 7
    url, _file, key, argname = log.read_text().split()[:4]
    assert url == f"https://example.invalid/dl/v30.2/protoc-30.2-{expected_key}.zip"
    assert key == expected_key and argname == "PROTOC_SHA256"


@needs_sh
def test_protoc_run_skips_empty_version_and_refuses_other_arches(helpers, tmp_path):
    script = stage_run(tools_df(), "protoc", "protoc").replace("/out", str(tmp_path / "out"))
    write_exe(helpers / "fetch-verified", "#!/bin/sh\nexit 9\n")
    env = {"PATH": f"{helpers}:/usr/bin:/bin", "TARGETVARIANT": "", "PROTOC_SHA256": "",
           "PROTOC_DOWNLOAD_URL": "https://example.invalid"}
    r = sh(script, {**env, "TARGETARCH": "amd64", "PROTOC_VERSION": ""})
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out").is_dir() and not any((tmp_path / "out").iterdir())
    r = sh(script, {**env, "TARGETARCH": "riscv64", "PROTOC_VERSION": "30.2"})
    assert r.returncode == 1
    assert "no release for linux/riscv64" in r.stderr


def _tools_script(tmp_path: Path) -> str:
    return (stage_run(tools_df(), "tools", "go install")
            .replace("/go/bin", str(tmp_path / "gobin")).replace("/out", str(tmp_path / "out")))


@needs_sh
@pytest.mark.parametrize("bad", ["example.com/x/cmd@latest", "example.com/x/cmd@master", "example.com/x/cmd",
                                 "example.com/x/cmd@v1", "example.com/x/cmd@v1.2", "@v1.2.3"])
def test_tools_run_refuses_unpinned_items_before_installing(helpers, tmp_path, bad):
    log = tmp_path / "go.log"
    write_exe(helpers / "go", '#!/bin/sh\necho "$GOARCH $*" >> "$LOG"\n')
    r = sh(_tools_script(tmp_path), {"PATH": f"{helpers}:/usr/bin:/bin", "LOG": str(log),
                                     "TARGETARCH": "amd64", "TARGETVARIANT": "",
                                     "GO_TOOLS": f"example.com/ok/cmd@v1.0.0 {bad}"})
    assert r.returncode != 0
    assert "GO_TOOLS item" in r.stderr
    assert not log.exists(), "nothing may be installed when one item is not pinned"


@needs_sh
def test_tools_run_cross_installs_every_item(helpers, tmp_path):
    log = tmp_path / "go.log"
    write_exe(helpers / "go", '#!/bin/sh\necho "$GOOS/$GOARCH/$GOARM $*" >> "$LOG"\n'
                              'for a; do last=$a; done\n'
                              'mkdir -p "$GOBIN_DIR" && touch "$GOBIN_DIR/$(basename "${last%@*}")"\n')
    tools = tools_df().global_args["GO_TOOLS"]
    r = sh(_tools_script(tmp_path), {"PATH": f"{helpers}:/usr/bin:/bin", "LOG": str(log),
                                     "GOBIN_DIR": str(tmp_path / "gobin" / "linux_arm"),
                                     "TARGETARCH": "arm", "TARGETVARIANT": "v7", "GO_TOOLS": tools})
    assert r.returncode == 0, r.stderr
    calls = log.read_text().splitlines()
    installed = [c.split()[-1] for c in calls]
    # delve refuses to build for linux/arm: it is skipped with a warning, all others are installed
    assert installed == [t for t in tools.split() if "/delve/" not in t]
    assert "delve does not support linux/arm" in r.stderr
    assert all(c.startswith("linux/arm/7 install -trimpath ") for c in calls)
    assert (tmp_path / "out" / "staticcheck").exists()


# --------------------------------------------------------------------------- golang-runtime


def test_runtime_adds_only_the_nonroot_user():
    df = dockerfile_of("golang-runtime")
    assert len(df.stages) == 1
    (run,) = df.final.of("RUN")
    text = run_text(run)
    assert "apt-get" not in df.text
    assert re.search(r"groupadd\s+--gid\s+65532\s+nonroot", text)
    for opt in ("--uid 65532", "--gid 65532", "--no-log-init", "--home-dir /app", "--shell /usr/sbin/nologin"):
        assert opt in text, opt
    assert "install -d -o 65532 -g 65532" in text and "/app /app/logs" in text
    assert set(df.global_args) == {"BASE_IMAGE"}


# --------------------------------------------------------------------------- golang-runtime-static


def test_runtime_static_is_scratch_with_prepared_rootfs():
    df = dockerfile_of("golang-runtime-static")
    final = df.final
    assert final.base == "scratch"
    assert not final.of("RUN"), "scratch has no shell"
    (copy,) = final.of("COPY")
    assert flag_values(copy, "from") == ["rootfs"] and "--link" in copy.flags
    assert copy.value == ("/rootfs/", "/")
    assert env_pairs(final).get("SSL_CERT_FILE") == "/etc/ssl/certs/ca-certificates.crt"
    rootfs = df.stage("rootfs")
    assert {"ca-certificates", "tzdata"} <= apt_installed(rootfs)
    text = " ".join(run_text(c) for c in rootfs.of("RUN"))
    for needle in ("/rootfs/etc/ssl/certs/ca-certificates.crt", "/rootfs/usr/share/zoneinfo",
                   "nonroot:x:65532:65532:", "nonroot:x:65532:", "root:x:0:0:", "hosts: files dns",
                   "chmod 1777 /rootfs/tmp", "chown -R 65532:65532 /rootfs/app", "/rootfs/app/logs"):
        assert needle in text, needle
    assert set(df.global_args) == {"BASE_IMAGE", "DEBIAN_MIRROR"}


# --------------------------------------------------------------------------- ci-demo-go (application)


def app_df() -> Parsed:
    return dockerfile_of("ci-demo-go")


def test_app_from_names_are_the_bake_contexts():
    df = app_df()
    stage_names = {s.name for s in df.stages}
    external = [s.base for s in df.stages if s.base not in stage_names]
    assert external == ["golang-tools", "golang-runtime"]
    assert df.stages[0].name == "builder" and df.final.base == "golang-runtime"
    assert not df.global_args


def test_app_args_and_defaults():
    args = stage_args(app_df().stage("builder"))
    assert args == {"APP": "ci-demo-go", "APP_ENV": "dev", "GIT_BRANCH": "unknown",
                    "GIT_COMMIT_ID": "unknown", "VERSION": "dev", "MAIN_PACKAGE": ".",
                    "TARGETOS": None, "TARGETARCH": None, "TARGETVARIANT": None}
    assert stage_args(app_df().final) == {"APP_ENV": "dev"}


def test_app_downloads_modules_before_copying_sources():
    builder = app_df().stage("builder")
    cmds = [c for c in builder.commands if c.cmd in ("COPY", "RUN")]
    assert cmds[0].cmd == "COPY" and cmds[0].value[:-1] == ("go.mod", "go.sum*")
    assert cmds[1].cmd == "RUN" and "go mod download" in run_text(cmds[1])
    assert {m["target"] for m in mounts(cmds[1])} >= {"/go/pkg/mod"}
    assert cmds[2].cmd == "COPY" and cmds[2].value == (".", ".")
    assert "go build" in run_text(cmds[3])


def test_app_build_flags():
    (run,) = [c for c in app_df().stage("builder").of("RUN") if "go build" in run_text(c)]
    text = run_text(run)
    assert {m["target"] for m in mounts(run) if m.get("type") == "cache"} == {"/go/pkg/mod", "/root/.cache/go-build"}
    for needle in ('CGO_ENABLED=0 GOOS="$TARGETOS" GOARCH="$TARGETARCH" GOARM="${TARGETVARIANT#v}" go build', "-trimpath", "-tags netgo,osusergo", "-buildvcs=false",
                   '-ldflags "-s -w -buildid= -X main.branch=${GIT_BRANCH} -X main.commit=${GIT_COMMIT_ID} '
                   '-X main.version=${VERSION}"', '"./${MAIN_PACKAGE#./}"'):
        assert needle in text, needle


def test_app_final_stage():
    final = app_df().final
    (copy,) = final.of("COPY")
    assert set(copy.flags) == {"--link", "--from=builder", "--chown=65532:65532"}
    assert env_pairs(final)["APP_CONFIG"] == "/app/etc/app_${APP_ENV}.yaml"
    (entry,) = final.of("ENTRYPOINT")
    assert entry.json and entry.value == ("/app/service",)
    assert not final.of("CMD")
    (hc,) = final.of("HEALTHCHECK")
    assert hc.json and hc.value == ("CMD", "/app/service", "-healthcheck")
    assert [c.value for c in final.of("EXPOSE")] == [("8080",)]


@pytest.fixture
def app_build(tmp_path):
    """The builder's go build RUN, runnable with a stub go, in a copy of a tiny app."""
    src = tmp_path / "src"
    (src / "etc").mkdir(parents=True)
    (src / "etc" / "app_dev.yaml").write_text("env: dev\n")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    write_exe(bindir / "go", '#!/bin/sh\nprintf "%s\\n" "$@" > "$LOG"\n'
                             'while [ $# -gt 0 ]; do case "$1" in -o) out=$2; shift;; esac; shift; done\n'
                             'touch "$out"\n')
    (run,) = [c for c in app_df().stage("builder").of("RUN") if "go build" in run_text(c)]
    script = run_text(run).replace("/out", str(tmp_path / "out"))
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "LOG": str(tmp_path / "go.log"), "APP": "ci-demo-go",
           "GIT_BRANCH": "main", "GIT_COMMIT_ID": "abc1234", "VERSION": "1.0.0", "MAIN_PACKAGE": ".",
           "TARGETOS": "linux", "TARGETARCH": "arm64", "TARGETVARIANT": ""}
    return script, env, src, tmp_path


@needs_sh
def test_app_build_run_checks_config_for_app_env(app_build):
    script, env, src, tmp = app_build
    r = sh(script, {**env, "APP_ENV": "prd"}, cwd=src)
    assert r.returncode == 1
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: APP_ENV=prd needs etc/app_prd.yaml, which is not in the build context"]
    assert not (tmp / "go.log").exists()


@needs_sh
def test_app_build_run_builds_the_package(app_build):
    script, env, src, tmp = app_build
    r = sh(script, {**env, "APP_ENV": "dev"}, cwd=src)
    assert r.returncode == 0, r.stderr
    argv = (tmp / "go.log").read_text().splitlines()
    assert argv[0] == "build" and argv[-1] == "./."
    assert "-s -w -buildid= -X main.branch=main -X main.commit=abc1234 -X main.version=1.0.0" in argv
    assert (tmp / "out" / "app" / "service").exists()
    assert (tmp / "out" / "app" / "etc" / "app_dev.yaml").exists()
    assert (tmp / "out" / "app" / "logs").is_dir()
    r = sh(script, {**env, "APP_ENV": "dev", "MAIN_PACKAGE": "main.go"}, cwd=src)
    assert r.returncode == 1 and "not a .go file" in r.stderr


def test_example_ships_a_config_for_every_env():
    etc = EXAMPLE / "etc"
    for env in ("dev", "test", "prd"):
        assert (etc / f"app_{env}.yaml").is_file(), env
    assert not (etc / "app_prod.yaml").exists(), "APP_ENV=prd reads etc/app_prd.yaml"
    ignored = (EXAMPLE / ".dockerignore").read_text().split()
    assert "etc" not in ignored and "go.mod" not in ignored and ".git" in ignored
    gomod = (EXAMPLE / "go.mod").read_text()
    assert "module example.com/ci-demo-go" in gomod and re.search(r"^go 1\.24$", gomod, re.M)


# ---- cache-friendliness found by building for real (BuildKit, amd64 + arm64 under qemu) ----
def _stages(path):
    out = []
    for c in dockerfile.parse_file(str(path)):
        if c.cmd.upper() == "FROM":
            out.append([c])
        elif out:
            out[-1].append(c)
    return out


def test_toolchain_apt_layer_does_not_depend_on_the_go_version():
    """An ARG before a RUN is part of its cache key: the final stage's apt install must come
    before GOLANG_VERSION/GOPROXY/GOSUMDB, so a Go bump reuses the 150 MB apt layer."""
    final = _stages(BAKE / "golang-tools" / "Dockerfile")[-1]
    apt = next(i for i, c in enumerate(final) if c.cmd.upper() == "RUN" and "apt-get install" in c.original)
    before = {c.value[0].split("=")[0] for c in final[:apt] if c.cmd.upper() == "ARG"}
    assert not before & {"GOLANG_VERSION", "GOPROXY", "GOSUMDB", "GO_TOOLS"}, before


def test_app_builder_cross_compiles_on_the_build_platform():
    builder = _stages(BAKE / "ci-demo-go" / "Dockerfile")[0]
    assert builder[0].flags == ("--platform=$BUILDPLATFORM",)
    build = next(c for c in builder if c.cmd.upper() == "RUN" and "go build" in c.original)
    assert 'GOOS="$TARGETOS" GOARCH="$TARGETARCH"' in build.original


def test_app_build_args_come_after_the_module_download():
    builder = _stages(BAKE / "ci-demo-go" / "Dockerfile")[0]
    download = next(i for i, c in enumerate(builder) if "go mod download" in c.original)
    early = {c.value[0].split("=")[0] for c in builder[:download] if c.cmd.upper() == "ARG"}
    assert not early, f"{early} would re-run the module download on every commit"


@pytest.mark.parametrize("path", DOCKERFILES, ids=IDS)
def test_apt_cache_mounts_are_per_architecture(path):
    for c in dockerfile.parse_file(str(path)):
        for flag in c.flags:
            if flag.startswith("--mount=type=cache") and "/apt" in flag:
                assert re.search(r"id=apt-[a-z]+-\$(TARGETARCH|BUILDARCH)", flag), flag
