"""Issue 24: the content key covers every input that can change an image, by construction. Each
key of a definition and of the project settings, and each attribute of a target, changed in turn
changes the key, or is on the short documented list of what cannot change the image's bytes
(keys.NOT_CONTENT, keys.NOT_CONTENT_KEYS); a key added later without that decision fails here.

The definitions are this repository's (a copy, in a real git repository): the toolchain, the
Debian runtime and the sample app, read, planned and keyed as `bakegen bake` does (in process, no
registry: every base is a target of the same definitions)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from conftest import ROOT, Repo

sys.path.insert(0, str(Path(__file__).parent))
import harness

from bakegen import keys, pipeline, render
from bakegen.model import Answer
from bakegen.schema import COMMON_KEYS, KIND_KEYS, PROJECT_KEYS

TARGETS = {"toolchain": "golang-tools", "runtime": "golang-runtime", "app": "ci-demo-go-dev"}
FILES = {"toolchain": "bake/golang-tools/image.hcl", "runtime": "bake/golang-runtime/image.hcl",
         "app": "bake/ci-demo-go/image.hcl"}
# A valid other value for each key that is content, as HCL.
PROJECT = {
    "authors": '"someone@example.com"',
    "source": '"https://example.com/other"',
    "platforms": '["linux/amd64"]',
    "network": '"host"',
    "extra_hosts": '{ "proxy.example.com" = "10.0.0.9" }',
    "debian_mirror": '"http://mirror.example.com"',
}
COMMON = {
    "description": '"another description"',
    "provenance": "true",
    "network": '"host"',
    "extra_hosts": '{ "proxy.example.com" = "10.0.0.9" }',
}
KIND = {
    "toolchain": {
        "platforms": '["linux/amd64", "linux/arm64", "linux/s390x"]',
        "context": '"../golang-tools-copy"',
        "dockerfile": '"Dockerfile.copy"',
        "contexts": '{ bakegen-lib = "../lib-copy" }',
        "versions": '["1.25.14"]',
        "variants": '["bookworm"]',
        "aliases": '["minor", "major"]',
        "cgo": "false",
        "base_image": '"debian:{suite}"',
        "go_download_url": '"https://mirror.example.com/go"',
        "goproxy": '"direct"',
        "gosumdb": '"off"',
        "protoc_version": '""',
        "protoc_download_url": '"https://mirror.example.com/protoc"',
        "tools": '["gotest.tools/gotestsum@v1.13.0"]',
        "go_checksums": '{ "1.24.99" = { "linux-amd64" = "' + "0" * 64 + '" } }',
        "protoc_checksums": '{ "30.99" = { "linux-x86_64" = "' + "0" * 64 + '" } }',
        "compression": '"gzip"',
    },
    "runtime": {
        "platforms": '["linux/amd64", "linux/arm64", "linux/s390x"]',
        "context": '"../golang-runtime-copy"',
        "dockerfile": '"Dockerfile.copy"',
        "contexts": '{ extra = "../lib" }',
        "variants": '["bookworm"]',
        "base_image": '"debian:{suite}"',
        "tag_prefix": '"x-"',
        "static": "true",
        "compression": '"zstd"',
    },
    "app": {
        "platforms": '["linux/amd64"]',
        "context": '"../../examples/repos/ci-demo-go-copy"',
        "dockerfile": '"Dockerfile"',
        "contexts": '{ extra = "../lib" }',
        "toolchain": '"{registry}/common/tools/golang:1.24"',
        "toolchain_version": '"1.27.0"',
        "toolchain_variant": '"trixie"',
        "runtime": '"golang-runtime-static"',
        "runtime_variant": '"trixie"',
        "runtime_static": "false",
        "cgo": "true",
        "config": '"conf/app_{env}.yaml"',
        "config_dir": '""',
        "binary": '"/app/svc"',
        "command": '["-x"]',
        "expose": '["9090"]',
        "healthcheck": '["/app/{app}", "-h"]',
        "healthcheck_interval": '"1m"',
        "short_length": "8",
        "main_package": '"cmd/alt"',
        "compression": '"zstd"',
    },
}
KIND_IS = {"kind"}  # not changed in place (another kind is another image), but in the key: checked below


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """The repository's definitions and sample app, with copies of the folders the path keys can
    name instead (the same files elsewhere), committed. The app builds FROM the toolchain (not the
    compile image, which refuses cgo = true), so every app key can be changed."""
    root = tmp_path_factory.mktemp("keys")
    shutil.copytree(ROOT / "bake", root / "bake")
    shutil.copytree(ROOT / "examples/repos/ci-demo-go", root / "examples/repos/ci-demo-go",
                    ignore=shutil.ignore_patterns("bake", "docker-bake.hcl"))
    app = root / FILES["app"]
    app.write_text(harness.set_attribute(app.read_text(), "toolchain", '"golang-tools"'))
    for src, dst in (("bake/golang-tools", "bake/golang-tools-copy"), ("bake/golang-runtime", "bake/golang-runtime-copy"),
                     ("bake/lib", "bake/lib-copy"), ("examples/repos/ci-demo-go", "examples/repos/ci-demo-go-copy")):
        shutil.copytree(root / src, root / dst)
    for folder in ("golang-tools-copy", "golang-runtime-copy"):
        (root / "bake" / folder / "image.hcl").rename(root / "bake" / folder / "image.hcl.txt")
    for name in ("golang-tools", "golang-runtime"):
        shutil.copy(root / "bake" / name / "Dockerfile", root / "bake" / name / "Dockerfile.copy")
    shutil.copytree(root / "examples/repos/ci-demo-go/etc", root / "examples/repos/ci-demo-go/conf")
    alt = root / "examples/repos/ci-demo-go/cmd/alt"
    alt.mkdir(parents=True)
    (alt / "main.go").write_text("package main\n\nfunc main() {}\n")
    Repo(root).commit()
    return root


class Published:
    """The registry's answers as data: every published base is there, under one digest."""

    def inspect(self, refs):
        return {r: Answer("found", "sha256:" + "1" * 64) for r in refs}


