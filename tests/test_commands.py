"""graph, explain, --format json and builder."""

import json
import re
import subprocess
import sys

import pygohcl
import pytest
from conftest import BAKE_TARGET_ATTRIBUTES, ROOT, run_bakegen, targets_of


def normalize_json_target(t: dict) -> dict:
    """JSON bake values are HCL templates: ${REGISTRY} is the variable, $${ a literal ${."""
    def fix(v):
        if isinstance(v, str):
            return v.replace("${REGISTRY}", "REGISTRY").replace("$${", "${").replace("%%{", "%{")
        if isinstance(v, list):
            return [fix(x) for x in v]
        if isinstance(v, dict):
            return {fix(k): fix(x) for k, x in v.items()}
        return v
    return fix(t)


def test_json_format_means_the_same_as_hcl():
    hcl = run_bakegen()
    js = run_bakegen("--format", "json")
    assert hcl.code == js.code == 0
    doc = json.loads(js.stdout)
    parsed = pygohcl.loads(hcl.stdout)
    assert {k: normalize_json_target(v) for k, v in doc["target"].items()} == parsed["target"]
    assert doc["group"] == parsed["group"]
    assert doc["variable"]["REGISTRY"]["default"] == parsed["variable"]["REGISTRY"]["default"]
    for t in doc["target"].values():
        assert set(t) <= BAKE_TARGET_ATTRIBUTES


def test_json_check_and_meta(project, repo):
    out = project / "docker-bake.json"
    assert run_bakegen("--format", "json", "-o", str(out), cwd=project).code == 0
    assert run_bakegen("--format", "json", "--check", str(out), cwd=project).code == 0
    assert run_bakegen("--check", str(out), cwd=project).code == 1  # HCL is not what the file holds
    repo.commit()
    r = run_bakegen("meta", "--format", "json", "--definitions", str(ROOT / "bake"), cwd=repo.path)
    meta = json.loads(r.stdout)["target"]["ci-demo-go-dev"]
    assert meta["tags"][0].startswith("${REGISTRY}/dev/ci-demo-go:main-")


def test_json_validates_the_registry_as_hcl_does():
    doc = json.loads(run_bakegen("--format", "json").stdout)
    (rule,) = doc["variable"]["REGISTRY"]["validation"]
    assert rule["condition"].startswith("${can(regex(") and "REGISTRY must be" in rule["error_message"]


def test_graph_mermaid():
    r = run_bakegen("graph")
    assert r.code == 0
    lines = r.stdout.splitlines()
    assert lines[0] == "flowchart LR"
    tools, runtime = "harbor.bdser.cc/common/tools/golang-build:1.27.0", "harbor.bdser.cc/common/runtime/golang:debian13"
    for env in ("dev", "test", "prd"):
        assert f'  t_golang_build -->|"FROM {tools}"| t_ci_demo_go_{env}' in lines
        assert f'  t_golang_runtime -->|"FROM {runtime}"| t_ci_demo_go_{env}' in lines
    assert sum("-->" in l for l in lines) == 6
    assert lines.count("  end") == 2  # subgraphs base and apps
    assert '  t_golang_tools["golang-tools<br/>harbor.bdser.cc/common/tools/golang:1.27.0<br/>linux/amd64, linux/arm64"]' in lines


def test_graph_dot():
    r = run_bakegen("graph", "--format", "dot")
    assert r.code == 0
    assert r.stdout.startswith("digraph bake {") and r.stdout.rstrip().endswith("}")
    assert '"golang-build" -> "ci-demo-go-prd" [label="FROM harbor.bdser.cc/common/tools/golang-build:1.27.0"];' \
        in r.stdout
    assert r.stdout.count("->") == 6


