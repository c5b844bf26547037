"""The Dockerfiles against the bake file that builds them (BuildKit's own parser, `dockerfile`)."""

import re

import dockerfile
import pytest
from conftest import ROOT, building_targets, dockerfile_text, run_bakegen, targets_of

BUILTIN_ARGS = {"TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT", "BUILDPLATFORM",
                "BUILDOS", "BUILDARCH", "BUILDVARIANT"}


@pytest.fixture(scope="module")
def per_build():
    r = run_bakegen("meta", "--branch", "main", "--commit", "0" * 40, cwd=ROOT)
    assert r.code == 0, r
    return targets_of(r.stdout)


TARGETS = building_targets(run_bakegen(cwd=ROOT).stdout)  # the default output, inherits merged


def parse(target: dict, root=ROOT):
    where, text = dockerfile_text(target, root)
    return where, dockerfile.parse_string(text)


def arg_declarations(commands):
    declared, defaulted = set(), set()
    for c in commands:
        if c.cmd.upper() == "ARG":
            for item in c.value:
                name, eq, _ = item.partition("=")
                declared.add(name)
                if eq:
                    defaulted.add(name)
    return declared, declared - defaulted


def stages(commands):
    """[(base, alias, [commands])] in order."""
    out = []
    for c in commands:
        if c.cmd.upper() == "FROM":
            words = [w for w in c.value if not w.startswith("--")]
            alias = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            out.append((words[0], alias, []))
        elif out:
            out[-1][2].append(c)
    return out


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_every_arg_bake_passes_is_declared(name, per_build):
    path, commands = parse(TARGETS[name])
    declared, _ = arg_declarations(commands)
    passed = set(TARGETS[name].get("args", {})) | set(per_build[name].get("args", {}))
    passed -= {"SOURCE_DATE_EPOCH"}  # read by BuildKit itself (image timestamps), not by the Dockerfile
    assert passed <= declared, f"{path}: bake passes {passed - declared} that no ARG declares"


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_every_arg_without_default_is_passed(name, per_build):
    path, commands = parse(TARGETS[name])
    _, required = arg_declarations(commands)
    passed = set(TARGETS[name].get("args", {})) | set(per_build[name].get("args", {}))
    assert (required - BUILTIN_ARGS) <= passed, f"{path}: ARG {required - passed} is never set"


def expanded_froms(target: dict, commands) -> set[str]:
    """Each stage's base with the build args expanded as BuildKit expands them (``${NAME}``),
    the target's args first, then the Dockerfile's defaults."""
    defaults = {}
    for c in commands:
        if c.cmd.upper() == "FROM":
            break
        if c.cmd.upper() == "ARG":
            for item in c.value:
                name, eq, value = item.partition("=")
                if eq:
                    defaults[name] = value.strip('"')
    values = {**defaults, **target.get("args", {})}
    return {re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: values.get(m.group(1) or m.group(2), m.group(0)), base)
            for base, _, _ in stages(commands)}


def mounted_contexts(commands) -> set[str]:
    names = set()
    for c in commands:
        for flag in c.flags:
            names.update(re.findall(r"(?:^--from=|[=,]from=)([^,\s]+)", flag))
    return names


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_every_contexts_key_is_a_from_or_a_mounted_folder(name):
    """A target-or-image context's key is the reference a FROM names (after build args are
    expanded): without the context the FROM pulls that reference, never another name. A folder
    context is mounted or copied from by name."""
    path, commands = parse(TARGETS[name])
    froms = expanded_froms(TARGETS[name], commands)
    for key, value in TARGETS[name].get("contexts", {}).items():
        if value.startswith(("target:", "docker-image://")):
            assert key in froms, f"{path}: contexts key {key} matches no FROM ({froms})"
            assert value.removeprefix("target:") in TARGETS or value == f"docker-image://{key}", value
            assert key.startswith("REGISTRY/"), key  # the team's own published reference
        else:
            assert key in mounted_contexts(commands), f"{path}: folder context {key} is never used"


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_every_from_is_a_stage_an_official_base_or_a_team_reference(name):
    """No FROM falls back to a bare name anyone could register on Docker Hub."""
    path, commands = parse(TARGETS[name])
    aliases = {alias for _, alias, _ in stages(commands) if alias}
    for base in expanded_froms(TARGETS[name], commands):
        assert (base in aliases or base == "scratch" or base.startswith(("debian:", "REGISTRY/"))), (path, base)


