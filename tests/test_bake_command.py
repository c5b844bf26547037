"""`bakegen bake` against a registry in this test (the fake of tests/test_registry.py: real HTTP on
127.0.0.1, as the distribution spec has it), without docker where it does not build: what the
registry already has with these inputs is tagged, not built (the new tags put registry side), the
plan says so line by line, bake's metadata file says what each target's digest is; a tag that
cannot be put builds instead; --ci selects what the ref owns; a published base that is not there,
and a dirty base, are refused before anything builds. The builds themselves are in
tests/test_sequences.py and tests/test_team_flow.py (the BuildKit harness)."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, Repo, run_bakegen
from test_registry import Fake

from bakegen import pipeline
from bakegen.keys import LABEL, tag


@pytest.fixture
def fake():
    f = Fake()
    yield f
    f.close()


@pytest.fixture
def project(tmp_path) -> Repo:
    """This repository's definitions (bases and the sample app), committed with their bake file."""
    repo = Repo(tmp_path / "images")
    for name in ("bake", "examples"):
        shutil.copytree(ROOT / name, repo.path / name)
    shutil.copy(ROOT / "docker-bake.hcl", repo.path / "docker-bake.hcl")
    repo.commit()
    return repo


def keys_of(path: Path, registry: str) -> tuple[dict[str, str], dict]:
    """Each target's content key, as bakegen bake computes it (in process), and the targets."""
    os.environ["REGISTRY"] = registry
    try:
        c = pipeline.Choices(cwd=path)
        defs = pipeline.load(c)
        bake = pipeline.bake(c, defs)
        ky = pipeline.content_keys(c, defs, bake, pipeline.git(c, defs), registry=_NoRegistry())
        return {name: key for name, key in ky.keys.items() if key}, {t.name: t for t in bake.targets}
    finally:
        del os.environ["REGISTRY"]


class _NoRegistry:
    def inspect(self, refs):
        from bakegen.model import Answer

        return {r: Answer("missing") for r in refs}


def publish(fake: Fake, path: Path, prefix: str = "team") -> dict[str, str]:
    """Push an image for every target, as a previous `bakegen bake --push` did: its key tag in the
    internal repository, and the image in its own repository. Target -> digest."""
    keys, targets = keys_of(path, f"{fake.host}/{prefix}")
    digests = {}
    for name, key in keys.items():
        t = targets[name]
        repo = f"{prefix}/{(t.tags[0].path if t.tags else _app_repo(name))}"
        digests[name] = fake.image(list(t.platforms), tag=tag(key), repo=repo + "-bakegen", labels={LABEL: key},
                                   annotations={LABEL: key})
        fake.image(list(t.platforms), tag="previous", repo=repo, labels={LABEL: key}, annotations={LABEL: key})
    return digests


def _app_repo(target: str) -> str:
    return f"{target.rsplit('-', 1)[1]}/ci-demo-go"


def bake(project: Repo, fake: Fake, *args: str) -> tuple[int, str, str]:
    r = run_bakegen("bake", *args, cwd=project.path, env={"REGISTRY": f"{fake.host}/team"})
    return r.code, r.stdout, r.stderr


def test_what_the_registry_has_with_these_inputs_is_tagged_not_built(project, fake):
    digests = publish(fake, project.path)
    code, _, err = bake(project, fake, "--push", "--metadata-file", "m.json")
    assert code == 0, err
    assert "nothing to build: 7 of 7 targets are already pushed with these inputs" in err
    plan = [line for line in err.splitlines() if line.startswith("bakegen:   ")]
    assert len(plan) == 7 and all(line.split()[1] == "reuse" for line in plan), plan
    doc = json.loads((project.path / "m.json").read_text())
    assert {n: e["containerimage.digest"] for n, e in doc.items()} == digests
    assert all(e["bakegen.reused"] and e["bakegen.key"] for e in doc.values())
    sha = project.git("rev-parse", "--short=7", "HEAD")
    prd = {ref for (repo, ref) in fake.manifests if repo == "team/prd/ci-demo-go"}
    assert "latest" in prd and any(re.fullmatch(rf"main-{sha}-\d{{12}}", t) for t in prd), prd
    assert fake.manifests[("team/prd/ci-demo-go", "latest")] == fake.manifests[("team/prd/ci-demo-go",
                                                                                digests["ci-demo-go-prd"])]
    assert fake.manifests[("team/common/tools/golang", "1.27")][1] == \
        fake.manifests[("team/common/tools/golang", digests["golang-tools"])][1]