def test_explain_says_where_each_value_comes_from(repo):
    repo.commit()
    r = run_bakegen("explain", "golang-tools", cwd=repo.path, env={"BAKEGEN_DEFINITIONS": str(ROOT / "bake")})
    assert r.code == 0, r
    out = r.stdout
    assert re.search(r"golang:1\.27\n\s+<- 1\.27: newest stable patch of the 1\.27 line.*versions at .*bake/golang-tools/image\.hcl:\d+", out)
    assert re.search(r"GOLANG_VERSION = '1\.27\.0'\n\s+<- versions \(.*image\.hcl:\d+\)", out)
    assert "org.opencontainers.image.revision" in out and "per build (bakegen meta)" in out


def test_explain_app_names_git_and_ci_sources(repo):
    repo.commit()
    repo.git("checkout", "-q", "--detach")
    r = run_bakegen("explain", "ci-demo-go-prd", cwd=repo.path,
                    env={"BAKEGEN_DEFINITIONS": str(ROOT / "bake"), "CI_COMMIT_REF_NAME": "main"})
    assert r.code == 0, r
    assert "prd/ci-demo-go:latest" in r.stdout
    assert "$CI_COMMIT_REF_NAME (GitLab CI; HEAD is detached)" in r.stdout
    assert "latest: env 'prd' is in latest_envs and branch 'main' is in latest_branches" in r.stdout
    assert "harbor.bdser.cc/common/tools/golang-build:1.27.0 = target:golang-build" in r.stdout
    assert "TOOLCHAIN_IMAGE = 'harbor.bdser.cc/common/tools/golang-build:1.27.0'" in r.stdout


def test_explain_shows_the_content_key_bake_uses_and_what_went_into_it(project):
    """The key explain prints is the one `bakegen bake` tags and labels the image with; it lists
    the files the build sees, and a one-line change to one of them gives another key. The apps
    link the compile image and runtime of the same run, so their keys hold the bases' keys."""
    from conftest import Repo

    repo = Repo(project)
    repo.commit()

    def explained(target):
        r = run_bakegen("explain", target, cwd=project)
        assert r.code == 0, r
        return r.stdout

    tools = explained("golang-build")
    key = re.search(r"^content key: ([0-9a-f]{64})$", tools, re.M)[1]
    assert "label dev.bakegen.key" in tools and f"key-{key[:40]}" in tools
    assert re.search(r"^  context bake/golang-build: every file of the context: 2 files\n"
                     r"    Dockerfile 100644 git:[0-9a-f]{12}\n    image\.hcl 100644 git:", tools, re.M)
    assert re.search(r"^  folder bakegen-lib: 4 files\n    apt-mirror 1007.*\n    fetch 1007.*\n    go-release 1007.*\n"
                     r"    pick 1007", tools, re.M)
    app = explained("ci-demo-go-dev")
    assert f"  base common/tools/golang-build:1.27.0 (target golang-build's key): {key}" in app
    assert "Dockerfile: generated from the definition" in app and "    etc/app_dev.yaml 100644 git:" in app
    assert f"dev.bakegen.key = '{re.search(r'^content key: ([0-9a-f]{64})$', app, re.M)[1]}'" in app
    dockerfile = project / "bake/golang-build/Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "# one more line\n")
    changed = explained("golang-build")
    assert re.search(r"^content key: ([0-9a-f]{64})$", changed, re.M)[1] != key
    assert re.search(r"^    Dockerfile 100644 sha256:[0-9a-f]{9}$", changed, re.M)  # what is on disk, not git's


def test_explain_without_git_says_there_is_no_content_key(project):
    r = run_bakegen("explain", "golang-tools", cwd=project)
    assert r.code == 0, r
    assert "content key: none, so bakegen bake always builds it" in r.stdout


def test_explain_a_group_is_an_error():
    r = run_bakegen("explain", "base")
    assert r.code == 2 and "is a group" in r.stderr


