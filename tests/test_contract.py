"""Issue 19: what real services need. Services written the way the seed writes them keep their
contract (binary, -f config, the etc/ folder, a healthcheck only when asked); every guard holds for
published bases; what cannot work, or would be silently ignored, is refused with the fix."""

import shutil

import pytest
from conftest import ROOT, Repo, building_targets, run_bakegen, targets_of

from bakegen.model import GitState
from bakegen.tags import app_tags

EXAMPLES = ROOT / "examples" / "repos"


def seed_service(path, envs=("dev", "test", "prod"), app="ci-demo-go"):
    """A service as the seed's document writes one: main reads -f, one etc/app_<env>.yaml per env
    (the seed's sample ships app_prod.yaml), in its own git repository."""
    shutil.copytree(EXAMPLES / "ci-demo-go", path, ignore=shutil.ignore_patterns(
        "bake", "docker-bake.hcl", ".gitignore", "app_*.yaml"))
    for env in envs:
        (path / "etc" / f"app_{env}.yaml").write_text(f"env: {env}\nport: 8080\nmessage: \"{app} {env}\"\n")
    repo = Repo(path)
    assert run_bakegen("init", "--app", app, cwd=path).code == 0
    repo.commit(".gitignore", "/.bakegen/\n")
    return repo


def generate(path, *args):
    r = run_bakegen(*args, cwd=path)
    assert r.code == 0, r
    return r.stdout


def fails(path, *args):
    r = run_bakegen(*args, cwd=path)
    assert r.code == 2 and r.stdout == "" and "Traceback" not in r.stderr, r
    return r.stderr.strip()


def edit(path, old, new):
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


# ----------------------------------------------------------------------------- the contract
def test_a_seed_service_starts_as_the_seed_starts_it(tmp_path):
    """`/app/ci-demo-go -f /app/etc/app_<env>.yaml` with the whole etc/ beside it; no HEALTHCHECK
    and no APP_CONFIG-only config: init asks nothing of the service's code."""
    seed_service(tmp_path / "svc")
    t = building_targets(generate(tmp_path / "svc"))["ci-demo-go-prod"]
    text = t["dockerfile-inline"]
    assert t["target"] == "env-prod"
    assert 'ENTRYPOINT ["/app/ci-demo-go"]' in text and "-o /out/app/ci-demo-go" in text
    assert "COPY --link --chown=65532:65532 etc /app/etc\n" in text  # the folder, every env's file
    assert 'CMD ["-f", "/app/etc/app_prod.yaml"]' in text.split("FROM app AS env-prod\n")[1]
    assert "HEALTHCHECK" not in text and "/app/service" not in text


def test_a_healthcheck_only_when_the_definition_names_one(tmp_path):
    repo = seed_service(tmp_path / "svc")
    image = repo.path / "bake/ci-demo-go/image.hcl"
    edit(image, "  expose     = []", '  expose     = ["8080"]\n  healthcheck = ["/app/{app}", "-healthcheck", '
                                      '"-f", "/app/{config}"]\n  healthcheck_interval = "10s"')
    text = building_targets(generate(repo.path))["ci-demo-go-dev"]["dockerfile-inline"]
    assert ('HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 CMD '
            '["/app/ci-demo-go", "-healthcheck", "-f", "/app/etc/app_dev.yaml"]') in text
    assert "EXPOSE 8080\n" in text
    edit(image, 'healthcheck_interval = "10s"', 'healthcheck_interval = "often"')
    assert 'healthcheck_interval "often" must look like 30s, 1m or 500ms' in fails(repo.path)


def test_the_binary_and_its_arguments_are_the_definitions(tmp_path):
    repo = seed_service(tmp_path / "svc")
    image = repo.path / "bake/ci-demo-go/image.hcl"
    edit(image, 'binary     = "/app/{app}"', 'binary     = "/usr/local/bin/{app}"')
    edit(image, 'command    = ["-f", "/app/{config}"]', 'command    = ["serve", "--config=/app/{config}", "--env={env}"]')
    text = building_targets(generate(repo.path))["ci-demo-go-test"]["dockerfile-inline"]
    assert 'ENTRYPOINT ["/usr/local/bin/ci-demo-go"]' in text and "-o /out/usr/local/bin/ci-demo-go" in text
    assert 'CMD ["serve", "--config=/app/etc/app_test.yaml", "--env=test"]' in text
    edit(image, 'binary     = "/usr/local/bin/{app}"', 'binary     = "bin/{app}"')
    assert 'binary "bin/{app}" must be an absolute path in the image' in fails(repo.path)


