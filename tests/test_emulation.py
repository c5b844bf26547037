"""Which platforms a build must emulate (QEMU): `dockerargs.run_platforms` reads where the RUN
steps of building a Dockerfile stage run, and `bakegen platforms --emulated` prints the platforms
of the images that run commands for a platform other than the build machine's, in the form
`tonistiigi/binfmt --install` and docker/setup-qemu-action's `platforms:` take, or nothing. The
CI recipes install QEMU only for those (tests/test_ci_recipes.py)."""

from __future__ import annotations

import shutil

import dockerfile
import pytest
from conftest import ROOT, run_bakegen

from bakegen.dockerargs import TARGET, run_platforms
from bakegen.platforms import machine_platform

REPOS = ROOT / "examples" / "repos"  # as `bakegen init` writes them (a test checks they are current)

CASES = {
    # name: (Dockerfile, stage, where its RUN steps run)
    "build platform": ("FROM --platform=$BUILDPLATFORM golang AS b\nRUN go build\nFROM scratch\nCOPY --from=b /x /\n",
                       "", set()),
    "braces": ("FROM --platform=${BUILDPLATFORM} golang\nRUN go build\n", "", set()),
    "target platform": ("FROM debian\nRUN apt-get update\n", "", {TARGET}),
    "explicit target": ("FROM --platform=$TARGETPLATFORM debian\nRUN true\n", "", {TARGET}),
    "another arg counts as the target": ("ARG P=linux/amd64\nFROM --platform=$P debian\nRUN true\n", "", {TARGET}),
    "fixed platform": ("FROM --platform=linux/arm64 debian AS a\nRUN true\nFROM scratch\nCOPY --from=a / /\n", "",
                       {"linux/arm64"}),
    "copy only": ("FROM debian\nCOPY x /x\nENV A=1\nUSER 1\n", "", set()),
    "from a build-platform stage inherits it": (
        "FROM --platform=$BUILDPLATFORM golang AS m\nRUN true\nFROM m AS d\nRUN go build\n", "", set()),
    "from a target stage inherits it": ("FROM debian AS base\nFROM base\nRUN true\n", "", {TARGET}),
    "copy from a target stage that runs": (
        "FROM debian AS t\nRUN make\nFROM --platform=$BUILDPLATFORM debian\nCOPY --from=t /a /a\n", "", {TARGET}),
    "copy from a stage by number": ("FROM debian\nRUN make\nFROM scratch\nCOPY --from=0 /a /a\n", "", {TARGET}),
    "mount from a stage": ("FROM debian AS t\nRUN make\nFROM --platform=$BUILDPLATFORM debian\n"
                           "RUN --mount=type=bind,from=t,target=/t true\n", "", {TARGET}),
    "mount from a named context": ("FROM --platform=$BUILDPLATFORM debian\nRUN --mount=from=lib,target=/l true\n",
                                   "", set()),
    "a stage not built does not count": ("FROM debian AS unused\nRUN make\nFROM scratch AS out\nCOPY a /a\n", "",
                                         set()),
    "the stage named": ("FROM debian AS runs\nRUN make\nFROM scratch AS copies\nCOPY a /a\n", "RUNS", {TARGET}),
    "a stage that is not there": ("FROM scratch AS a\nCOPY a /a\n", "b", {TARGET}),
    "continuation and heredoc": ("FROM --platform=$BUILDPLATFORM \\\n  debian AS b\nRUN <<EOF\nFROM debian\nEOF\n"
                                 "FROM scratch\nCOPY --from=b / /\n", "", set()),
    "lower case": ("from --platform=$BUILDPLATFORM debian as B\nrun true\nfrom scratch\ncopy --from=b / /\n", "",
                   set()),
}


