"""The default output, target by target, against values derived by hand from the seed."""

import re

import pytest
from conftest import BAKE_TARGET_ATTRIBUTES, ROOT, attribute_names, run_bakegen, strict_parse, targets_of

SEED_TOOLS = "REGISTRY/common/tools/golang"  # ${REGISTRY} as the strict parser reads it back


@pytest.fixture(scope="module")
def output():
    r = run_bakegen(cwd=ROOT)
    assert r.code == 0, r
    return r.stdout


@pytest.fixture(scope="module")
def targets(output):
    """The targets that build an image (not ``_ci-demo-go``, which holds the app's Dockerfile)."""
    return {name: t for name, t in targets_of(output).items() if not name.startswith("_")}


def test_committed_bake_file_is_the_output(output):
    """The committed docker-bake.hcl is the reviewed golden file: byte for byte what bakegen prints."""
    assert output == (ROOT / "docker-bake.hcl").read_text(), "docker-bake.hcl is stale; run `make generate`"
    r = run_bakegen("--check", "docker-bake.hcl", cwd=ROOT)
    assert r.code == 0 and r.stdout == "", r


def test_the_built_in_example_from_an_empty_folder(tmp_path, output):
    r = run_bakegen(cwd=tmp_path)
    assert r.code == 0 and r.stdout == output
    notices = [line for line in r.stderr.splitlines() if "notice" in line]
    assert len(notices) == 1 and "built-in example" in notices[0] and "bakegen init" in notices[0]


def test_strict_go_hcl_parse(output):
    parsed = strict_parse(output)
    assert set(parsed) == {"variable", "group", "target"}


def test_only_attribute_names_buildx_knows(output):
    for target, names in attribute_names(output).items():
        unknown = names - BAKE_TARGET_ATTRIBUTES
        assert not unknown, f"{target}: bake would silently drop {unknown}"


def test_groups(output):
    groups = strict_parse(output)["group"]
    apps = ["ci-demo-go-dev", "ci-demo-go-prd", "ci-demo-go-test"]
    bases = ["golang-build", "golang-runtime", "golang-runtime-static", "golang-tools"]
    assert groups["default"]["targets"] == [*apps, *bases]
    assert groups["base"]["targets"] == bases
    assert groups["apps"]["targets"] == apps and groups["ci-demo-go"]["targets"] == apps
    assert set(groups) == {"apps", "apps-dev", "apps-prd", "apps-test", "base", "ci-demo-go", "default"}
    assert groups["apps-dev"]["targets"] == ["ci-demo-go-dev"]
    assert groups["apps-prd"]["targets"] == ["ci-demo-go-prd"]


def test_registry_is_a_documented_variable(output):
    var = strict_parse(output)["variable"]["REGISTRY"]
    assert var["default"] == "harbor.bdser.cc" and var["description"]
    assert "can(regex(" in output and "REGISTRY must be HOST[:PORT][/PREFIX]" in output


def test_golang_tools_matches_the_seed(targets):
    t = targets["golang-tools"]
    assert t["tags"] == [f"{SEED_TOOLS}:1.27.0", f"{SEED_TOOLS}:1.27",
                         f"{SEED_TOOLS}:1.27.0-debian13", f"{SEED_TOOLS}:1.27-debian13"]
    assert t["args"]["GOLANG_VERSION"] == "1.27.0"
    assert t["platforms"] == ["linux/amd64", "linux/arm64"]
    assert t["pull"] is True
    assert t["attest"] == ["type=provenance,disabled=true"]
    assert t["context"] == "bake/golang-tools" and t["dockerfile"] == "Dockerfile"
    assert t["args"]["BASE_IMAGE"] == "debian:trixie-slim"
    # published checksums of exactly the platforms built (shared/data/go-releases.json)
    assert t["args"]["GOLANG_FILES"] == (
        "linux/amd64=go1.27.0.linux-amd64.tar.gz@675c26c449cbb18fc24b74650de1eabbae6e16f64326fd85a283fb3b58280685 "
        "linux/arm64=go1.27.0.linux-arm64.tar.gz@51798d2c42d0e1c6ed7fd9f48728b4193abac9e8aad6dbac2fe96a81f5909bda")
    assert t["args"]["PROTOC_FILES"] == (
        "linux/amd64=protoc-30.2-linux-x86_64.zip@327e9397c6fb3ea2a542513a3221334c6f76f7aa524a7d2561142b67b312a01f "
        "linux/arm64=protoc-30.2-linux-aarch_64.zip@a3173ea338ef91b1605b88c4f8120d6c8ccf36f744d9081991d595d0d4352996")
    assert t["contexts"] == {"bakegen-lib": "bake/lib"}
    assert "@latest" not in t["args"]["GO_TOOLS"]
    assert "network" not in t and "extra-hosts" not in t  # the seed's private network is not a default