def test_config_dir_empty_copies_only_the_envs_file(tmp_path):
    repo = seed_service(tmp_path / "svc")
    edit(repo.path / "bake/ci-demo-go/image.hcl", "  expose     = []", '  expose     = []\n  config_dir = ""')
    text = building_targets(generate(repo.path))["ci-demo-go-dev"]["dockerfile-inline"]
    assert "/app/etc\n" not in text
    stage = text.split("FROM app AS env-dev\n")[1].split("\nFROM ")[0]
    assert "COPY --link --chown=65532:65532 etc/app_dev.yaml /app/etc/app_dev.yaml\n" in stage


def test_a_dockerfile_left_in_the_definition_folder_is_not_silently_ignored(tmp_path):
    """An older init copied the Dockerfile into bake/<app>/: now bakegen generates it, so that copy
    would be dead; it is an error with both ways out."""
    repo = seed_service(tmp_path / "svc")
    (repo.path / "bake/ci-demo-go/Dockerfile").write_text("FROM scratch\n")
    msg = fails(repo.path)
    assert "bake/ci-demo-go/Dockerfile is not used" in msg and 'set dockerfile = "Dockerfile"' in msg
    edit(repo.path / "bake/ci-demo-go/image.hcl", "  expose     = []", '  expose     = []\n  dockerfile = "Dockerfile"')
    t = building_targets(generate(repo.path))["ci-demo-go-dev"]
    assert t["dockerfile"] == "bake/ci-demo-go/Dockerfile" and "dockerfile-inline" not in t


# ----------------------------------------------------------------------------- published bases
@pytest.mark.parametrize("toolchain, runtime, extra, message", [
    ("golang:1.24-debian12", "golang:static-debian12", "",
     'cgo = true builds a binary that needs a C library, which the static runtime '
     '"common/runtime/golang:static-debian12" has not'),
    ("golang:1.24-debian12", "golang:debian11", "",
     "cgo = true links against Debian bookworm's C library"),
    ("golang:1.24", "golang:debian12", "",
     'cgo = true needs to know the C library of "common/tools/golang:1.24", whose tag does not say: '
     'state its Debian suite (toolchain_variant = "bookworm")'),
    ("golang:1.24-debian12", "golang@sha256:" + "a" * 64, '  runtime_variant = "bookworm"\n',
     "and that it is not static (runtime_static = false)"),
    ("golang:1.24-debian12", "golang:debian12", '  runtime_variant = "bullseye"\n',
     "runtime_variant says bullseye, but the runtime tag says bookworm"),
    ("golang:1.24", "golang:static-debian12", '  runtime_static = false\n',
     "runtime_static says False, but the runtime tag says True"),
])
def test_every_cgo_guard_holds_for_published_bases(tmp_path, toolchain, runtime, extra, message):
    repo = seed_service(tmp_path / "svc")
    image = repo.path / "bake/ci-demo-go/image.hcl"
    edit(image, "  cgo          = false", "  cgo          = true\n" + extra)
    edit(image, '"{registry}/common/tools/golang-build:1.27"', f'"{{registry}}/common/tools/{toolchain}"')
    edit(image, '"{registry}/common/runtime/golang:debian13"', f'"{{registry}}/common/runtime/{runtime}"')
    assert message in fails(repo.path)


def test_a_cgo_app_on_published_bases_that_say_enough_passes(tmp_path):
    repo = seed_service(tmp_path / "svc")
    image = repo.path / "bake/ci-demo-go/image.hcl"
    edit(image, "  cgo          = false", '  cgo          = true\n  toolchain_variant = "bookworm"\n'
                                         '  runtime_variant = "debian12"\n  runtime_static = false')
    edit(image, '"{registry}/common/tools/golang-build:1.27"', '"{registry}/common/tools/golang:1.27"')
    edit(image, '"{registry}/common/runtime/golang:debian13"', '"{registry}/common/runtime/golang@sha256:' + "b" * 64 + '"')
    assert "CGO_ENABLED=1 " in building_targets(generate(repo.path))["ci-demo-go-dev"]["dockerfile-inline"]