def test_ci_on_a_branch_tags_its_app_env_and_leaves_the_bases_alone(project, fake):
    publish(fake, project.path)
    code, _, err = bake(project, fake, "--ci", "--push", "--branch", "feature/x")
    assert code == 0, err
    assert '--ci on branch "feature/x" (not a main branch): the app envs whose env_branches match it ' \
           "(ci-demo-go-dev); the base images, built to test them and not pushed" in err
    assert re.search(r"^bakegen:   skip   golang-tools +its inputs did not change, and this branch does not push it$",
                     err, re.M), err
    assert re.search(r"^bakegen:   reuse  ci-demo-go-dev ", err, re.M)
    assert not [ref for (repo, ref) in fake.manifests if repo == "team/common/tools/golang" and ref == "1.27"]
    assert [ref for (repo, ref) in fake.manifests if repo == "team/dev/ci-demo-go" and ref.startswith("feature-x-")]


def test_a_tag_that_cannot_be_put_builds_instead(project, fake):
    """The image's repository refuses the new tag (a full disk, a permission): the target is built
    instead, never left with its old tags; a line says why."""
    publish(fake, project.path)
    fake.answer(500, b"disk full", "text/plain", method="PUT",
                path=fake.path("manifests", "latest", "team/prd/ci-demo-go"))
    code, _, err = bake(project, fake, "--push", "ci-demo-go-prd")
    assert "ci-demo-go-prd: could not point its tags at the pushed image" in err and "HTTP 500" in err, err
    assert "building it instead" in err and code != 0  # the build itself needs a builder this test has not


def test_an_image_gone_from_its_repository_builds(project, fake):
    """Its key tag is in the internal repository, but the image is no longer where its new tags go
    (a retention rule deleted it): the registry refuses the tag, as distribution does, and the
    target is built instead."""
    publish(fake, project.path)
    fake.answer(400, b'{"errors":[{"code":"MANIFEST_BLOB_UNKNOWN","message":"blob unknown to registry"}]}',
                method="PUT", path=fake.path("manifests", "debian13", "team/common/runtime/golang"))
    code, _, err = bake(project, fake, "--push", "golang-runtime")
    assert re.search(r"^bakegen:   reuse  golang-runtime ", err, re.M), err
    assert "golang-runtime: could not point its tags at the pushed image" in err and "HTTP 400" in err, err
    assert "building it instead" in err and code != 0  # the build itself needs a builder this test has not


def test_a_published_base_that_is_not_there_is_refused(tmp_path, fake):
    repo = Repo(tmp_path / "svc")
    shutil.copytree(ROOT / "examples/repos/ci-demo-go", repo.path, dirs_exist_ok=True)
    repo.commit()
    r = run_bakegen("bake", "--push", cwd=repo.path, env={"REGISTRY": f"{fake.host}/team"})
    assert r.code == 2 and r.stderr.count("\n") == 1, r
    assert "which the registry does not have: push the base images first" in r.stderr


def test_a_base_built_from_uncommitted_files_is_not_pushed(project, fake):
    """A base image's tags (1.27.0, debian13) cannot say -dirty: pushing one built from files the
    commit does not hold is refused, naming them."""
    dockerfile = project.path / "bake/golang-runtime/Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "# an uncommitted line\n")
    code, _, err = bake(project, fake, "--push", "golang-runtime")
    assert code == 2 and "golang-runtime would be built from files commit" in err and "(Dockerfile)" in err, err
    assert "commit them (or leave them out with .dockerignore), or build without --push" in err