def test_builder_dry_run_prints_one_native_node_per_platform():
    r = run_bakegen("builder", "--dry-run", "ssh://ci@amd64-1=linux/amd64", "ssh://ci@arm64-1=linux/arm64,linux/arm/v7")
    assert r.code == 0, r
    assert r.stdout.splitlines() == [
        "docker buildx create --name bakegen --driver docker-container --node bakegen-amd64 --platform linux/amd64 ssh://ci@amd64-1",
        "docker buildx create --name bakegen --append --node bakegen-arm64-armv7 --platform linux/arm64,linux/arm/v7 ssh://ci@arm64-1",
        "docker buildx inspect --bootstrap bakegen",
    ]


def test_builder_kubernetes_driver():
    r = run_bakegen("builder", "--dry-run", "--driver", "kubernetes", "--name", "k8s", "default=linux/amd64", "ctx-b=linux/arm64")
    assert r.stdout.splitlines()[:2] == [
        "docker buildx create --name k8s --driver kubernetes --node k8s-amd64 --platform linux/amd64 --driver-opt namespace=buildkit,nodeselector=kubernetes.io/arch=amd64",
        "docker buildx create --name k8s --append --node k8s-arm64 --platform linux/arm64 --driver-opt namespace=buildkit,nodeselector=kubernetes.io/arch=arm64 ctx-b",
    ]


def test_builder_refuses_bad_nodes():
    for args, message in ((["x"], "ENDPOINT=PLATFORM"), (["a=linux/amd64", "b=linux/amd64"], "on two nodes"),
                          (["a=linux/sparc"], "unknown platform"), ([], "no nodes")):
        r = run_bakegen("builder", "--dry-run", *args)
        assert r.code == 2 and message in r.stderr, (args, r)


BAKEGEN_MAKE = [f"BAKEGEN={sys.executable} -m bakegen", "BAKEGEN_DEP="]  # no venv, no install


def test_make_builder_dry_run():
    proc = subprocess.run(["make", "-s", "builder", "DRY_RUN=1", "NODES=tcp://bk-amd64:1234=linux/amd64 tcp://bk-arm64:1234=linux/arm64",
                           "BUILDER_DRIVER=remote", *BAKEGEN_MAKE],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert [l for l in proc.stdout.splitlines() if l.startswith("docker ")] == [
        "docker buildx create --name bakegen --driver remote --node bakegen-amd64 --platform linux/amd64 tcp://bk-amd64:1234",
        "docker buildx create --name bakegen --append --node bakegen-arm64 --platform linux/arm64 tcp://bk-arm64:1234",
        "docker buildx inspect --bootstrap bakegen",
    ]


def test_python_dash_m_and_version():
    r = run_bakegen("--version")
    assert r.code == 0 and re.fullmatch(r"bakegen, version \d+\.\d+\.\d+\n", r.stdout)


def test_shell_completion_script():
    r = run_bakegen(env={"_BAKEGEN_COMPLETE": "bash_source"})
    assert r.code == 0 and "_bakegen_completion" in r.stdout


def test_cache_option_renders_registry_cache():
    t = targets_of(run_bakegen("--registry-cache").stdout)
    assert t["golang-tools"]["cache-from"] == ["type=registry,ref=REGISTRY/common/tools/golang-bakegen:buildcache"]
    assert t["golang-tools"]["cache-to"] == [
        "type=registry,ref=REGISTRY/common/tools/golang-bakegen:buildcache,mode=max,ignore-error=true"]
    assert t["golang-runtime-static"]["cache-from"] == ["type=registry,ref=REGISTRY/common/runtime/golang-bakegen:buildcache-static-debian13"]
    for env in ("dev", "prd"):  # each env its own cache, beside its own image
        assert t[f"ci-demo-go-{env}"]["cache-to"] == [
            f"type=registry,ref=REGISTRY/{env}/ci-demo-go-bakegen:buildcache,mode=max,ignore-error=true"]
    assert "cache-from" not in targets_of(run_bakegen().stdout)["golang-tools"]


def test_make_bake_says_clearly_when_buildx_is_missing(tmp_path, repo):
    """With no docker on PATH, `make bake` checks the committed file, then stops at docker with a
    message, not a shell error; it never rewrites the committed file."""
    import os
    import shutil

    for name in ("bake", "examples", "docker-bake.hcl", "Makefile"):
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, repo.path / name)
    repo.commit()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("make", "sh", "mkdir", "git"):
        os.symlink(shutil.which(tool), bin_dir / tool)
    proc = subprocess.run(["make", "-s", "bake", *BAKEGEN_MAKE], cwd=repo.path, capture_output=True, text=True,
                          env={**os.environ, "PATH": str(bin_dir)})
    assert proc.returncode != 0
    assert "docker buildx is not available here" in proc.stderr and "Traceback" not in proc.stderr


