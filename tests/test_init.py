"""`bakegen init` in new repositories, and the seed's two-repository layout (examples/repos/):
base images in one repository, a service in its own, built FROM the published bases."""

import shutil

import pytest
from conftest import ROOT, Repo, bake_print, run_bakegen, strict_parse, targets_of

EXAMPLES = ROOT / "examples" / "repos"


def files_under(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_init_writes_the_base_images_as_the_example_holds_them(tmp_path):
    repo = Repo(tmp_path / "base-images")
    r = run_bakegen("init", cwd=repo.path)
    assert r.code == 0, r
    assert files_under(repo.path / "bake") == files_under(EXAMPLES / "base-images" / "bake")
    assert run_bakegen("-o", "docker-bake.hcl", cwd=repo.path).code == 0
    text = (repo.path / "docker-bake.hcl").read_text()
    assert text == (EXAMPLES / "base-images" / "docker-bake.hcl").read_text()
    assert set(strict_parse(text)["group"]) == {"base", "default"}
    printed = bake_print(repo.path)
    assert set(printed["target"]) == {"golang-tools", "golang-build", "golang-runtime", "golang-runtime-static"}


WRITTEN = shutil.ignore_patterns("bake", "docker-bake.hcl", ".gitignore")  # what init (and -o) write


def test_init_app_writes_a_service_built_from_the_published_bases(tmp_path):
    service = tmp_path / "ci-demo-go"
    shutil.copytree(EXAMPLES / "ci-demo-go", service, ignore=WRITTEN)
    Repo(service)
    r = run_bakegen("init", "--app", "ci-demo-go", cwd=service)
    assert r.code == 0, r
    assert files_under(service / "bake") == files_under(EXAMPLES / "ci-demo-go" / "bake")
    assert (service / ".gitignore").read_text() == "/.bakegen/\n" == (EXAMPLES / "ci-demo-go/.gitignore").read_text()
    assert run_bakegen("-o", "docker-bake.hcl", cwd=service).code == 0
    text = (service / "docker-bake.hcl").read_text()
    assert text == (EXAMPLES / "ci-demo-go" / "docker-bake.hcl").read_text()
    targets = targets_of(text)
    assert set(targets) == {"_ci-demo-go", "ci-demo-go-dev", "ci-demo-go-prd", "ci-demo-go-test"}
    tools = "REGISTRY/common/tools/golang-build:1.27"  # the compile image: the sample has no cgo
    assert targets["ci-demo-go-prd"]["contexts"][tools] == f"docker-image://{tools}"
    printed = bake_print(service)
    app = printed["target"]["ci-demo-go-prd"]
    assert app["contexts"] == {
        "registry.example.com/common/tools/golang-build:1.27":
            "docker-image://registry.example.com/common/tools/golang-build:1.27",
        "registry.example.com/common/runtime/golang:debian13":
            "docker-image://registry.example.com/common/runtime/golang:debian13"}
    assert set(printed["target"]) == set(targets) - {"_ci-demo-go"}  # only the app is built


def test_init_app_cgo_writes_the_cgo_sample_as_the_example_holds_it(tmp_path):
    service = tmp_path / "cgo-demo"
    shutil.copytree(EXAMPLES / "cgo-demo", service, ignore=WRITTEN)
    Repo(service)
    assert run_bakegen("init", "--app", "cgo-demo", "--cgo", cwd=service).code == 0
    assert files_under(service / "bake") == files_under(EXAMPLES / "cgo-demo" / "bake")
    assert run_bakegen("-o", "docker-bake.hcl", cwd=service).code == 0
    text = (service / "docker-bake.hcl").read_text()
    assert text == (EXAMPLES / "cgo-demo" / "docker-bake.hcl").read_text()
    assert "CGO_ENABLED=1 " in targets_of(text)["_cgo-demo"]["dockerfile-inline"]
    bake_print(service)


def test_a_service_repository_holds_no_copied_dockerfile():
    """The app's Dockerfile is generated into docker-bake.hcl from the definition: nothing to
    refresh by hand in each service when bakegen's template changes; regenerating does it, and
    `bakegen --check` (CI, pre-commit) says so."""
    for service in ("ci-demo-go", "cgo-demo"):
        assert not list((EXAMPLES / service / "bake").rglob("Dockerfile")), service
        assert "dockerfile-inline = <<EOT\n" in (EXAMPLES / service / "docker-bake.hcl").read_text()


def test_init_app_beside_base_images_uses_them(tmp_path):
    repo = Repo(tmp_path / "mono")
    assert run_bakegen("init", "--registry", "reg.example.com/team", cwd=repo.path).code == 0
    (repo.path / "svc").mkdir()
    r = run_bakegen("init", "--app", "svc", "--context", "svc", cwd=repo.path)
    assert r.code == 0, r
    hcl = (repo.path / "bake/svc/image.hcl").read_text()
    assert 'toolchain = "golang-build"' in hcl and 'runtime   = "golang-runtime"' in hcl
    assert 'context     = "../../svc"' in hcl and 'envs   = ["dev"]' in hcl and 'config = ""' in hcl
    (repo.path / "svc" / "go.mod").write_text("module example.com/svc\n\ngo 1.24\n")
    (repo.path / "svc" / "main.go").write_text("package main\n\nfunc main() {}\n")
    r = run_bakegen("-o", "docker-bake.hcl", cwd=repo.path)
    assert r.code == 0, r
    t = targets_of((repo.path / "docker-bake.hcl").read_text())["svc"]
    assert t["contexts"]["REGISTRY/common/tools/golang-build:1.27.0"] == "target:golang-build"
    assert t["context"] == "svc" and t["inherits"] == ["_svc"] and t["target"] == "env-dev"
    assert strict_parse((repo.path / "docker-bake.hcl").read_text())["variable"]["REGISTRY"]["default"] == \
        "reg.example.com/team"
    bake_print(repo.path)


def test_init_app_beside_base_images_builds_a_cgo_app_from_the_toolchain(tmp_path):
    """Issue 23: beside the base images init wrote, an app without cgo builds FROM the compile
    image, a cgo app FROM the toolchain with a C compiler; with none there, --cgo is refused."""
    repo = Repo(tmp_path / "mono")
    assert run_bakegen("init", cwd=repo.path).code == 0
    for app, args in (("svc", ()), ("native", ("--cgo",))):
        source(repo.path / app, "go 1.27\n")
        assert run_bakegen("init", "--app", app, "--context", app, *args, cwd=repo.path).code == 0
    assert '  toolchain = "golang-build"\n' in written(repo.path, "svc")
    assert '  toolchain = "golang-tools"\n' in written(repo.path, "native") and "cgo          = true" in \
        written(repo.path, "native")
    r = run_bakegen("-o", "docker-bake.hcl", cwd=repo.path)
    assert r.code == 0, r
    targets = targets_of((repo.path / "docker-bake.hcl").read_text())
    assert targets["native"]["contexts"]["REGISTRY/common/tools/golang:1.27.0"] == "target:golang-tools"
    assert targets["svc"]["contexts"]["REGISTRY/common/tools/golang-build:1.27.0"] == "target:golang-build"
    shutil.rmtree(repo.path / "bake/golang-tools")
    source(repo.path / "other", "go 1.27\n")
    r = run_bakegen("init", "--app", "other", "--context", "other", "--cgo", cwd=repo.path)
    assert r.code == 2 and not (repo.path / "bake/other").exists()
    assert r.stderr == ("bakegen: error: --cgo: no toolchain defined beside the app has a C compiler (golang-build: "
                        "cgo = false): define one first (golang-tools, as `bakegen init` writes it)\n")


def test_init_app_beside_bases_without_a_compile_image_keeps_the_toolchain(tmp_path):
    """A base-images folder from before the compile image (a toolchain and runtimes only): an app
    without cgo builds FROM the toolchain it has."""
    repo = Repo(tmp_path / "mono")
    assert run_bakegen("init", cwd=repo.path).code == 0
    shutil.rmtree(repo.path / "bake/golang-build")
    source(repo.path / "svc", "go 1.27\n")
    assert run_bakegen("init", "--app", "svc", "--context", "svc", cwd=repo.path).code == 0
    assert '  toolchain = "golang-tools"\n' in written(repo.path, "svc")


def test_init_never_overwrites_and_writes_nothing_then(tmp_path):
    repo = Repo(tmp_path / "r")
    existing = repo.path / "bake" / "golang-tools" / "Dockerfile"
    existing.parent.mkdir(parents=True)
    existing.write_text("mine\n")
    r = run_bakegen("init", cwd=repo.path)
    assert r.code == 2 and r.stdout == ""
    assert r.stderr.strip() == (f"bakegen: error: {existing} already exists; bakegen init never overwrites a file "
                                "(move it away or edit it by hand)")
    assert existing.read_text() == "mine\n"
    assert files_under(repo.path / "bake") == {"golang-tools/Dockerfile": b"mine\n"}


def test_init_app_keeps_an_existing_project_file(tmp_path):
    repo = Repo(tmp_path / "r")
    (repo.path / "bake").mkdir()
    (repo.path / "bake" / "bakegen.hcl").write_text('registry = "mine.example.com"\n')
    r = run_bakegen("init", "--app", "svc", "--registry", "other.example.com", cwd=repo.path)
    assert r.code == 2 and "bake/bakegen.hcl exists and init never overwrites a file: set registry there" in r.stderr
    assert run_bakegen("init", "--app", "svc", cwd=repo.path).code == 0
    assert (repo.path / "bake" / "bakegen.hcl").read_text() == 'registry = "mine.example.com"\n'
    (repo.path / "go.mod").write_text("module example.com/svc\n\ngo 1.24\n")
    (repo.path / "main.go").write_text("package main\n\nfunc main() {}\n")
    assert run_bakegen("-o", "docker-bake.hcl", cwd=repo.path).code == 0
    assert run_bakegen("init", "--app", "svc", cwd=repo.path).code == 2


@pytest.mark.parametrize("args, message", [
    (["init", "--app", "My App"], 'app name "My App" must be lower-case'),
    (["init", "--context", "x"], "--context: --context needs --app NAME"),
    (["init", "--cgo"], "--cgo: --cgo needs --app NAME"),
    (["init", "--app", "svc", "--context", "nowhere"], "nowhere is not a folder"),
    (["init", "--registry", "Bad Reg"], '--registry: "Bad Reg" is not a valid registry'),
])
def test_init_refuses_bad_input(tmp_path, args, message):
    r = run_bakegen(*args, cwd=tmp_path)
    assert r.code == 2 and message in r.stderr and not (tmp_path / "bake").exists()


def test_a_file_bakegen_writes_names_only_paths_that_exist_beside_it(tmp_path):
    """The built-in example printed to stdout is the seed demo (a notice); written to a file
    where its paths do not exist, it is refused with the fix."""
    r = run_bakegen("-o", "docker-bake.hcl", cwd=tmp_path)
    assert r.code == 2 and not (tmp_path / "docker-bake.hcl").exists()
    assert "context examples/repos/ci-demo-go of target ci-demo-go-dev does not exist here" in r.stderr
    assert "bakegen init" in r.stderr
    assert run_bakegen("--check", "docker-bake.hcl", cwd=tmp_path).code == 2


def test_a_definition_naming_a_missing_context_is_refused(project):
    image = project / "bake/ci-demo-go/image.hcl"
    image.write_text(image.read_text().replace("examples/repos/ci-demo-go", "examples/nowhere"))
    r = run_bakegen(cwd=project)
    assert r.code == 2 and "context examples/nowhere of target ci-demo-go-dev does not exist here" in r.stderr


# ----------------------------------------------------------------------------- issue 25: init reads the repository
MAIN = "package main\n\nfunc main() {}\n"


def source(path, go_mod=None, mains=(".",)):
    """A service's source: go.mod (when given) and a main package in each of ``mains``."""
    path.mkdir(parents=True, exist_ok=True)
    if go_mod is not None:
        (path / "go.mod").write_text(f"module example.com/x\n\n{go_mod}")
    for folder in mains:
        (path / folder).mkdir(parents=True, exist_ok=True)
        (path / folder / "main.go").write_text(MAIN)
    return path


def written(path, app):
    return (path / "bake" / app / "image.hcl").read_text()


@pytest.mark.parametrize("go_mod, args, toolchain", [
    ("go 1.27\n", (), "golang-build:1.27"),  # the compile image, Go alone: no cgo
    ("go 1.27\n\ntoolchain go1.27.3\n", (), "golang-build:1.27"),
    ("go 1.24\n", (), "golang-build:1.27"),  # the newest line bakegen knows: what new base images build
    ("go 1.26.2\n\ntoolchain go1.28.1\n", (), "golang-build:1.28"),  # the Go its developers use
    ("go 1.29rc1\n", ("--cgo",), "golang:1.29-debian13"),  # the toolchain with a C compiler
    (None, (), "golang-build:1.27"),  # no go.mod (yet)
])
def test_init_app_names_a_toolchain_that_builds_the_module(tmp_path, go_mod, args, toolchain):
    path = source(tmp_path / "svc", go_mod)
    r = run_bakegen("init", "--app", "svc", *args, cwd=path)
    assert r.code == 0, r
    assert f'  toolchain = "{{registry}}/common/tools/{toolchain}"\n' in written(path, "svc")
    assert '  runtime   = "{registry}/common/runtime/golang:debian13"\n' in written(path, "svc")


def test_init_app_refuses_a_go_version_older_than_go_mod(tmp_path):
    path = source(tmp_path / "svc", "go 1.27\n")
    r = run_bakegen("init", "--app", "svc", "--go-version", "1.26", cwd=path)
    assert r.code == 2 and not (path / "bake").exists()
    assert r.stderr == ("bakegen: error: --go-version: Go 1.26 is older than the go 1.27 its module asks for "
                        "(go.mod:3), and the build cannot fetch a newer Go (GOTOOLCHAIN=local)\n")
    (path / "go.mod").write_text("module example.com/x\n\ngo 1.27.x\n")
    r = run_bakegen("init", "--app", "svc", cwd=path)
    assert r.code == 2 and r.stderr.startswith('bakegen: error: go.mod:3: invalid Go version "1.27.x"'), r


def test_init_app_beside_bases_older_than_go_mod_is_refused(tmp_path):
    repo = Repo(tmp_path / "mono")
    assert run_bakegen("init", "--go-version", "1.26", cwd=repo.path).code == 0
    source(repo.path / "svc", "go 1.27\n")
    r = run_bakegen("init", "--app", "svc", "--context", "svc", cwd=repo.path)
    assert r.code == 2 and not (repo.path / "bake/svc").exists()
    assert r.stderr == ('bakegen: error: --app: the toolchain "golang-build" defined beside it builds Go 1.26.7, older '
                        "than the go 1.27 its module asks for (svc/go.mod:3), and the build cannot fetch a newer Go "
                        '(GOTOOLCHAIN=local): add "1.27" to its versions (bake/golang-build/image.hcl:9) first\n')
    r = run_bakegen("init", "--app", "svc", "--context", "svc", "--cgo", cwd=repo.path)  # the one it would build FROM
    assert r.code == 2 and '"golang-tools" defined beside it builds Go 1.26.7' in r.stderr
    assert "(bake/golang-tools/image.hcl:9)" in r.stderr


def test_a_second_app_in_cmd_beside_a_top_level_main_builds_its_own_package(tmp_path):
    """The issue: `init --app worker` in a repository with cmd/worker and a main package at the
    top wrote main_package = ".", and the worker's images held the main service's binary."""
    path = source(tmp_path / "svc", "go 1.27\n", mains=(".",))
    Repo(path)
    assert run_bakegen("init", "--app", "svc", cwd=path).code == 0
    assert 'main_package = "."' in written(path, "svc")
    source(path, mains=("cmd/worker",))
    r = run_bakegen("init", "--app", "worker", cwd=path)
    assert r.code == 0, r
    assert 'main_package = "cmd/worker"' in written(path, "worker")
    r = run_bakegen(cwd=path)
    assert r.code == 0, r
    assert "-o /out/app/worker \\\n        ./cmd/worker\n" in r.stdout and "-o /out/app/svc \\\n        ./\n" in r.stdout
    # every main package of the source is some app's now: a third app must say which is its own
    r = run_bakegen("init", "--app", "api", cwd=path)
    assert r.code == 2 and not (path / "bake/api").exists()
    assert r.stderr == ('bakegen: error: --app: cannot tell which main package app "api" builds: each main package '
                        'of its source is built by another app: . (app "svc"), cmd/worker (app "worker"); name it with '
                        "--main-package DIR\n")


def test_init_app_that_cannot_tell_lists_the_candidates_and_takes_main_package(tmp_path):
    path = source(tmp_path / "svc", "go 1.27\n", mains=(".", "cmd/api", "cmd/cli"))
    (path / "cmd/api/main_test.go").write_text("package main\n")
    (path / "cmd/lib").mkdir()
    (path / "cmd/lib/lib.go").write_text("package lib\n")  # not a main package
    r = run_bakegen("init", "--app", "svc", cwd=path)
    assert r.code == 2 and not (path / "bake").exists()
    assert r.stderr == ('bakegen: error: --app: cannot tell which main package app "svc" builds: ., cmd/api, cmd/cli '
                        "each hold one and there is no cmd/svc; name it with --main-package DIR\n")
    for given, message in (("../elsewhere", "--main-package: ../elsewhere is not a folder inside the app's source"),
                           ("cmd/lib", f"--main-package: {path}/cmd/lib holds no main package"),
                           ("cmd/none", f"--main-package: {path}/cmd/none holds no main package")):
        r = run_bakegen("init", "--app", "svc", "--main-package", given, cwd=path)
        assert r.code == 2 and message in r.stderr and not (path / "bake").exists(), r
    r = run_bakegen("init", "--app", "svc", "--main-package", "./cmd/cli/", cwd=path)
    assert r.code == 0, r
    assert 'main_package = "cmd/cli"' in written(path, "svc")
    r = run_bakegen("init", "--main-package", "cmd/cli", cwd=tmp_path)
    assert r.code == 2 and "--main-package: --main-package needs --app NAME" in r.stderr


def test_the_repositories_the_cgo_refusal_reads_are_those_init_publishes():
    """A published toolchain says it has no C compiler by its repository: the one the base images
    init writes publish the compile image to (and the fix names the toolchain's)."""
    from bakegen import loader
    from bakegen.apps import COMPILE_REPOSITORY, TOOLCHAIN_REPOSITORY
    from bakegen.model import Toolchain

    builtin = loader.load(loader.package_path("bake"), "bake")
    by_cgo = {i.cgo: i.repository for i in builtin.images if isinstance(i, Toolchain)}
    assert by_cgo == {False: COMPILE_REPOSITORY, True: TOOLCHAIN_REPOSITORY}