def doc(folder: Path, target: str) -> tuple[str, dict]:
    os.environ.pop("REGISTRY", None)
    c = pipeline.Choices(cwd=folder)
    defs = pipeline.load(c)
    bake = pipeline.bake(c, defs)
    g = pipeline.git(c, defs)
    ky = pipeline.content_keys(c, defs, bake, g, registry=Published())
    assert ky.keys[target], ky.unknown.get(target)
    return ky.keys[target], ky.inputs[target]


def edited(base: Path, tmp_path: Path, file: str, key: str, value: str) -> Path:
    folder = tmp_path / "edit"
    shutil.copytree(base, folder, symlinks=True)
    path = folder / file
    text = path.read_text()
    if key == "dockerfile" and file == FILES["app"]:  # an app's own Dockerfile, beside its definition
        (path.parent / "Dockerfile").write_text("ARG TOOLCHAIN_IMAGE\nARG RUNTIME_IMAGE\nFROM ${RUNTIME_IMAGE}\n")
    if key in PROJECT_KEYS and file.endswith("bakegen.hcl"):
        path.write_text(harness.set_attribute(text, key, value))
    else:
        path.write_text(harness.set_attribute(text, key, value, add_to_block=True))
    return folder


def without_files(d: dict) -> dict:
    """The key's inputs but the files: a change must show there, not only as an edited file."""
    return {k: v for k, v in d.items() if k not in ("context", "folders")}


def test_every_definition_key_is_content_or_on_the_list():
    for kind in KIND_KEYS:
        declared = set(COMMON_KEYS) | set(KIND_KEYS[kind])
        decided = set(COMMON) | set(KIND[kind]) | set(keys.NOT_CONTENT_KEYS) | KIND_IS
        assert declared <= decided, f"{kind}: no decision for {sorted(declared - decided)}"
    assert set(PROJECT_KEYS) <= set(PROJECT) | set(keys.NOT_CONTENT_KEYS)


CASES = [(kind, key, value) for kind in KIND for key, value in {**COMMON, **KIND[kind]}.items()]


@pytest.mark.parametrize(("kind", "key", "value"), CASES, ids=[f"{k}-{key}" for k, key, _ in CASES])
def test_each_definition_key_changes_the_key(base, tmp_path, kind, key, value):
    target = TARGETS[kind]
    before, was = doc(base, target)
    after, now = doc(edited(base, tmp_path, FILES[kind], key, value), target)
    assert after != before
    assert without_files(now) != without_files(was), f"{key} changed only an edited file's hash"


