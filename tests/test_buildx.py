"""Real buildx: `docker buildx bake --print` on the committed file plus the meta file.

Skipped cleanly where `docker buildx version` fails (.ci/run installs the real one where
../shared/tools/buildkit has it).
"""

import json
import os
import subprocess

import pytest
from conftest import BUILDX, ROOT, run_bakegen

pytestmark = pytest.mark.skipif(not BUILDX, reason="docker buildx is not available")


def bake(*args, cwd=ROOT, env=None):
    proc = subprocess.run(["docker", "buildx", "bake", "--progress=quiet", *args], cwd=cwd,
                          capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture
def files(repo, tmp_path):
    repo.commit()
    meta = tmp_path / "meta.hcl"
    r = run_bakegen("meta", "--definitions", str(ROOT / "bake"), "-o", str(meta),
                    cwd=repo.path, env={"SOURCE_DATE_EPOCH": "1751412000"})
    assert r.code == 0, r
    return ROOT / "docker-bake.hcl", meta, repo.git("rev-parse", "HEAD")


def test_print_resolves_every_target(files):
    committed, meta, sha = files
    printed = json.loads(bake("-f", str(committed), "-f", str(meta), "--print"))
    t = printed["target"]
    assert set(t) == {"ci-demo-go-dev", "ci-demo-go-prd", "ci-demo-go-test", "golang-build", "golang-runtime",
                      "golang-runtime-static", "golang-tools"}
    assert t["golang-tools"]["tags"] == [
        "harbor.bdser.cc/common/tools/golang:1.27.0", "harbor.bdser.cc/common/tools/golang:1.27",
        "harbor.bdser.cc/common/tools/golang:1.27.0-debian13", "harbor.bdser.cc/common/tools/golang:1.27-debian13"]
    app = t["ci-demo-go-prd"]
    assert app["tags"] == [f"harbor.bdser.cc/prd/ci-demo-go:main-{sha[:7]}-202507012320",
                           "harbor.bdser.cc/prd/ci-demo-go:latest"]
    assert app["target"] == "env-prd" and app["dockerfile-inline"] == t["ci-demo-go-dev"]["dockerfile-inline"]
    assert 'CMD ["-f", "/app/etc/app_prd.yaml"]' in app["dockerfile-inline"]  # inherited, and read as written
    assert app["args"]["GIT_COMMIT_ID"] == sha[:7] and app["args"]["SOURCE_DATE_EPOCH"] == "1751412000"
    assert app["args"]["TOOLCHAIN_IMAGE"] == "harbor.bdser.cc/common/tools/golang-build:1.27.0"
    assert app["contexts"] == {"harbor.bdser.cc/common/tools/golang-build:1.27.0": "target:golang-build",
                               "harbor.bdser.cc/common/runtime/golang:debian13": "target:golang-runtime"}
    assert app["labels"]["org.opencontainers.image.revision"] == sha
    assert app["labels"]["org.opencontainers.image.title"] == "ci-demo-go"  # merged from both files
    assert t["golang-tools"]["contexts"] == {"bakegen-lib": "bake/lib"}
    assert t["golang-tools"]["attest"] == [{"type": "provenance", "disabled": True}]
    assert t["golang-tools"]["pull"] is True


def test_registry_variable_is_listed_and_overrides_every_tag(files):
    committed, meta, _ = files
    listed = bake("-f", str(committed), "--list=variables")
    assert "REGISTRY" in listed and "Registry host" in listed
    printed = json.loads(bake("-f", str(committed), "-f", str(meta), "--print", env={"REGISTRY": "localhost:5000"}))
    tags = [tag for t in printed["target"].values() for tag in t.get("tags", [])]
    assert tags and all(tag.startswith("localhost:5000/") for tag in tags)
    app = printed["target"]["ci-demo-go-dev"]
    assert set(app["contexts"]) == {app["args"]["TOOLCHAIN_IMAGE"], app["args"]["RUNTIME_IMAGE"]}
    assert all(ref.startswith("localhost:5000/") for ref in app["contexts"])


@pytest.mark.parametrize("fmt", ["hcl", "json"])
@pytest.mark.parametrize("value", ["Bad Host", "reg.io/Upper", "http://reg.io", "reg.io/"])
def test_a_bad_registry_variable_is_refused_by_bake(value, fmt, tmp_path):
    """The same rule as --registry and $REGISTRY in bakegen (tags.REGISTRY_PATTERN), run by Go's RE2."""
    path = ROOT / ("docker-bake.hcl" if fmt == "hcl" else "docker-bake.json")
    if fmt == "json":
        path = tmp_path / "docker-bake.json"
        path.write_text(run_bakegen("--format", "json").stdout)
    proc = subprocess.run(["docker", "buildx", "bake", "--progress=quiet", "-f", str(path), "--print", "golang-runtime"],
                          cwd=ROOT, capture_output=True, text=True, env={**os.environ, "REGISTRY": value}, timeout=120)
    assert proc.returncode != 0 and "REGISTRY must be HOST[:PORT][/PREFIX]" in proc.stderr


def test_json_format_means_the_same(files, tmp_path):
    committed, _, _ = files
    as_json = tmp_path / "docker-bake.json"
    as_json.write_text(run_bakegen("--format", "json").stdout)
    a = json.loads(bake("-f", str(committed), "--print"))
    b = json.loads(bake("-f", str(as_json), "--print"))
    assert a == b