@pytest.mark.parametrize("toolchain, fix", [
    ("{registry}/common/tools/golang-build:1.27", 'use toolchain = "{registry}/common/tools/golang:1.27-debian13"'),
    ("{registry}/common/tools/golang-build:1.27-debian13",
     'use toolchain = "{registry}/common/tools/golang:1.27-debian13"'),
    ("harbor.example.com/team/common/tools/golang-build:1.27.0",
     'use toolchain = "harbor.example.com/team/common/tools/golang:1.27.0-debian13"'),
    ("{registry}/common/tools/golang-build@sha256:" + "c" * 64,
     "name the toolchain with a C compiler (common/tools/golang) instead"),
])
def test_a_cgo_app_on_the_published_compile_image_is_refused_with_the_fix(tmp_path, toolchain, fix):
    """Issue 23: the service init wrote for an app without cgo names the compile image (Go alone);
    cgo = true there is refused at generation time, one line naming the definition's line and the
    toolchain to use, whatever registry or tag names it; the fix given generates."""
    repo = seed_service(tmp_path / "svc")
    image = repo.path / "bake/ci-demo-go/image.hcl"
    edit(image, '"{registry}/common/tools/golang-build:1.27"', f'"{toolchain}"')
    assert run_bakegen(cwd=repo.path).code == 0
    edit(image, "  cgo          = false", "  cgo          = true")
    line = next(n for n, text in enumerate(image.read_text().splitlines(), 1) if "cgo          = true" in text)
    assert fails(repo.path) == (
        f'bakegen: error: bake/ci-demo-go/image.hcl:{line}: app "ci-demo-go": cgo = true needs a C compiler, which '
        f'the published toolchain "{toolchain}" has not (common/tools/golang-build is the compile image: Go alone): '
        f"{fix}, or set cgo = false")
    if fix.startswith("use toolchain = "):
        edit(image, f'"{toolchain}"', fix.removeprefix("use toolchain = "))
        assert "CGO_ENABLED=1 " in building_targets(generate(repo.path))["ci-demo-go-dev"]["dockerfile-inline"]


# ----------------------------------------------------------------------------- refused, with the fix
@pytest.mark.parametrize("path", ["bake/worker/worker.hcl", "bake/worker.hcl", "bake/svc/worker/image.hcl"])
def test_a_definition_bakegen_would_not_read_is_an_error(tmp_path, path):
    repo = seed_service(tmp_path / "svc")
    (repo.path / path).parent.mkdir(parents=True, exist_ok=True)
    (repo.path / path).write_text('image "worker" {\n  kind = "app"\n}\n')
    msg = fails(repo.path)
    assert f"{path} is not read" in msg and "bake/<image>/image.hcl" in msg


def test_latest_is_not_lost_for_an_env_named_prod(tmp_path):
    """The seed's sample ships etc/app_prod.yaml: init makes env prod, and prod on main gets latest."""
    repo = seed_service(tmp_path / "svc")
    assert 'latest_envs = ["prod"]' in (repo.path / "bake/ci-demo-go/image.hcl").read_text()
    meta = targets_of(generate(repo.path, "meta"))
    assert meta["ci-demo-go-prod"]["tags"][-1] == "REGISTRY/prod/ci-demo-go:latest"
    edit(repo.path / "bake/ci-demo-go/image.hcl", 'latest_envs = ["prod"]', 'latest_envs = ["prd"]')
    msg = fails(repo.path)
    assert 'latest_envs names env "prd", which is not one of its envs (dev, prod, test)' in msg
    assert 'did you mean "prod"' in msg


def test_an_unset_latest_envs_means_the_production_env(project):
    image = project / "bake/ci-demo-go/image.hcl"
    edit(image, '["dev", "test", "prd"]', '["dev", "production"]')
    for env in ("dev", "production"):
        (project / "examples/repos/ci-demo-go/etc" / f"app_{env}.yaml").write_text("port: 8080\n")
    r = run_bakegen("meta", "--branch", "main", "--commit", "0" * 40, cwd=project)
    assert r.code == 0, r
    assert targets_of(r.stdout)["ci-demo-go-production"]["tags"][-1].endswith(":latest")


def state(version_tag, releases):
    return GitState("main", "a" * 40, False, version_tag, "202612011200", releases)


@pytest.mark.parametrize("tag, releases, expected", [
    ("v1.2.1", ("v1.2.0", "v1.3.0", "v1.2.1"), ["1.2.1", "1.2"]),  # a backport: 1 stays on 1.3.0
    ("v1.3.1", ("v1.2.0", "v1.3.0", "v1.3.1"), ["1.3.1", "1.3", "1"]),
    ("v1.2.1", ("v1.2.2", "v1.2.1"), ["1.2.1"]),  # a re-tag of an older patch moves nothing
    ("v1.4.0", ("v1.3.0", "v2.0.0-rc.1"), ["1.4.0", "1.4", "1"]),  # a pre-release is no newer release
])
def test_release_aliases_move_only_to_the_newest_release_of_their_line(tag, releases, expected):
    tags = [a.tag for a in app_tags(state(tag, releases), 7, "prd", (), ())]
    assert tags[1:] == expected