def test_make_bake_refuses_a_stale_file_and_builds_nothing(repo):
    """`make bake` checks the committed file (as CI does), it does not rewrite it: a stale file
    stops it with the diff, exit 1, the tree left clean."""
    import shutil

    for name in ("bake", "examples", "docker-bake.hcl", "Makefile"):
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, repo.path / name)
    text = (repo.path / "docker-bake.hcl").read_text()
    (repo.path / "docker-bake.hcl").write_text(text.replace('"1.27.0"', '"1.26.7"', 1))
    repo.commit()
    proc = subprocess.run(["make", "-s", "bake", *BAKEGEN_MAKE], cwd=repo.path, capture_output=True, text=True)
    assert proc.returncode != 0 and "docker-bake.hcl is not what bake/ gives" in proc.stderr
    assert "nothing was built" in proc.stderr and repo.git("status", "--porcelain") == ""


@pytest.mark.parametrize("target, message", [("apps-qa", 'no target or group "apps-qa"'),
                                             ("nothing", 'no target or group "nothing"')])
def test_make_targets_that_name_nothing_fail(repo, target, message):
    import shutil

    for name in ("bake", "examples", "docker-bake.hcl", "Makefile"):
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, repo.path / name)
    repo.commit()
    proc = subprocess.run(["make", "-s", "bake", f"TARGETS={target}", *BAKEGEN_MAKE], cwd=repo.path,
                          capture_output=True, text=True)
    assert proc.returncode != 0 and message in proc.stderr


def test_bake_without_the_committed_file_says_so_in_one_line(repo):
    """Issue 25: a missing docker-bake.hcl is not a 293-line diff: one line with the fix; with no
    bake/ at all, the fix is init (regenerating would be refused there)."""
    import shutil

    shutil.copytree(ROOT / "bake", repo.path / "bake")
    shutil.copytree(ROOT / "examples", repo.path / "examples")
    repo.commit()
    r = run_bakegen("bake", "--push", cwd=repo.path)
    assert r.code == 2 and r.stdout == ""
    assert r.stderr == ("bakegen: error: docker-bake.hcl does not exist: write it (bakegen -o docker-bake.hcl), "
                        "review it and commit it; bakegen bake builds what it says\n")
    shutil.rmtree(repo.path / "bake")
    r = run_bakegen("bake", cwd=repo.path)
    assert r.code == 2 and "no bake/ here, so nothing to build: `bakegen init`" in r.stderr and r.stdout == ""


def test_load_without_a_docker_daemon_stops_before_building(repo):
    """Issue 25: --load needs a Docker daemon to load into; without one it stops first (it used to
    build everything, then fail with `io: read/write on closed pipe`). This machine has the docker
    client and no daemon; where docker is missing the message says that instead."""
    import shutil

    for name in ("bake", "examples", "docker-bake.hcl"):
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, repo.path / name)
    repo.commit()
    if subprocess.run(["docker", "version"], capture_output=True).returncode == 0 if shutil.which("docker") else False:
        pytest.skip("a Docker daemon answers here")
    r = run_bakegen("bake", "--load", "ci-demo-go-dev", cwd=repo.path)
    assert r.code == 2 and "no Docker daemon answers here" in r.stderr and r.stderr.count("\n") == 1, r