@pytest.mark.parametrize("name", ["golang-runtime", "golang-runtime-static", "ci-demo-go-prd"])
def test_final_stage_runs_as_a_numeric_non_root_user(name):
    """The stage bake builds (its `target`, else the last), or the stages it is FROM."""
    path, commands = parse(TARGETS[name])
    all_stages = stages(commands)
    final = next((s for s in all_stages if s[1] == TARGETS[name].get("target")), all_stages[-1])
    lineage = [final]
    while (base := next((s for s in all_stages if s[1] == lineage[-1][0]), None)) is not None:
        lineage.append(base)
    users = [c.value[0] for s in reversed(lineage) for c in s[2] if c.cmd.upper() == "USER"]
    assert users, f"{path}: the final stage sets no USER"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) != 0 and (not gid or (gid.isdigit() and int(gid) != 0)), users[-1]
    assert users[-1] == "65532:65532"


def test_app_builds_from_the_runtime_its_bake_target_links():
    """The app's final stage is FROM ${RUNTIME_IMAGE}, which bake maps to the Debian runtime
    target, as the seed's app ran on the seed's Debian runtime."""
    t = TARGETS["ci-demo-go-prd"]
    _, commands = parse(t)
    assert [base for base, alias, _ in stages(commands) if alias == "app"] == ["${RUNTIME_IMAGE}"]
    assert [base for base, alias, _ in stages(commands) if alias == t["target"]] == ["app"]
    linked = t["contexts"][t["args"]["RUNTIME_IMAGE"]].removeprefix("target:")
    assert linked == "golang-runtime"
    _, runtime = parse(TARGETS[linked])
    assert stages(runtime)[-1][0] == "${BASE_IMAGE}"


def test_file_args_cover_every_platform_the_target_builds():
    t = TARGETS["golang-tools"]
    platforms = {pair.split("=")[0] for pair in t["args"]["GOLANG_FILES"].split()}
    assert set(t["platforms"]) <= platforms
    protoc = {pair.split("=")[0] for pair in t["args"]["PROTOC_FILES"].split()}
    assert protoc == set(t["platforms"])


def test_no_unpinned_tool_in_args_or_dockerfiles():
    for t in TARGETS.values():
        for value in t.get("args", {}).values():
            assert "@latest" not in value
    for path in (ROOT / "bake").glob("*/Dockerfile"):
        assert "@latest" not in path.read_text()


def test_variants_and_versions_keep_the_contract(project):
    """Two Go versions × two suites, static runtime on bookworm, registry cache: the same checks."""
    for image in ("golang-tools", "golang-build"):
        tools = project / "bake" / image / "image.hcl"
        tools.write_text(tools.read_text().replace('versions = ["1.27.0"]', 'versions = ["1.24.13", "1.25.14"]')
                         .replace('variants = ["trixie"]', 'variants = ["bookworm", "trixie"]'))
    r = run_bakegen("--registry-cache", cwd=project)
    assert r.code == 0, r
    targets = building_targets(r.stdout)
    assert sorted(targets) == sorted(["ci-demo-go-dev", "ci-demo-go-prd", "ci-demo-go-test", "golang-runtime",
                                      "golang-runtime-static"] + [
        f"{image}-{v}-{suffix}" for image in ("golang-build", "golang-tools") for v in ("1_24_13", "1_25_14")
        for suffix in ("debian12", "debian13")])
    assert targets["ci-demo-go-dev"]["contexts"]["REGISTRY/common/tools/golang-build:1.25.14"] == (
        "target:golang-build-1_25_14-debian12")
    for t in targets.values():
        declared, _ = arg_declarations(parse(t, project)[1])
        assert set(t.get("args", {})) <= declared
        assert t["cache-from"] and t["cache-to"][0].endswith(",mode=max,ignore-error=true")