def test_a_backport_tag_in_a_real_repository(tmp_path):
    repo = seed_service(tmp_path / "svc")
    repo.git("tag", "v1.3.0")
    repo.commit("CHANGELOG", "backport\n")
    repo.git("tag", "v1.2.1")
    tags = targets_of(generate(repo.path, "meta"))["ci-demo-go-prod"]["tags"]
    assert [t.split(":")[-1] for t in tags[1:]] == ["1.2.1", "1.2", "latest"]


def test_the_build_finds_its_module_and_main_package_or_bakegen_refuses(tmp_path):
    repo = seed_service(tmp_path / "svc")
    image = repo.path / "bake/ci-demo-go/image.hcl"
    edit(image, 'main_package = "."', 'main_package = "cmd/server"')
    assert "cmd/server holds no .go file: main_package names the folder of the main package" in fails(repo.path)
    edit(image, 'main_package = "cmd/server"', 'main_package = "../other"')
    assert 'main_package "../other" must be a path inside the context' in fails(repo.path)
    edit(image, 'main_package = "../other"', 'main_package = "."')
    (repo.path / "go.mod").unlink()
    assert "go.mod does not exist: the build needs the Go module at the top of the context" in fails(repo.path)


def test_init_finds_a_main_package_under_cmd(tmp_path):
    path = tmp_path / "svc"
    (path / "cmd" / "svc").mkdir(parents=True)
    (path / "go.mod").write_text("module example.com/svc\n\ngo 1.24\n")
    (path / "cmd" / "svc" / "main.go").write_text("package main\n\nfunc main() {}\n")
    (path / "lib.go").write_text("package svc\n")
    Repo(path)
    assert run_bakegen("init", "--app", "svc", cwd=path).code == 0
    assert 'main_package = "cmd/svc"' in (path / "bake/svc/image.hcl").read_text()
    assert "./cmd/svc\n" in building_targets(generate(path))["svc"]["dockerfile-inline"]


def test_a_bad_byte_is_blamed_by_file_and_line(project):
    image = project / "bake/golang-runtime/image.hcl"
    image.write_bytes(image.read_bytes().replace(b"Minimal Debian", b"Minimal \xff Debian"))
    assert fails(project) == "bakegen: error: bake/golang-runtime/image.hcl:5: not UTF-8 text (byte 0xff)"


@pytest.mark.parametrize("old, new, message", [
    ('"ci-demo-go sample Go service ({env})"', '"ci-demo-go ({envv})"',
     'description "ci-demo-go ({envv})": unknown placeholder {envv}; known here: {app}, {env}'),
    ('"{env}/{app}"', '"{environment}/{app}"',
     'repository "{environment}/{app}": unknown placeholder {environment}; known here: {app}, {env}'),
    ('command     = ["-f", "/app/{config}"]', 'command     = ["-f", "/app/{cfg}"]',
     'command "/app/{cfg}": unknown placeholder {cfg}; known here: {app}, {env}, {config}'),
])
def test_an_unknown_placeholder_is_an_error(project, old, new, message):
    edit(project / "bake/ci-demo-go/image.hcl", old, new)
    assert message in fails(project)


def test_an_empty_bake_folder_is_an_error_with_the_fix(tmp_path):
    (tmp_path / "bake").mkdir()
    assert "bake/ has no bakegen.hcl" in fails(tmp_path) and "bakegen init" in fails(tmp_path)


def test_output_creates_its_folder(tmp_path):
    repo = seed_service(tmp_path / "svc")
    assert run_bakegen("meta", "-o", ".bakegen/meta.hcl", cwd=repo.path).code == 0
    assert (repo.path / ".bakegen/meta.hcl").is_file()


def test_github_ref_alone_names_the_branch(repo):
    repo.commit()
    repo.git("checkout", "-q", "--detach")
    r = run_bakegen("meta", "--definitions", str(ROOT / "bake"), cwd=repo.path, env={"GITHUB_REF": "refs/heads/release/2"})
    assert r.code == 0, r
    assert targets_of(r.stdout)["ci-demo-go-dev"]["args"]["GIT_BRANCH"] == "release/2"


def test_init_writes_the_current_debian_and_the_newest_go_so_nothing_warns(tmp_path):
    """The current Debian release bakegen knows (trixie) and the newest Go release it has
    checksums for (1.27.0, not the 1.27rc3 it also knows)."""
    repo = Repo(tmp_path / "base-images")
    assert run_bakegen("init", cwd=repo.path).code == 0
    r = run_bakegen(cwd=repo.path)
    assert r.code == 0 and "end of life" not in r.stderr, r
    tools = targets_of(r.stdout)["golang-tools"]
    assert tools["args"]["GOLANG_VERSION"] == "1.27.0" and tools["args"]["BASE_IMAGE"] == "debian:trixie-slim"
    assert targets_of(r.stdout)["golang-runtime"]["tags"] == ["REGISTRY/common/runtime/golang:debian13"]


