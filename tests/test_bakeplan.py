"""Issue 24: what one `bakegen bake` does, decided as one pure step and tested case by case in
milliseconds, with no docker: the committed and per-build files of this repository's definitions
(a toolchain, two runtimes, the sample app in three envs, each app env FROM the toolchain and the
runtime of the same run), content keys, and the registry's answers as data."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from conftest import ROOT

from bakegen import bakeplan, loader
from bakegen.keys import LABEL
from bakegen.meta import plan_meta
from bakegen.model import Answer, GitMeta, GitState, Stamp
from bakegen.plan import plan

REGISTRY = "registry.example.com/team"
DEFS = loader.load(ROOT / "bake", "bake")
BAKE = plan(DEFS, dt.date(2026, 1, 1))
KEYS = {t.name: hashlib.sha256(t.name.encode()).hexdigest() for t in BAKE.targets}
GIT = GitMeta(GitState("main", "a" * 40, False, None, "202601010000"), Stamp("a" * 40, 1767225600, "the test"),
              {"branch": "the test", "commit": "the test", "time": "the test"}, None)
META = plan_meta(DEFS, BAKE, GIT, {}, keys=KEYS)
APPS = ["ci-demo-go-dev", "ci-demo-go-prd", "ci-demo-go-test"]
BASES = ["golang-build", "golang-runtime", "golang-runtime-static", "golang-tools"]
ALL = [t.name for t in BAKE.targets]
PUSH = bakeplan.Options(push=True, branch="feature/x", default_branch="main")


def digest(name: str) -> str:
    return "sha256:" + hashlib.sha256(b"image " + name.encode()).hexdigest()


def pushed(name: str, *, key: str | None = None, platforms: list[str] | None = None,
           annotations: dict[str, str] | None = None) -> Answer:
    """The answer for a key tag: the index bakegen pushed (its key annotation, its platforms)."""
    t = BAKE.target(name)
    return Answer("found", digest(name), annotations={LABEL: key or KEYS[name]} if annotations is None else annotations,
                  platforms=tuple(t.platforms if platforms is None else platforms))


def answers(found: dict[str, Answer] | None = None, *, caches: dict[str, str] | None = None) -> dict[str, Answer]:
    """The registry: ``found`` (target -> its key tag's answer; every other key tag missing) and
    the caches (tag -> state; every other cache missing)."""
    out = {r: Answer("missing", why="404") for r in bakeplan.key_refs(META, REGISTRY).values()}
    refs = bakeplan.key_refs(META, REGISTRY)
    for name, answer in (found or {}).items():
        out[refs[name]] = answer
    for refs_ in bakeplan.cache_refs(BAKE, DEFS, ALL, PUSH).values():
        for r in refs_:
            out[r.resolve(REGISTRY)] = Answer((caches or {}).get(r.tag, "missing"))
    return out


def decide(selected=ALL, *, found=None, caches=None, o=PUSH, test_only=frozenset(), keys=None,
           unknown=None, bases=None):
    return bakeplan.decide(BAKE, DEFS, META, list(selected), keys=keys or KEYS, unknown=unknown or {},
                           bases=bases or {}, answers=answers(found, caches=caches),
                           test_only=set(test_only), registry=REGISTRY, o=o)


def line(d: bakeplan.Decision, name: str) -> str:
    (found,) = [x for x in d.lines if x.split()[1:2] == [name]]
    return found


# ------------------------------------------------------------------------------ reuse or build
def test_nothing_pushed_builds_everything_and_says_why():
    d = decide()
    assert d.build == ALL and not d.reuse and not d.retag
    assert "no image with its inputs is pushed yet" in line(d, "golang-tools")
    assert d.args[0] == "--push" and d.args[-len(ALL):] == ALL


def test_an_image_pushed_with_the_same_inputs_is_tagged_not_built():
    d = decide(found={name: pushed(name) for name in ALL})
    assert not d.build and set(d.reuse) == set(ALL) and d.reuse["golang-tools"] == digest("golang-tools")
    (job,) = [j for j in d.retag if j[0] == "ci-demo-go-prd"]
    assert job[1] == f"{REGISTRY}/prd/ci-demo-go@{digest('ci-demo-go-prd')}"
    assert f"{REGISTRY}/prd/ci-demo-go:latest" in job[2] and all("/prd/ci-demo-go:" in t for t in job[2])
    assert "its inputs did not change" in line(d, "ci-demo-go-prd")


@pytest.mark.parametrize(("answer", "why"), [
    (Answer("missing", why="404"), "no image with its inputs is pushed yet"),
    (Answer("unsure", why="registry.example.com: HTTP 500"), "the registry did not answer clearly: "
                                                             "registry.example.com: HTTP 500"),
    (Answer("found", ""), "the registry did not answer clearly"),
    (pushed("golang-runtime", key="0" * 64), "carries another key"),
    (pushed("golang-runtime", annotations={}), "carries no key annotation"),
    (pushed("golang-runtime", platforms=["linux/amd64"]), "has no linux/arm64"),
    (pushed("golang-runtime", platforms=[]), "is a single platform's, not linux/amd64, linux/arm64"),
])
def test_any_answer_but_a_clear_yes_builds(answer, why):
    d = decide(found={"golang-runtime": answer})
    assert "golang-runtime" in d.build and not d.reuse
    assert why in line(d, "golang-runtime")


def test_a_target_without_a_key_builds():
    d = decide(found={"golang-tools": pushed("golang-tools")}, keys={**KEYS, "golang-tools": None},
               unknown={"golang-tools": "bake/golang-tools is not in a git work tree"})
    assert "golang-tools" in d.build and "cannot be keyed: bake/golang-tools is not" in line(d, "golang-tools")


@pytest.mark.parametrize(("o", "why"), [
    (bakeplan.Options(push=True, rebuild=True), "--rebuild"),
    (bakeplan.Options(push=False), "without --push nothing is reused"),
])
def test_rebuild_and_no_push_build_everything(o, why):
    d = decide(found={name: pushed(name) for name in ALL}, o=o)
    assert d.build == ALL and not d.reuse and why in line(d, "golang-tools")
    assert ("--push" in d.args) == o.push


def test_load_builds_for_this_machine_without_a_registry():
    o = bakeplan.Options(load=True, local_platform="linux/arm64")
    d = decide(["ci-demo-go-dev"], o=o)
    assert d.build == ["ci-demo-go-dev"] and "--load" in d.args and "--push" not in d.args
    assert d.args[d.args.index("--set") + 1] == "ci-demo-go-dev.platform=linux/arm64"
    assert "cache-from" not in d.overrides.get("ci-demo-go-dev", {})


def test_a_test_only_base_unchanged_is_neither_built_nor_tagged():
    d = decide(found={"golang-tools": pushed("golang-tools")}, test_only=set(BASES))
    assert "golang-tools" in d.unchanged and "golang-tools" not in d.reuse and "golang-tools" not in d.build
    assert d.overrides["golang-runtime"]["output"] == ["type=cacheonly"]  # changed: built to test, not pushed
    assert "built to test it, not pushed" in line(d, "golang-runtime")
    assert "this branch does not push it" in line(d, "golang-tools")


# ------------------------------------------------------------------------------ bases by digest
def test_an_app_on_a_reused_base_takes_it_by_digest():
    d = decide(found={b: pushed(b) for b in BASES})
    assert d.build == APPS
    contexts = d.overrides["ci-demo-go-dev"]["contexts"]
    assert contexts["${REGISTRY}/common/tools/golang-build:1.27.0"] == \
        f"docker-image://{REGISTRY}/common/tools/golang-build@{digest('golang-build')}"


def test_an_app_on_a_published_base_takes_it_by_digest():
    """A service repository (examples/repos/cgo-demo): its bases are published images, which
    content_keys found in the registry; the build takes each by that digest."""
    defs = loader.load(ROOT / "examples/repos/cgo-demo/bake", "bake")
    bake = plan(defs, dt.date(2026, 1, 1))
    (t,) = bake.targets
    keys = {t.name: "f" * 64}
    meta = plan_meta(defs, bake, GIT, {}, keys=keys)
    bases = {c.name.name: "sha256:" + "9" * 64 for c in t.contexts}
    d = bakeplan.decide(bake, defs, meta, [t.name], keys=keys, unknown={}, bases=bases, answers={},
                        test_only=set(), registry=REGISTRY, o=PUSH)
    assert d.build == [t.name] and len(d.overrides[t.name]["contexts"]) == 2
    for name, value in d.overrides[t.name]["contexts"].items():
        assert name.startswith("${REGISTRY}/common/") and value.endswith("@sha256:" + "9" * 64), (name, value)


# ------------------------------------------------------------------------------ caches
def test_only_caches_the_registry_has_are_read():
    d = decide(["ci-demo-go-dev"], caches={"cache-ci-demo-go-main": "found"})
    (entry,) = d.overrides["ci-demo-go-dev"]["cache-from"]
    assert entry == "type=registry,ref=${REGISTRY}/dev/ci-demo-go-bakegen:cache-ci-demo-go-main"
    assert "(cache from cache-ci-demo-go-main)" in line(d, "ci-demo-go-dev")


def test_a_cache_the_registry_is_unsure_of_is_read_anyway():
    d = decide(["ci-demo-go-dev"], caches={"cache-ci-demo-go-feature-x": "unsure"})
    assert [e.rsplit(":", 1)[1] for e in d.overrides["ci-demo-go-dev"]["cache-from"]] == ["cache-ci-demo-go-feature-x"]


def test_no_cache_at_all_passes_none_and_says_so():
    d = decide(["ci-demo-go-dev"])
    assert "cache-from" not in d.overrides.get("ci-demo-go-dev", {})
    assert "(no registry cache to read yet)" in line(d, "ci-demo-go-dev")


def test_every_env_of_an_app_shares_one_cache_written_once():
    o = PUSH._replace(cache=True)
    d = decide(APPS, o=o, caches={"cache-ci-demo-go-main": "found"})
    writers = [n for n in APPS if "cache-to" in d.overrides[n]]
    assert writers == ["ci-demo-go-dev"]
    assert d.overrides["ci-demo-go-dev"]["cache-to"] == [
        "type=registry,ref=${REGISTRY}/dev/ci-demo-go-bakegen:cache-ci-demo-go-feature-x,mode=max,ignore-error=true"]
    assert all(d.overrides[n]["cache-from"] == d.overrides["ci-demo-go-dev"]["cache-from"] for n in APPS)


def test_cache_writes_only_with_push():
    d = decide(APPS, o=bakeplan.Options(cache=True, branch="feature/x"))
    assert not any("cache-to" in e for e in d.overrides.values())
    assert any("only with --push" in x for x in d.lines)


def test_a_missing_cache_of_a_reused_app_is_brought_back_once():
    """Main's CI after a laptop's push: the images are there, the cache never was. A cache-only
    build of the compile stage writes it, once for the app's three envs."""
    o = PUSH._replace(cache=True, branch="main")
    d = decide(APPS, found={n: pushed(n) for n in ALL}, o=o)
    assert not d.build and d.restore == ["ci-demo-go-dev"]
    entry = d.overrides["ci-demo-go-dev"]
    assert entry["output"] == ["type=cacheonly"] and entry["target"] == "builder"
    assert entry["cache-to"][0].endswith("dev/ci-demo-go-bakegen:cache-ci-demo-go-main,mode=max,ignore-error=true")
    assert entry["contexts"]  # its bases by digest, as any build
    assert d.args[-1] == "ci-demo-go-dev" and any("cache-only build writes cache-ci-demo-go-main" in x for x in d.lines)


def test_a_cache_the_default_branch_has_is_not_brought_back():
    o = PUSH._replace(cache=True)
    d = decide(APPS, found={n: pushed(n) for n in ALL}, o=o, caches={"cache-ci-demo-go-main": "found"})
    assert not d.restore and not d.build


def test_no_cache_is_brought_back_without_cache():
    d = decide(APPS, found={n: pushed(n) for n in ALL})
    assert not d.restore


# ------------------------------------------------------------------------------ arguments
def test_print_and_sets_reach_bake():
    d = decide(["golang-tools"], o=PUSH._replace(show=True, sets=("golang-tools.no-cache=true",)))
    assert "--print" in d.args and "--push" not in d.args
    assert d.args[d.args.index("--set") + 1] == "golang-tools.no-cache=true"


def test_questions_ask_keys_only_when_something_may_be_reused():
    asked = bakeplan.key_questions(META, registry=REGISTRY, o=PUSH)
    assert len(asked) == len(ALL) and not any(asked.values())  # one request each: the manifest says it all
    assert all(":key-" in r and "-bakegen:" in r for r in asked)  # in the internal repositories
    for o in (PUSH._replace(rebuild=True), bakeplan.Options(load=True), bakeplan.Options(push=False)):
        assert not bakeplan.key_questions(META, registry=REGISTRY, o=o)


def caches_asked(asked) -> list[str]:
    return sorted(r.rsplit(":", 1)[1] for r in asked if ":cache-" in r)


def test_caches_are_asked_for_what_is_built_and_with_cache_for_what_is_reused():
    first = decide(found={n: pushed(n) for n in BASES})
    asked = bakeplan.more_questions(BAKE, DEFS, META, first, registry=REGISTRY, o=PUSH)
    assert caches_asked(asked) == ["cache-ci-demo-go-feature-x", "cache-ci-demo-go-main"]
    asked = bakeplan.more_questions(BAKE, DEFS, META, first, registry=REGISTRY, o=PUSH._replace(cache=True))
    assert len(caches_asked(asked)) == 2 * (1 + len(BASES))  # the bases' too: a missing one is brought back
    asked = bakeplan.more_questions(BAKE, DEFS, META, first, registry=REGISTRY, o=PUSH._replace(cache_read=False))
    assert not caches_asked(asked)


def test_what_is_built_asks_for_the_image_built_last_on_this_and_the_default_branch():
    first = decide(found={n: pushed(n) for n in BASES})
    asked = bakeplan.more_questions(BAKE, DEFS, META, first, registry=REGISTRY, o=PUSH)
    assert sorted(r.rsplit(":", 1)[1] for r in asked if ":last-" in r) == [
        f"last-{n}-{b}" for n in APPS for b in ("feature-x", "main")]
    assert not [r for r in bakeplan.more_questions(BAKE, DEFS, META, first, registry=REGISTRY,
                                                   o=PUSH._replace(rebuild=True)) if ":last-" in r]


PARTS = dict.fromkeys(ALL, "dockerfile=aaaaaaaa;files:.=11111111;target=bbbbbbbb")


def decide_since(last: dict[str, Answer]) -> bakeplan.Decision:
    given = answers()
    for refs in bakeplan.last_refs(META, ["golang-runtime"], PUSH).values():
        for r in refs:
            given[r.resolve(REGISTRY)] = last.get(r.tag, Answer("missing"))
    return bakeplan.decide(BAKE, DEFS, META, ["golang-runtime"], keys=KEYS, unknown={}, bases={}, answers=given,
                           test_only=set(), registry=REGISTRY, o=PUSH, parts=PARTS)


def test_a_build_says_which_inputs_changed_since_the_image_built_last():
    before = Answer("found", digest("old"), annotations={"dev.bakegen.inputs": "dockerfile=aaaaaaaa;files:.=22222222;"
                                                                               "target=bbbbbbbb"})
    d = decide_since({"last-golang-runtime-main": before})
    assert "its inputs changed since the image built last on main: the files at the top of the context" in line(d, "golang-runtime")
    d = decide_since({"last-golang-runtime-feature-x": before._replace(annotations={
        "dev.bakegen.inputs": "dockerfile=cccccccc;target=bbbbbbbb"})})
    assert "since the image built last on feature/x: the Dockerfile, the files at the top of the context" in line(d, "golang-runtime")


def test_a_build_with_no_earlier_image_says_so():
    d = decide_since({})
    assert "not built on feature/x or main yet" in line(d, "golang-runtime")
    d = decide_since({"last-golang-runtime-feature-x": Answer("unsure", why="HTTP 500")})
    assert "no image with its inputs is pushed yet" in line(d, "golang-runtime")  # no guess


# ------------------------------------------------------------------------------ --ci
@pytest.mark.parametrize(("branch", "tag", "apps", "test_only", "says"), [
    ("main", None, APPS, set(), 'branch "main" (a main branch)'),
    ("feature/x", None, ["ci-demo-go-dev"], set(BASES), "built to test them and not pushed"),
    ("v1.2.0", "v1.2.0", ["ci-demo-go-prd"], set(), "release tag v1.2.0"),
])
def test_ci_selects_what_the_ref_owns_and_says_it(branch, tag, apps, test_only, says):
    state = GIT.state._replace(branch=branch, version_tag=tag)
    selected, only, why = bakeplan.owned(BAKE, DEFS, state)
    assert [n for n in selected if n in APPS] == apps and only == test_only
    assert says in why and ", ".join(apps) in why


def test_the_per_build_file_puts_the_key_where_one_answer_shows_it():
    """The key is annotated on the manifest its key tag names: the index of a multi-platform
    image, the image manifest of a single-platform one (BuildKit refuses index annotations there)."""
    import dataclasses

    from bakegen.model import BakeFile

    assert META.target("golang-tools").annotations == [f"index:{LABEL}={KEYS['golang-tools']}"]
    single = dataclasses.replace(BAKE.target("golang-tools"), platforms=["linux/amd64"])
    meta = plan_meta(DEFS, BakeFile([], {}, [single]), GIT, {}, keys=KEYS)
    assert meta.target("golang-tools").annotations == [f"manifest:{LABEL}={KEYS['golang-tools']}"]