def test_golang_runtime_matches_the_seed(targets):
    t = targets["golang-runtime"]
    assert t["tags"] == ["REGISTRY/common/runtime/golang:debian13"]
    assert t["platforms"] == ["linux/amd64", "linux/arm64"]
    assert t["attest"] == ["type=provenance,disabled=true"] and t["pull"] is True


def test_static_runtime_has_its_own_suffix(targets):
    assert targets["golang-runtime-static"]["tags"] == ["REGISTRY/common/runtime/golang:static-debian13"]


def test_golang_build_is_a_toolchain_of_the_same_versions_with_go_alone(targets):
    """Issue 23: the compile image gets the toolchain's tags by the same version rules in its own
    repository, Go's verified files and module settings, none of the cgo, protoc or tools args."""
    t, tools = targets["golang-build"], targets["golang-tools"]
    assert t["tags"] == [tag.replace(SEED_TOOLS, f"{SEED_TOOLS}-build") for tag in tools["tags"]] == [
        f"{SEED_TOOLS}-build:1.27.0", f"{SEED_TOOLS}-build:1.27", f"{SEED_TOOLS}-build:1.27.0-debian13",
        f"{SEED_TOOLS}-build:1.27-debian13"]
    assert t["context"] == "bake/golang-build" and t["contexts"] == {"bakegen-lib": "bake/lib"}
    assert t["platforms"] == tools["platforms"] and t["output"] == tools["output"]  # zstd: every build pulls it
    shared = ("BASE_IMAGE", "DEBIAN_MIRROR", "GOLANG_DOWNLOAD_URL", "GOLANG_FILES", "GOLANG_VERSION", "GOPROXY", "GOSUMDB")
    assert t["args"] == {k: tools["args"][k] for k in shared}
    assert t["labels"]["org.opencontainers.image.description"] == "Go 1.27.0 compile image for apps without cgo (debian13)"


@pytest.mark.parametrize("env", ["dev", "test", "prd"])
def test_app_builds_from_the_base_targets_of_the_same_run(targets, env):
    """The seed's app: FROM the compile image (it has no cgo) and the Debian runtime, named by the
    team's own references, which bake maps to the targets of the same run."""
    t = targets[f"ci-demo-go-{env}"]
    tools, runtime = f"{SEED_TOOLS}-build:1.27.0", "REGISTRY/common/runtime/golang:debian13"
    assert t["contexts"] == {tools: "target:golang-build", runtime: "target:golang-runtime"}
    assert t["args"] == {"TOOLCHAIN_IMAGE": tools, "RUNTIME_IMAGE": runtime}
    assert "tags" not in t  # per commit: bakegen meta
    assert t["context"] == "examples/repos/ci-demo-go"
    # the Dockerfile bakegen generates: one per app, its env's stage
    assert t["inherits"] == ["_ci-demo-go"] and t["target"] == f"env-{env}" and "dockerfile" not in t
    assert set(t["platforms"]) <= set(targets["golang-build"]["platforms"])


def test_the_app_starts_as_the_seed_starts_it(output):
    """`/app/ci-demo-go -f /app/etc/app_<env>.yaml` with the whole etc/ copied, as the seed's
    `CMD bash -c "exec /app/$APP -f /app/etc/app_$APP_ENV.yaml"` (without bash); the healthcheck
    only because the definition names one."""
    text = targets_of(output)["_ci-demo-go"]["dockerfile-inline"]
    assert 'ENTRYPOINT ["/app/ci-demo-go"]\n' in text and "-o /out/app/ci-demo-go" in text
    assert "COPY --link --chown=65532:65532 etc /app/etc\n" in text
    for env in ("dev", "test", "prd"):
        stage = text.split(f"FROM app AS env-{env}\n")[1].split("\nFROM ")[0]
        assert f'CMD ["-f", "/app/etc/app_{env}.yaml"]' in stage
        assert f'CMD ["/app/ci-demo-go", "-healthcheck", "-f", "/app/etc/app_{env}.yaml"]' in stage
        assert f"APP_ENV={env}" in stage