def test_init_honours_every_option_it_takes(tmp_path):
    repo = Repo(tmp_path / "svc")
    shutil.copytree(EXAMPLES / "ci-demo-go", repo.path, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("bake", "docker-bake.hcl", ".gitignore"))
    r = run_bakegen("init", "--app", "svc", "--env", "prd", "--go-version", "1.25", "--registry-cache", cwd=repo.path)
    assert r.code == 0, r
    image = (repo.path / "bake/svc/image.hcl").read_text()
    assert 'envs   = ["prd"]' in image and '"{registry}/common/tools/golang-build:1.25"' in image
    assert "registry_cache = true" in (repo.path / "bake/bakegen.hcl").read_text()
    t = targets_of(generate(repo.path))["svc"]
    assert t["cache-from"] and t["args"]["TOOLCHAIN_IMAGE"] == "REGISTRY/common/tools/golang-build:1.25"
    base = Repo(tmp_path / "base")
    assert run_bakegen("init", "--go-version", "1.24", cwd=base.path).code == 0
    for image in ("golang-tools", "golang-build"):
        assert 'versions = ["1.24"]' in (base.path / f"bake/{image}/image.hcl").read_text()


@pytest.mark.parametrize("args, message", [
    (["init", "--env", "prd"], "--env: --env needs --app NAME"),
    (["init", "--go-version", "1.99"], "--go-version: Go 1.99: bakegen knows no checksum"),
    (["init", "--app", "svc", "--env", "dev", "--env", "staging"], "etc/app_staging.yaml does not exist"),
    (["init", "--app", "svc", "--env", "Prod"], 'env "Prod" must be lower-case'),
])
def test_init_refuses_what_it_cannot_honour(tmp_path, args, message):
    shutil.copytree(EXAMPLES / "ci-demo-go", tmp_path, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("bake", "docker-bake.hcl", ".gitignore"))
    r = run_bakegen(*args, cwd=tmp_path)
    assert r.code == 2 and message in r.stderr and not (tmp_path / "bake").exists(), r


def test_go_deps_are_what_the_build_imports_from_outside_the_module(tmp_path):
    """GO_DEPS (the deps stage compiles them) come from the files the build sees: no tests, no
    files for another system, no testdata or vendor, not the module's own packages, not cgo's "C";
    a build constraint that cannot be read counts as true (the deps stage never fails a build)."""
    from bakegen.pipeline import Sources

    files = {
        "go.mod": "module example.com/svc\n\ngo 1.24\n",
        "main.go": 'package main\n\nimport (\n\t"fmt"\n\tlog "log/slog"\n\t_ "embed"\n\t// "commented/out"\n'
                   '\t"example.com/svc/internal/x"\n\t"github.com/a/b"\n)\n\nimport "C"\n\nfunc main() {}\n'
                   'import "not/an/import"\n',
        "one.go": 'package main\n\nimport . "github.com/dot/imported"\n',
        "linux_only.go": '//go:build linux && (amd64 || arm64)\n\npackage main\n\nimport "golang.org/x/sys/unix"\n',
        "not_linux.go": '//go:build !linux\n\npackage main\n\nimport "golang.org/x/sys/windows"\n',
        "odd.go": '//go:build linux && ((\n\npackage main\n\nimport "example.org/unreadable/constraint"\n',
        "ignored.go": '//go:build ignore\n\npackage main\n\nimport "example.org/ignored"\n',
        "x_windows.go": 'package main\n\nimport "example.org/windows/only"\n',
        "x_test.go": 'package main\n\nimport "testing"\n',
        "testdata/t.go": 'package t\n\nimport "example.org/testdata"\n',
        "vendor/v/v.go": 'package v\n\nimport "example.org/vendored"\n',
        "hidden/h.go": 'package h\n\nimport "example.org/dockerignored"\n',
        ".dockerignore": "hidden\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    Repo(tmp_path).commit()
    (tmp_path / "untracked.go").write_text('package main\n\nimport "example.org/untracked"\n')  # the build sends it
    sources = Sources(tmp_path)
    files = sources.files(".")
    assert sources.go(".", files).needs(".", ["amd64", "arm64"]).external == (
        "embed", "example.org/unreadable/constraint", "example.org/untracked", "fmt", "github.com/a/b", "github.com/dot/imported",
        "golang.org/x/sys/unix", "log/slog")