def buildkit_reading(text: str, stage: str) -> frozenset[str]:
    """The same rule on BuildKit's own parse of the Dockerfile (the `dockerfile` package)."""
    stages: list[dict] = []

    def index(ref: str, numbers: bool) -> int | None:
        ref = ref.lower()
        if numbers and ref.isdigit():
            return int(ref)
        return next((i for i, s in enumerate(stages) if s["name"] == ref), None)

    for c in dockerfile.parse_string(text):
        flags = dict(f[2:].split("=", 1) for f in c.flags if "=" in f)
        if c.cmd.upper() == "FROM":
            base = index(c.value[0], False)
            name = c.value[2].lower() if len(c.value) == 3 else ""
            p = flags.get("platform")
            platform = ("" if p in ("$BUILDPLATFORM", "${BUILDPLATFORM}") else TARGET if p is None or "$" in p else p) \
                if p is not None or base is None else stages[base]["platform"]
            stages.append({"name": name, "platform": platform, "runs": False, "needs": {base} - {None}})
        elif c.cmd.upper() in ("RUN", "COPY", "ADD"):
            refs = [flags["from"]] if "from" in flags else []
            refs += [f.split("=", 1)[1] for fl in c.flags if fl.startswith("--mount=")
                     for f in fl.split("=", 1)[1].split(",") if f.startswith("from=")]
            stages[-1]["needs"] |= {index(r, True) for r in refs} - {None}
            stages[-1]["runs"] |= c.cmd.upper() == "RUN"
    start = next((i for i, s in enumerate(stages) if s["name"] == stage.lower()), None) if stage else len(stages) - 1
    if start is None:
        return frozenset({TARGET})

    def built(i: int) -> set[int]:  # a stage and those it needs (each needs only earlier ones)
        return {i}.union(*(built(j) for j in stages[i]["needs"]))

    return frozenset(stages[i]["platform"] for i in built(start) if stages[i]["runs"] and stages[i]["platform"])


@pytest.mark.parametrize("name", sorted(CASES))
def test_where_run_steps_run(name):
    text, stage, expected = CASES[name]
    assert run_platforms(text, stage) == expected
    assert buildkit_reading(text, stage) == expected  # the rule read from BuildKit's parse agrees


@pytest.mark.parametrize("path", sorted(ROOT.glob("bake/*/Dockerfile")), ids=lambda p: p.parent.name)
def test_the_shipped_base_images(path):
    text = path.read_text()
    # the toolchain and the runtime install packages on the target platform; the static runtime
    # and the compile image assemble their files on the build platform and their last stage only
    # copies them
    expected = set() if path.parent.name in ("golang-runtime-static", "golang-build") else {TARGET}
    assert run_platforms(text) == expected == buildkit_reading(text, "")


def test_every_generated_app_dockerfile_runs_only_on_the_build_platform():
    """The app's generated Dockerfile (plain and cgo) compiles on $BUILDPLATFORM for the target;
    its runtime and env stages only copy: no env stage needs emulation."""
    for repo in ("ci-demo-go", "cgo-demo"):
        text = (REPOS / repo / "docker-bake.hcl").read_text()
        body = text.split('dockerfile-inline = <<EOT\n', 1)[1].split("\nEOT\n", 1)[0].replace("$${", "${")
        stages = [line.split()[-1] for line in body.splitlines() if line.startswith("FROM ")]
        assert "builder" in stages and any(s.startswith("env-") for s in stages), stages
        for stage in stages:
            assert run_platforms(body, stage) == set() == buildkit_reading(body, stage), (repo, stage)


@pytest.mark.parametrize("machine, platform", [("x86_64", "linux/amd64"), ("aarch64", "linux/arm64"),
                                               ("arm64", "linux/arm64"), ("armv7l", "linux/arm/v7"),
                                               ("riscv64", "linux/riscv64"), ("sparc64", "linux/sparc64")])
def test_machine_platform(machine, platform):
    assert machine_platform(machine) == platform


# ------------------------------------------------------------------------------ the command
def platforms(cwd, *args):
    r = run_bakegen("platforms", *args, cwd=cwd)
    assert r.code == 0, r
    return r.stdout, r.stderr