@pytest.mark.parametrize(("key", "value"), PROJECT.items(), ids=list(PROJECT))
def test_each_project_key_changes_every_key(base, tmp_path, key, value):
    folder = edited(base, tmp_path, "bake/bakegen.hcl", key, value)
    for target in TARGETS.values():
        assert without_files(doc(folder, target)[1]) != without_files(doc(base, target)[1]), (key, target)


def test_the_kind_is_in_the_key(base):
    for kind, target in TARGETS.items():
        assert doc(base, target)[1]["definition"]["kind"] == kind


def test_compression_rebuilds(base, tmp_path):
    """The case a user found: gzip to zstd kept the key (output was left out), so the old gzip
    image was re-tagged."""
    _, was = doc(base, "ci-demo-go-dev")
    _, now = doc(edited(base, tmp_path, FILES["app"], "compression", '"zstd"'), "ci-demo-go-dev")
    assert was["target"].get("output") != now["target"].get("output")


def test_each_target_attribute_is_content_or_on_the_list():
    """Every attribute bake knows, changed in the shape a target is keyed from, changes the key
    unless the list says why it cannot change the image."""
    from conftest import BAKE_TARGET_ATTRIBUTES

    shape = {"platforms": ["linux/amd64"], "args": {"A": "1"}}
    base_key = keys.key(keys.inputs(shape, definition={}, dockerfile="", files=[], folders={}, bases={}))
    for name in sorted(BAKE_TARGET_ATTRIBUTES):
        changed = {**shape, name: ["something else"]}
        key = keys.key(keys.inputs(changed, definition={}, dockerfile="", files=[], folders={}, bases={}))
        assert (key != base_key) == (name not in keys.NOT_CONTENT), name
    assert set(keys.NOT_CONTENT) <= BAKE_TARGET_ATTRIBUTES


def test_the_lists_are_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    for name in [*keys.NOT_CONTENT, *keys.NOT_CONTENT_KEYS]:
        assert f"`{name}`" in readme, name


def test_an_env_added_changes_no_other_envs_key(base, tmp_path):
    """Each env's target is keyed from the stages it builds: a new env leaves the others alone
    (each env copying its own config file: with config_dir, every image holds every env's)."""
    folder = edited(base, tmp_path, FILES["app"], "config_dir", '""')
    Repo(folder).commit()
    before = {env: doc(folder, f"ci-demo-go-{env}")[0] for env in ("dev", "prd")}
    image = folder / FILES["app"]
    image.write_text(harness.set_attribute(image.read_text(), "envs", '["dev", "test", "prd", "qa"]'))
    (folder / "examples/repos/ci-demo-go/etc/app_qa.yaml").write_text("env: qa\n")
    Repo(folder).commit()
    assert {env: doc(folder, f"ci-demo-go-{env}")[0] for env in ("dev", "prd")} == before
    image.write_text(harness.set_attribute(image.read_text(), "config_dir", '"etc"'))
    assert doc(folder, "ci-demo-go-dev")[0] != before["dev"]  # the qa config is in every image now


def test_the_shape_keyed_is_the_committed_target(base):
    """What is keyed is the target as the committed file renders it (render.shape)."""
    c = pipeline.Choices(cwd=base)
    defs = pipeline.load(c)
    bake = pipeline.bake(c, defs)
    _, d = doc(base, "golang-tools")
    shape = render.shape(bake.target("golang-tools"))
    assert d["target"] == {k: v for k, v in sorted(shape.items()) if k not in keys.NOT_CONTENT}


def test_components_say_which_part_changed(base, tmp_path):
    """What a build compares with the image built last: each part of the key's inputs hashed,
    the files by folder; a one-line change in one file names its folder, and nothing else."""
    _, was = doc(base, "ci-demo-go-dev")
    folder = tmp_path / "edit"
    shutil.copytree(base, folder, symlinks=True)
    handler = folder / "examples/repos/ci-demo-go/internal/config/config.go"
    handler.write_text(handler.read_text() + "// one more line\n")
    _, now = doc(folder, "ci-demo-go-dev")
    before = keys.encode(keys.components(was))
    assert keys.changed(before, keys.components(now)) == ["the files of internal/config"]
    assert keys.changed(before, keys.components(was)) == []
    assert all(c not in before for c in ",\" \n")  # an annotation's value, as bake passes it
