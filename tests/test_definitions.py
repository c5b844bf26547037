"""Bad definitions: one line naming the file and line or the value, exit 2, no traceback."""


import pytest
from conftest import run_bakegen


def edit(project, rel, old, new):
    p = project / rel
    text = p.read_text()
    assert old in text, f"{old!r} not in {rel}"
    p.write_text(text.replace(old, new, 1))


def line_of(project, rel, needle):
    for i, line in enumerate((project / rel).read_text().splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(needle)


def fails(project, *args):
    r = run_bakegen(*args, cwd=project)
    assert r.code == 2, r
    assert r.stdout == ""
    assert "Traceback" not in r.stderr
    errors = [l for l in r.stderr.splitlines() if l.startswith("bakegen: error:")]
    assert len(errors) == 1, r.stderr
    return errors[0]


TOOLS = "bake/golang-tools/image.hcl"
BUILD = "bake/golang-build/image.hcl"  # the compile image: the sample app's toolchain
APP = "bake/ci-demo-go/image.hcl"


def test_unknown_key_with_did_you_mean_and_line(project):
    edit(project, TOOLS, "  aliases = [", "  alias = [")
    msg = fails(project)
    assert f"{TOOLS}:{line_of(project, TOOLS, 'alias = [')}" in msg
    assert 'unknown key "alias"' in msg and '(did you mean "aliases"?)' in msg


def test_unknown_project_key(project):
    edit(project, "bake/bakegen.hcl", "registry = ", "registy = ")
    msg = fails(project)
    assert "bake/bakegen.hcl:" in msg and '"registry"' in msg


def test_syntax_error_names_file_and_line(project):
    edit(project, TOOLS, '  versions = ["1.27.0"]', '  versions = ["1.27.0"')
    msg = fails(project)
    assert f"{TOOLS}:{line_of(project, TOOLS, 'variants = [')}: unexpected 'v' in the list opened on line" in msg


def test_invalid_version(project):
    edit(project, TOOLS, '"1.27.0"', '"1.27.x"')
    msg = fails(project)
    assert f"{TOOLS}:{line_of(project, TOOLS, 'versions =')}" in msg and '"1.27.x"' in msg


def test_invalid_version_option():
    r = run_bakegen("--go-version", "banana")
    assert r.code == 2 and 'invalid Go version "banana"' in r.stderr and "Traceback" not in r.stderr


def test_unknown_platform(project):
    edit(project, "bake/bakegen.hcl", '"linux/arm64"]', '"linux/arm65"]')
    msg = fails(project)
    assert 'unknown platform "linux/arm65"' in msg and "did you mean" in msg and "bake/bakegen.hcl:" in msg


def test_missing_dockerfile(project):
    (project / "bake/golang-runtime/Dockerfile").unlink()
    msg = fails(project)
    assert "bake/golang-runtime/Dockerfile does not exist" in msg


def test_app_platforms_outside_the_bases(project):
    edit(project, APP, '  envs   = ["dev", "test", "prd"]', '  envs   = ["dev"]\n  platforms = ["linux/amd64", "linux/s390x"]')
    msg = fails(project)
    assert "linux/s390x" in msg and "subset" in msg and f"{APP}:" in msg


def test_architecture_without_go_checksum(project):
    edit(project, TOOLS, '"1.27.0"', '"1.27.99"')
    msg = fails(project)
    assert "Go 1.27.99: no known sha256" in msg and "go_checksums" in msg


def test_architecture_the_toolchain_cannot_build(project):
    edit(project, "bake/bakegen.hcl", 'platforms = ["linux/amd64", "linux/arm64"]',
         'platforms = ["linux/amd64", "windows/amd64"]')
    assert 'unknown platform "windows/amd64"' in fails(project)


def test_protoc_has_no_release_for_arm_v7(project):
    edit(project, TOOLS, '  pull       = true', '  platforms  = ["linux/arm/v7"]\n  pull       = true')
    msg = fails(project)
    assert "protoc publishes no release for platform linux/arm/v7" in msg


def test_added_checksum_makes_a_new_version_work(project):
    sha = "a" * 64
    edit(project, TOOLS, '"1.27.0"', '"1.27.99"')
    edit(project, TOOLS, "go_checksums     = {}",
         f'go_checksums = {{ "1.27.99" = {{ "linux-amd64" = "{sha}", "linux-arm64" = "{"b" * 64}" }} }}')
    r = run_bakegen(cwd=project)
    assert r.code == 0, r
    assert f"linux/amd64=go1.27.99.linux-amd64.tar.gz@{sha}" in r.stdout and "GOLANG_VERSION = \"1.27.99\"" in r.stdout


def test_a_checksum_that_contradicts_the_published_one(project):
    edit(project, TOOLS, "go_checksums     = {}", f'go_checksums = {{ "1.24.2" = {{ "linux-amd64" = "{"c" * 64}" }} }}')
    msg = fails(project)
    assert "go1.24.2.linux-amd64.tar.gz (linux-amd64 of 1.24.2)" in msg and "will not replace a checksum it knows" in msg


def test_bad_checksum_format(project):
    edit(project, TOOLS, "go_checksums     = {}", 'go_checksums = { "1.24.2" = { "linux-amd64" = "xyz" } }')
    assert "is not a sha256" in fails(project)


def test_latest_tool_is_refused(project):
    edit(project, TOOLS, "staticcheck@v0.6.1", "staticcheck@latest")
    assert "must be pinned to an exact module version" in fails(project)


def test_unknown_suite(project):
    edit(project, TOOLS, 'variants = ["trixie"]', 'variants = ["bookwrom"]')
    msg = fails(project)
    assert 'unknown Debian suite "bookwrom"' in msg and '"bookworm"' in msg


def test_missing_config_for_env(project):
    edit(project, APP, '["dev", "test", "prd"]', '["dev", "prod"]')
    msg = fails(project)
    assert "examples/repos/ci-demo-go/etc/app_prod.yaml does not exist: env 'prod' needs it" in msg
    assert f"{APP}:{line_of(project, APP, 'envs   =')}" in msg


def test_an_app_without_config_files(project):
    edit(project, APP, 'config = "etc/app_{env}.yaml"', 'config = ""')
    edit(project, APP, '["dev", "test", "prd"]', '["dev", "qa"]')
    r = run_bakegen(cwd=project)
    assert r.code == 2 and 'command "/app/{config}": unknown placeholder {config}; known here: {app}, {env}' in r.stderr
    edit(project, APP, 'command     = ["-f", "/app/{config}"]', 'command     = []')
    edit(project, APP, '"-f", "/app/{config}"]', ']')
    r = run_bakegen(cwd=project)
    assert r.code == 0, r
    assert 'target "ci-demo-go-qa"' in r.stdout and "APP_CONFIG" not in r.stdout
    assert "FROM app AS env-qa\nENV APP=ci-demo-go APP_ENV=qa\nHEALTHCHECK" in r.stdout and "CMD []\n" in r.stdout


def test_env_and_envs_exclude_each_other(project):
    edit(project, APP, '  envs   = ["dev", "test", "prd"]', '  envs   = ["dev"]\n  env = "dev"')
    assert "set env or envs, not both" in fails(project)


def test_invalid_app_name(project):
    edit(project, APP, 'image "ci-demo-go"', 'image "Ci Demo"')
    msg = fails(project)
    assert 'image name "Ci Demo" must be lower-case' in msg


def test_wrong_type(project):
    edit(project, TOOLS, "pull       = true", 'pull       = "yes"')
    assert "pull must be true or false" in fails(project)


def test_interpolation_in_definitions_is_refused(project):
    edit(project, TOOLS, 'repository  = "common/tools/golang"', 'repository  = "common/${x}/golang"')
    assert f"{TOOLS}:{line_of(project, TOOLS, 'repository  =')}: templates are not allowed in definitions: write $${{ for a literal ${{" in fails(project)


def test_error_leaves_an_existing_output_file_untouched(project):
    out = project / "docker-bake.hcl"
    out.write_text("previous content\n")
    edit(project, TOOLS, '"1.27.0"', '"nope"')
    fails(project, "-o", str(out))
    assert out.read_text() == "previous content\n"
    assert [p.name for p in project.iterdir() if p.name.startswith(".docker-bake")] == []


def test_line_numbers_in_a_file_with_two_blocks(project):
    path = project / "bake/golang-runtime/image.hcl"
    text = path.read_text()
    path.write_text(text + '\nimage "second-runtime" {\n  kind = "runtime"\n  repository = "x/y"\n'
                    '  descripton = "typo"\n}\n')
    msg = fails(project)
    assert f"bake/golang-runtime/image.hcl:{len(text.splitlines()) + 5}:" in msg
    assert '"descripton"' in msg and 'did you mean "description"' in msg


def test_duplicate_image_names(project):
    path = project / "bake/golang-runtime/image.hcl"
    path.write_text(path.read_text().replace('image "golang-runtime"', 'image "golang-tools"'))
    assert 'image "golang-tools" is defined twice' in fails(project)


@pytest.mark.parametrize("name", ["default", "base", "apps"])
def test_reserved_group_names(project, name):
    edit(project, APP, '["dev", "test", "prd"]', '["dev"]')
    edit(project, APP, 'image "ci-demo-go"', f'image "{name}"')
    msg = fails(project)
    assert f'would be named "{name}"' in msg


def test_null_means_unset_as_bake_reads_it(project):
    edit(project, TOOLS, '  pull       = true', '  pull       = null')
    edit(project, APP, '  pull       = false', '  pull       = null')
    r = run_bakegen(cwd=project)
    assert r.code == 0, r
    assert 'target "ci-demo-go-dev" {' in r.stdout
    app = r.stdout.split('target "ci-demo-go-dev" {')[1].split("\n}")[0]
    assert "pull = true" in app  # the default, as if the line were not there


# ----------------------------------------------------------------------------- issue 25
WORKER = '''image "worker" {
  kind       = "app"
  repository = "{env}/{app}"
  context    = "../../examples/repos/ci-demo-go"
  config     = ""
  toolchain  = "golang-tools"
  runtime    = "golang-runtime"
}
'''


def test_two_apps_of_one_context_building_one_package_are_refused(project):
    """A second app of the sample's source that names no package of its own would ship the
    sample's binary renamed /app/worker: refused, with the fix."""
    (project / "bake/worker").mkdir()
    (project / "bake/worker/image.hcl").write_text(WORKER)
    assert fails(project) == (
        'bakegen: error: bake/worker/image.hcl:1: app "worker" builds the same package as app "ci-demo-go" '
        '(bake/ci-demo-go/image.hcl:3): main_package "." of the context "examples/repos/ci-demo-go", so its images '
        "would hold ci-demo-go's binary; set main_package to the folder of worker's own main package, relative to "
        "the context")
    main = project / "examples/repos/ci-demo-go/cmd/worker/main.go"
    main.parent.mkdir(parents=True)
    main.write_text("package main\n\nfunc main() {}\n")
    assert fails(project).endswith("so its images would hold ci-demo-go's binary; set main_package = \"cmd/worker\"")
    edit(project, "bake/worker/image.hcl", '  config     = ""', '  config     = ""\n  main_package = "./cmd/../"')
    assert 'main_package "." of the context' in fails(project)  # the same folder, however spelled
    edit(project, "bake/worker/image.hcl", 'main_package = "./cmd/../"', 'main_package = "cmd/worker"')
    r = run_bakegen(cwd=project)
    assert r.code == 0, r
    assert "-o /out/app/worker \\\n        ./cmd/worker\n" in r.stdout
    # an app that brings its own Dockerfile decides what it builds (it gets APP as a build arg)
    edit(project, "bake/worker/image.hcl", 'main_package = "cmd/worker"', 'dockerfile = "Dockerfile"')
    (project / "bake/worker/Dockerfile").write_text("ARG TOOLCHAIN_IMAGE\nARG RUNTIME_IMAGE\nFROM ${TOOLCHAIN_IMAGE}\n"
                                                    "ARG APP\nRUN go build -o /app ./cmd/${APP}\n")
    assert run_bakegen(cwd=project).code == 0


GO_MOD = "examples/repos/ci-demo-go/go.mod"


def test_a_toolchain_of_the_same_bake_older_than_go_mod_is_refused(project):
    edit(project, GO_MOD, "go 1.24", "go 1.27")
    edit(project, BUILD, '"1.27.0"', '"1.26.7"')
    assert fails(project) == (
        f'bakegen: error: {APP}:{line_of(project, APP, "toolchain = ")}: app "ci-demo-go": its toolchain "golang-build" '
        "builds Go 1.26.7 (target golang-build), older than the go 1.27 its module asks for "
        f"({GO_MOD}:3), and the build cannot fetch a newer Go (GOTOOLCHAIN=local): add \"1.27\" to the "
        f'versions of "golang-build" ({BUILD}:{line_of(project, BUILD, "versions =")})')
    edit(project, BUILD, '"1.26.7"', '"1.26.7", "1.27rc3"')  # the app builds FROM the newest stable one
    assert fails(project).endswith('(GOTOOLCHAIN=local): set toolchain_version = "1.27rc3"')
    edit(project, APP, '  toolchain = "golang-build"', '  toolchain = "golang-build"\n  toolchain_version = "1.27rc3"')
    assert run_bakegen(cwd=project).code == 0
    edit(project, GO_MOD, "go 1.27", "go 1.27.0")  # a release candidate is older than the release
    assert f'{APP}:{line_of(project, APP, "toolchain_version")}: app "ci-demo-go": its toolchain' in fails(project)


def test_a_go_line_that_is_no_go_version_is_blamed_on_go_mod(project):
    edit(project, GO_MOD, "go 1.24", "toolchain go1.27.3\n\ngo one.24")
    assert fails(project).startswith(f'bakegen: error: {GO_MOD}:5: invalid Go version "one.24"')


def published_service(tmp_path, go_line):
    """A service with the given go line, its bake/ written by init (FROM published bases)."""
    path = tmp_path / "svc"
    path.mkdir()
    (path / "go.mod").write_text(f"module example.com/svc\n\ngo {go_line}\n")
    (path / "main.go").write_text("package main\n\nfunc main() {}\n")
    assert run_bakegen("init", "--app", "svc", cwd=path).code == 0
    return path


SVC = "bake/svc/image.hcl"


@pytest.mark.parametrize("go_line, toolchain, stated, message", [
    ("1.27", "golang:1.24", "", 'toolchain = :app "svc": toolchain "{registry}/common/tools/golang:1.24" is Go 1.24, '
     "older than the go 1.27 its module asks for (go.mod:3), and the build cannot fetch a newer Go "
     '(GOTOOLCHAIN=local): use "{registry}/common/tools/golang:1.27" or newer'),
    ("1.27.3", "golang:1.27.1-debian13", "", 'toolchain = :app "svc": toolchain '
     '"{registry}/common/tools/golang:1.27.1-debian13" is Go 1.27.1, older than the go 1.27.3 its module asks for '
     '(go.mod:3), and the build cannot fetch a newer Go (GOTOOLCHAIN=local): use '
     '"{registry}/common/tools/golang:1.27-debian13" or newer'),
    ("1.27", "golang@sha256:" + "a" * 64, "1.26", 'toolchain_version:app "svc": toolchain '
     '"{registry}/common/tools/golang@sha256:' + "a" * 64 + '" is Go 1.26 (toolchain_version), older than the go 1.27'),
    ("1.27", "golang:1.27", "1.26", 'toolchain_version:app "svc": toolchain_version says 1.26, but the toolchain '
     "tag says 1.27"),
])
def test_a_published_toolchain_older_than_go_mod_is_refused(tmp_path, go_line, toolchain, stated, message):
    path = published_service(tmp_path, go_line)
    edit(path, SVC, '"{registry}/common/tools/golang-build:1.27"', f'"{{registry}}/common/tools/{toolchain}"')
    if stated:
        edit(path, SVC, "  runtime   = ", f'  toolchain_version = "{stated}"\n  runtime   = ')
    needle, _, text = message.partition(":")
    assert fails(path).startswith(f"bakegen: error: {SVC}:{line_of(path, SVC, needle)}: {text}")


@pytest.mark.parametrize("go_line, toolchain, stated", [
    ("1.27.3", "golang:1.27", ""),  # any 1.27.x: the tag names the line
    ("1.27", "golang:1.27rc3", ""),  # go 1.27 is the language version: a release candidate builds it
    ("1.26", "golang:latest", ""),  # a tag that says no version, and nothing stated: not checked
    ("1.27", "golang@sha256:" + "a" * 64, ""),
    ("1.27", "golang@sha256:" + "a" * 64, "1.27.1"),
    ("1.27.1", "golang:1.27", "1.27.1"),  # the tag's line, made precise
])
def test_a_published_toolchain_that_builds_the_module_passes(tmp_path, go_line, toolchain, stated):
    path = published_service(tmp_path, go_line)
    edit(path, SVC, '"{registry}/common/tools/golang-build:1.27"', f'"{{registry}}/common/tools/{toolchain}"')
    if stated:
        edit(path, SVC, "  runtime   = ", f'  toolchain_version = "{stated}"\n  runtime   = ')
    r = run_bakegen(cwd=path)
    assert r.code == 0, r


@pytest.mark.parametrize("envs_line, said", [
    ("  envs   = [\"dev\", \"test\", \"prd\"]", "envs ({at}) lists dev, test, prd; to build qa too, write "
     "envs = [\"dev\", \"test\", \"prd\", \"qa\"]"),
    ("  env    = \"prd\"", "env = \"prd\" ({at}) is its one env; to build dev, qa, test too, write "
     "envs = [\"prd\", \"dev\", \"qa\", \"test\"]"),
])
def test_a_config_file_of_an_env_the_definition_does_not_list_is_a_warning(project, envs_line, said):
    edit(project, APP, '  envs   = ["dev", "test", "prd"]', envs_line)
    etc = project / "examples/repos/ci-demo-go/etc"
    (etc / "app_qa.yaml").write_text("env: qa\n")
    (etc / "app_qa.yaml.orig").write_text("a backup: no config of the pattern\n")
    r = run_bakegen(cwd=project)
    assert r.code == 0 and "qa" not in r.stdout, r
    at = f"{APP}:{line_of(project, APP, envs_line.strip())}"
    files = ", ".join(f"examples/repos/ci-demo-go/etc/app_{e}.yaml" for e in
                      (["qa"] if "envs" in envs_line else ["dev", "qa", "test"]))
    are = "is the config" if "envs" in envs_line else "are the configs"
    assert f'bakegen: warning: {files} {are} of no env of app "ci-demo-go": {said.format(at=at)}' in \
        r.stderr.splitlines(), r.stderr


def test_a_config_file_of_an_unlisted_env_without_envs(project):
    edit(project, APP, '  envs   = ["dev", "test", "prd"]\n', "")
    r = run_bakegen(cwd=project)
    assert r.code == 0, r
    at = f"{APP}:{line_of(project, APP, 'image ')}"
    assert (f"its definition ({at}) has no envs, so its one env is dev; to build prd, test too, write "
            'envs = ["dev", "prd", "test"]') in r.stderr, r.stderr


def test_a_list_given_to_env_says_envs(project):
    edit(project, APP, '  envs   = ["dev", "test", "prd"]', '  env    = ["dev", "prd"]')
    assert fails(project) == (f"bakegen: error: {APP}:{line_of(project, APP, 'env    =')}: env = [\"dev\", \"prd\"]: "
                              'env names one env, as a string (env = "dev"); for a list of envs, write '
                              'envs = ["dev", "prd"]')


def test_a_wrong_type_shows_the_value_as_the_definition_wrote_it(project):
    edit(project, TOOLS, "pull       = true", 'pull       = "yes"')
    assert fails(project).endswith('pull must be true or false, got "yes"')
    edit(project, TOOLS, 'pull       = "yes"', 'pull       = true\n  extra_hosts = ["a", 1, null]')
    assert fails(project).endswith('extra_hosts must be a map of strings, got ["a", 1, null]')
    edit(project, TOOLS, 'extra_hosts = ["a", 1, null]', 'extra_hosts = { a = { b = true } }')
    assert fails(project).endswith("extra_hosts must be a string, got { a = { b = true } }")
    edit(project, TOOLS, 'extra_hosts = { a = { b = true } }', 'extra_hosts = { "a.b" = ["$${x}"] }')
    assert fails(project).endswith('extra_hosts must be a string, got { "a.b" = ["$${x}"] }')