def test_base_images_for_amd64_and_arm64_emulate_the_other_platform():
    repo = REPOS / "base-images"
    assert platforms(repo) == ("linux/amd64,linux/arm64\n", "")
    out, err = platforms(repo, "--emulated", "--build-platform", "linux/amd64")
    assert out == "linux/arm64\n"
    assert err == ("bakegen: bake/ on linux/amd64: emulate linux/arm64 for golang-runtime, golang-tools (their RUN "
                   "steps run on the target platform)\n")
    assert platforms(repo, "--emulated", "--build-platform", "linux/arm64")[0] == "linux/amd64\n"
    assert platforms(repo, "--emulated", "--build-platform", "linux/riscv64")[0] == "linux/amd64,linux/arm64\n"


def test_an_amd64_only_repository_emulates_nothing_on_amd64(tmp_path):
    repo = tmp_path / "base-images"
    shutil.copytree(REPOS / "base-images", repo)
    settings = repo / "bake/bakegen.hcl"
    settings.write_text(settings.read_text().replace('["linux/amd64", "linux/arm64"]', '["linux/amd64"]'))
    assert platforms(repo) == ("linux/amd64\n", "")
    out, err = platforms(repo, "--emulated", "--build-platform", "linux/amd64")
    assert out == "" and "nothing to emulate" in err
    assert platforms(repo, "--emulated", "--build-platform", "linux/arm64")[0] == "linux/amd64\n"


@pytest.mark.parametrize("repo", ["ci-demo-go", "cgo-demo"])
def test_a_service_on_published_bases_emulates_nothing(repo):
    assert platforms(REPOS / repo)[0] == "linux/amd64,linux/arm64\n"
    for here in ("linux/amd64", "linux/arm64"):
        out, err = platforms(REPOS / repo, "--emulated", "--build-platform", here)
        assert out == "" and err == f"bakegen: bake/ on {here}: nothing to emulate (no image runs commands for " \
                                    "another platform)\n"


def test_the_build_platform_defaults_to_this_machine_and_is_checked():
    import platform

    here = machine_platform(platform.machine())
    out, err = platforms(REPOS / "base-images", "--emulated")
    assert f" on {here}: " in err and here not in out.split(",")
    r = run_bakegen("platforms", "--emulated", "--build-platform", "linux/sparc", cwd=REPOS / "base-images")
    assert r.code == 2 and r.stdout == "" and r.stderr.startswith('bakegen: error: --build-platform: unknown platform')
    r = run_bakegen("platforms", "--emulated", cwd=REPOS / "base-images", env={"BAKEGEN_BUILD_PLATFORM": "x"})
    assert r.code == 2 and r.stderr.startswith("bakegen: error: BAKEGEN_BUILD_PLATFORM: unknown platform")


def test_the_built_in_definitions(tmp_path):
    """No bake/ here: the built-in example, whose Dockerfiles are bakegen's own."""
    out, err = platforms(tmp_path, "--emulated", "--build-platform", "linux/amd64")
    assert out == "linux/arm64\n" and "golang-runtime, golang-tools " in err


def test_a_dockerfile_it_cannot_read_counts_as_running_commands():
    from bakegen.commands.platforms import needs
    from bakegen.model import BakeFile, Target

    bake = BakeFile([], {}, [Target("a", "a", "runtime", platforms=["linux/amd64", "linux/arm64"]),
                             Target("b", "b", "runtime", platforms=["linux/s390x"])], [])
    assert needs(bake, {"a": None, "b": "FROM scratch\nCOPY x /x\n"}, "linux/amd64") == {"linux/arm64": ["a"]}
    assert needs(bake, {"a": "FROM --platform=linux/arm64/v8 debian\nRUN true\n", "b": None}, "linux/amd64") == {
        "linux/arm64": ["a"], "linux/s390x": ["b"]}  # a fixed platform, in bakegen's spelling