def test_oci_labels_on_every_image(targets):
    for name, t in targets.items():
        labels = t["labels"]
        for key in ("title", "description", "source", "authors"):
            assert labels[f"org.opencontainers.image.{key}"], (name, key)
        assert labels["org.opencontainers.image.title"] == name.removesuffix(f"-{t.get('target', '')[4:]}")
        # revision and created change with every build: never in the committed file
        assert "org.opencontainers.image.revision" not in labels
        assert "org.opencontainers.image.created" not in labels


def test_generated_file_shape(output):
    assert output.startswith("# Code generated by bakegen. DO NOT EDIT.\n# Regenerate with: ")
    assert output.endswith("}\n") and not output.endswith("\n\n")
    assert not re.search(r"20\d\d-\d\d-\d\d|\b[0-9a-f]{40}\b|0\.1\.0", output.replace("2026-08-31", ""))


def test_output_is_deterministic(output):
    assert all(run_bakegen(cwd=ROOT).stdout == output for _ in range(2))


# What the sample's main.go imports (its source, read as `go list -deps` starts): the deps stage
# compiles them in a layer of their own.
SAMPLE_IMPORTS = ("bufio", "context", "encoding/json", "errors", "flag", "fmt", "io", "log/slog", "net/http", "os",
                  "os/signal", "runtime", "strconv", "strings", "syscall", "time")


def test_meta_values_complete_the_app(repo):
    repo.commit()
    r = run_bakegen("meta", "--definitions", str(ROOT / "bake"), cwd=repo.path,
                    env={"SOURCE_DATE_EPOCH": "1751412000"})
    assert r.code == 0, r
    meta = targets_of(r.stdout)
    sha = repo.git("rev-parse", "HEAD")
    app = meta["ci-demo-go-dev"]
    assert app["tags"] == [f"REGISTRY/dev/ci-demo-go:main-{sha[:7]}-202507012320"]
    assert app["args"] == {"GIT_BRANCH": "main", "GIT_COMMIT_ID": sha[:7], "SOURCE_DATE_EPOCH": "1751412000",
                           "VERSION": f"main-{sha[:7]}", "GO_DEPS": " ".join(SAMPLE_IMPORTS)}
    assert app["labels"]["org.opencontainers.image.version"] == f"main-{sha[:7]}"
    for t in meta.values():
        assert t["labels"]["org.opencontainers.image.revision"] == sha
        assert t["labels"]["org.opencontainers.image.created"] == "2025-07-01T23:20:00Z"
    assert set(meta) == {t for t in targets_of(run_bakegen(cwd=ROOT).stdout) if not t.startswith("_")}
    for names in attribute_names(r.stdout).values():
        assert names <= BAKE_TARGET_ATTRIBUTES


def test_prd_on_main_adds_latest_in_the_same_tag_list(repo):
    repo.commit()
    r = run_bakegen("meta", "--definitions", str(ROOT / "bake"), cwd=repo.path)
    meta = targets_of(r.stdout)
    tags = meta["ci-demo-go-prd"]["tags"]
    assert tags[-1] == "REGISTRY/prd/ci-demo-go:latest" and tags[0].startswith("REGISTRY/prd/ci-demo-go:main-")
    assert all(not t.endswith(":latest") for t in meta["ci-demo-go-dev"]["tags"] + meta["ci-demo-go-test"]["tags"])


def test_a_new_commit_leaves_the_committed_file_unchanged(repo, tmp_path):
    """The committed file has no commit, branch or time in it: a second commit (or a detached
    checkout of it) must regenerate it byte for byte."""
    import shutil

    shutil.copytree(ROOT / "bake", repo.path / "bake")
    shutil.copytree(ROOT / "examples", repo.path / "examples")
    first = run_bakegen(cwd=repo.path)
    repo.commit()
    (repo.path / "docker-bake.hcl").write_text(first.stdout)
    repo.commit("more.txt", message="second")
    repo.git("checkout", "-q", "--detach")
    second = run_bakegen(cwd=repo.path, env={"SOURCE_DATE_EPOCH": "1"})
    assert first.code == second.code == 0
    assert first.stdout == second.stdout
    assert run_bakegen("--check", "docker-bake.hcl", cwd=repo.path).code == 0


def test_each_env_has_its_own_description_and_cache(targets):
    assert targets["ci-demo-go-prd"]["labels"]["org.opencontainers.image.description"] == "ci-demo-go sample Go service (prd)"
    assert targets["ci-demo-go-prd"]["description"] == "ci-demo-go sample Go service (prd)"
