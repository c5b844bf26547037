import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bakegen.errors import BakegenError
from bakegen.model import GitState
from bakegen.tags import (
    REGISTRY_PATTERN,
    app_tags,
    app_version,
    check_path,
    check_registry,
    is_valid_tag,
    parse_reference,
    release_tags,
    sanitize,
)

DOCKER_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def state(branch="main", short="abc1234", dirty=False, version_tag=None, ts="202607011318"):
    return GitState(branch=branch, commit=short + "0" * (40 - len(short)), dirty=dirty,
                    version_tag=version_tag, timestamp=ts)


def tag_list(s, env="dev", latest_envs=("prd",), latest_branches=("main", "master"), short_length=7):
    return [a.tag for a in app_tags(s, short_length, env, latest_envs, latest_branches)]


def test_seed_tag_shape():
    assert tag_list(state(branch="master", short="4ff8dc8", ts="202507012318")) == [
        "master-4ff8dc8-202507012318"]


@pytest.mark.parametrize("branch, expected", [
    ("feature/login", "feature-login"),
    ("feature/Login#12", "feature-Login-12"),
    ("Fix_UPPER", "Fix_UPPER"),
    ("-x", "x"),
    (".hidden", "hidden"),
    ("--..--", "unknown"),
    ("", "unknown"),
    ("renovate/golang-1.x", "renovate-golang-1.x"),
    ("用户/分支", "unknown"),
    ("a b\tc\nd", "a-b-c-d"),
])
def test_branch_names_become_valid_tags(branch, expected):
    tag = tag_list(state(branch=branch))[0]
    assert tag == f"{expected}-abc1234-202607011318"
    assert DOCKER_TAG.match(tag)


def test_long_branch_is_shortened_keeping_commit_and_time():
    tag = tag_list(state(branch="feature/" + "x" * 300))[0]
    assert len(tag) == 128
    assert tag.endswith("-abc1234-202607011318")
    assert tag.startswith("feature-xxx")


def test_shortening_never_leaves_a_dash_before_the_commit():
    branch = "a" * 105 + "-" * 10 + "b"
    tag = tag_list(state(branch=branch))[0]
    assert "--abc1234" not in tag and DOCKER_TAG.match(tag)


def test_latest_only_for_prd_on_main_or_master():
    assert "latest" in tag_list(state(branch="main"), env="prd")
    assert "latest" in tag_list(state(branch="master"), env="prd")
    assert "latest" not in tag_list(state(branch="main"), env="dev")
    assert "latest" not in tag_list(state(branch="develop"), env="prd")


def test_dirty_tree_is_marked_and_gets_no_latest_or_release_tags():
    tags = tag_list(state(branch="main", dirty=True, version_tag="v1.4.2"), env="prd")
    assert tags == ["main-abc1234-dirty-202607011318"]


def test_release_tag_at_head():
    assert tag_list(state(version_tag="v1.4.2")) == ["main-abc1234-202607011318", "1.4.2", "1.4", "1"]
    assert [a.tag for a in release_tags("v1.5.0-rc.1")] == ["1.5.0-rc.1"]
    assert [a.tag for a in release_tags("1.4.2+build.7")] == ["1.4.2", "1.4", "1"]
    assert [a.tag for a in release_tags("v0.3.1")] == ["0.3.1", "0.3"]
    assert release_tags("release-2024") == []


@pytest.mark.parametrize("version_tag, expected", [
    ("v1.4.2", ["1.4.2", "1.4", "1"]),
    ("v1.5.0-rc.1", ["1.5.0-rc.1"]),
    ("1.4.2", ["1.4.2", "1.4", "1"]),  # a release tag without the v
])
def test_a_release_build_gets_its_release_tags_and_no_branch_commit_time_tag(version_tag, expected):
    """On a tag pipeline the branch is the tag's name: no ``v1.4.2-abc1234-<time>``."""
    assert tag_list(state(branch=version_tag, version_tag=version_tag), env="prd") == expected
    # latest still follows latest_branches (a tag is not main)
    assert tag_list(state(branch=version_tag, version_tag=version_tag), env="prd",
                    latest_branches=(version_tag,)) == [*expected, "latest"]


def test_only_the_release_build_itself_drops_the_branch_commit_time_tag():
    # main's pipeline on the tagged commit, a dirty tree on the tag, another tag than the release
    assert tag_list(state(branch="main", version_tag="v1.4.2"))[0] == "main-abc1234-202607011318"
    assert tag_list(state(branch="v1.4.2", version_tag="v1.4.2", dirty=True)) == ["v1.4.2-abc1234-dirty-202607011318"]
    assert tag_list(state(branch="nightly", version_tag="v1.4.2")) == ["nightly-abc1234-202607011318", "1.4.2", "1.4",
                                                                       "1"]
    assert tag_list(state(branch="release-2024")) == ["release-2024-abc1234-202607011318"]


def test_each_app_uses_its_own_short_length():
    s = state(short="abc1234def5678")
    assert tag_list(s, short_length=7)[0] == "main-abc1234-202607011318"
    assert tag_list(s, short_length=12)[0] == "main-abc1234def56-202607011318"


def test_version_has_no_time_so_a_commit_builds_the_same_binary():
    assert app_version(state(), 7) == "main-abc1234"
    assert app_version(state(dirty=True), 7) == "main-abc1234-dirty"
    assert app_version(state(version_tag="v1.4.2"), 7) == "1.4.2"
    assert app_version(state(version_tag="v1.4.2", dirty=True), 7) == "main-abc1234-dirty"
    assert len(app_version(state(branch="x" * 300), 7)) == 128


@pytest.mark.parametrize("text, name, registry", [
    ("{registry}/common/tools/golang:1.24", "common/tools/golang:1.24", True),
    ("registry.example.com/common/tools/golang:1.24", "registry.example.com/common/tools/golang:1.24", False),
    ("localhost:5000/golang:1.24-debian12", "localhost:5000/golang:1.24-debian12", False),
    ("ghcr.io/acme/golang@sha256:" + "a" * 64, "ghcr.io/acme/golang@sha256:" + "a" * 64, False),
    ("{registry}/x/golang:1.24@sha256:" + "0" * 64, "x/golang:1.24@sha256:" + "0" * 64, True),
    ("golang:1.24", "golang:1.24", False),
])
def test_published_base_references(text, name, registry):
    ref = parse_reference(text, "x")
    assert (ref.name, ref.registry) == (name, registry)
    assert ref.resolve("r.io") == ("r.io/" if registry else "") + name


@pytest.mark.parametrize("text, error", [
    ("{registry}/common/tools/golang", "no tag or digest"),
    ("reg.io/Upper/golang:1", "not a valid image name"),
    ("reg.io/golang:bad tag", "not a valid Docker tag"),
    ("reg.io/golang@sha256:abc", "a digest must be"),
    ("reg.io/{registry}/golang:1", "may only start"),
])
def test_bad_published_base_references(text, error):
    with pytest.raises(BakegenError, match=error):
        parse_reference(text, "x")


def test_registry_pattern_is_the_same_rule_in_python_and_in_the_bake_file():
    # The bake file's validation uses REGISTRY_PATTERN with Go's RE2 (tests/test_buildx.py runs it);
    # it must be the rule check_registry applies.
    rx = re.compile(REGISTRY_PATTERN)
    for good in ("harbor.bdser.cc", "localhost:5000/team/sub", "10.0.0.2:443/a_b/c-d"):
        assert rx.match(good) and check_registry(good, "x")
    for bad in ("", "http://x", "a b", "reg.io/Upper", "-reg.io", "reg.io/", "reg.io//x"):
        assert not rx.match(bad)


def test_repository_and_registry_validation():
    assert check_path("common/tools/golang", "x") == "common/tools/golang"
    for bad in ("Common/tools", "a//b", "a/-b", "a/b/", "dev/My_App", ""):
        with pytest.raises(BakegenError, match="not a valid image name"):
            check_path(bad, "x")
    assert check_registry("harbor.bdser.cc", "x")
    assert check_registry("localhost:5000/team/sub", "x")
    for bad in ("", "http://x", "a b", "reg.io/Upper", "-reg.io", "reg.io/"):
        with pytest.raises(BakegenError, match="not a valid"):
            check_registry(bad, "x")


# Property tests: bounded so the suite stays fast (each runs at most `max_examples` examples).
@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_sanitizes_to_a_valid_tag_part(text):
    part = sanitize(text)
    assert part and re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", part)


@settings(max_examples=300, deadline=None)
@given(branch=st.text(max_size=400), short=st.text(alphabet="0123456789abcdef", min_size=4, max_size=40),
       dirty=st.booleans(), env=st.sampled_from(["dev", "prd"]),
       version_tag=st.one_of(st.none(), st.from_regex(r"v?[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(-[a-z0-9.]{1,20})?", fullmatch=True)))
def test_every_app_tag_obeys_docker_grammar(branch, short, dirty, env, version_tag):
    tags = tag_list(state(branch=branch, short=short, dirty=dirty, version_tag=version_tag), env=env,
                    short_length=len(short))
    assert tags
    for tag in tags:
        assert is_valid_tag(tag), tag
        assert DOCKER_TAG.match(tag), tag
    if version_tag is not None and branch == version_tag and not dirty and release_tags(version_tag):
        assert tags == [a.tag for a in release_tags(version_tag)]  # a release build: its release tags
    else:
        assert short in tags[0] and tags[0].endswith("-202607011318")


@settings(max_examples=100, deadline=None)
@given(version_tag=st.from_regex(r"v?[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(-[a-z0-9.]{1,20})?", fullmatch=True),
       dirty=st.booleans())
def test_a_release_build_tags_only_its_release(version_tag, dirty):
    tags = tag_list(state(branch=version_tag, version_tag=version_tag, dirty=dirty))
    release = [a.tag for a in release_tags(version_tag)]
    if release and not dirty:
        assert tags == release
    else:  # uncommitted changes, or not a version semver reads (0.0.00): the branch's build tag only
        assert len(tags) == 1 and tags[0].endswith("-abc1234-dirty-202607011318" if dirty else "-abc1234-202607011318")
