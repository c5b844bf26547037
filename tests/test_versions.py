import pytest
import semver

from bakegen.errors import BakegenError
from bakegen.versions import GoVersion, version_tags


def as_semver(v: GoVersion) -> semver.Version:
    """The semver package's reading of a Go version: the oracle for bakegen's own order."""
    return semver.Version(v.major, v.minor, v.patch or 0, prerelease=f"{v.pre_kind}.{v.pre_num}" if v.pre_kind else None)


@pytest.mark.parametrize("text, go, semver", [
    ("1.24.2", "1.24.2", "1.24.2"),
    ("go1.24.2", "1.24.2", "1.24.2"),
    ("v1.24.2", "1.24.2", "1.24.2"),
    ("1.25rc1", "1.25rc1", "1.25.0-rc.1"),
    ("go1.25rc1", "1.25rc1", "1.25.0-rc.1"),
    ("1.25.0-rc.1", "1.25rc1", "1.25.0-rc.1"),
    ("v1.25.0-beta.2", "1.25beta2", "1.25.0-beta.2"),
    ("1.27rc3", "1.27rc3", "1.27.0-rc.3"),
    ("1.20.0", "1.20", "1.20.0"),  # before Go 1.21 the first release had no .0
    ("1.21.0", "1.21.0", "1.21.0"),
])
def test_spellings(text, go, semver):
    v = GoVersion.parse(text)
    assert v.go == go
    assert str(as_semver(v)) == semver


@pytest.mark.parametrize("text", ["", "1", "latest", "1.24.2.1", "1.24-rc1", "1.25.1-rc.1", "01.2.3",
                                  "1.24.x", "go 1.24", "1.25rc", "1.25.0-alpha.1", "1.24.2\n"])
def test_invalid_versions_are_clear_errors(text):
    if text == "1.24.2\n":  # surrounding white space is forgiven
        assert GoVersion.parse(text).go == "1.24.2"
        return
    with pytest.raises(BakegenError, match="invalid Go version"):
        GoVersion.parse(text)


def test_ordering_is_semver():
    order = ["1.24.2", "1.24.10", "1.25beta1", "1.25rc1", "1.25rc2", "1.25rc10", "1.25.0", "1.25.1"]
    parsed = [GoVersion.parse(v) for v in reversed(order)]
    assert sorted(parsed, key=as_semver) == sorted(parsed, key=lambda v: v.key)  # the same order
    assert [v.go for v in sorted(parsed, key=as_semver)] == [
        "1.24.2", "1.24.10", "1.25beta1", "1.25rc1", "1.25rc2", "1.25rc10", "1.25.0", "1.25.1"]


def test_partial_version_resolves_to_newest_known_patch():
    known = [GoVersion.parse(v) for v in ["1.24.2", "1.24.13", "1.25.14", "1.27rc3"]]
    assert GoVersion.parse("1.24").resolve(known).go == "1.24.13"
    with pytest.raises(BakegenError, match=r"no checksum for any 1\.27\.x"):
        GoVersion.parse("1.27").resolve(known)  # only a pre-release is known


def tags(versions, suffixes, wanted):
    vs = [GoVersion.parse(v) for v in versions]
    out = version_tags(vs, suffixes, wanted)
    return {(v.go, s): [a.tag for a in aliases] for (v, s), aliases in out.items()}


def test_seed_default_gets_exactly_its_four_tags():
    assert tags(["1.24.2"], ["debian11"], ("minor",)) == {
        ("1.24.2", "debian11"): ["1.24.2", "1.24", "1.24.2-debian11", "1.24-debian11"]}


def test_two_lines_two_variants_like_the_official_images():
    got = tags(["1.23.8", "1.24.2"], ["debian12", "debian11"], ("minor", "major", "latest"))
    assert got[("1.24.2", "debian12")] == [
        "1.24.2", "1.24", "1", "latest", "1.24.2-debian12", "1.24-debian12", "1-debian12", "debian12"]
    assert got[("1.24.2", "debian11")] == ["1.24.2-debian11", "1.24-debian11", "1-debian11", "debian11"]
    assert got[("1.23.8", "debian12")] == ["1.23.8", "1.23", "1.23.8-debian12", "1.23-debian12"]
    assert got[("1.23.8", "debian11")] == ["1.23.8-debian11", "1.23-debian11"]


def test_minor_alias_goes_to_newest_patch_of_each_line():
    got = tags(["1.24.2", "1.24.13"], ["debian12"], ("minor",))
    assert got[("1.24.13", "debian12")] == ["1.24.13", "1.24", "1.24.13-debian12", "1.24-debian12"]
    assert got[("1.24.2", "debian12")] == ["1.24.2", "1.24.2-debian12"]


def test_prerelease_of_a_coming_line_gets_the_rc_alias_and_moves_nothing():
    got = tags(["1.26.7", "1.27rc3"], ["debian13"], ("minor", "major", "latest"))
    assert got[("1.27rc3", "debian13")] == ["1.27rc3", "1.27-rc", "1.27rc3-debian13", "1.27-rc-debian13"]
    assert "latest" in got[("1.26.7", "debian13")] and "1" in got[("1.26.7", "debian13")]


def test_prerelease_of_a_released_line_gets_its_full_tag_alone():
    # the official X.Y-rc directory is renamed X.Y at the line's first release
    got = tags(["1.27.0", "1.27rc3"], ["debian13"], ("minor",))
    assert got[("1.27rc3", "debian13")] == ["1.27rc3", "1.27rc3-debian13"]
    assert got[("1.27.0", "debian13")] == ["1.27.0", "1.27", "1.27.0-debian13", "1.27-debian13"]


def test_rc_alias_goes_to_the_newest_prerelease_and_comes_with_minor():
    got = tags(["1.25beta1", "1.25rc1", "1.25rc2"], ["debian12"], ("minor",))
    assert got[("1.25rc2", "debian12")] == ["1.25rc2", "1.25-rc", "1.25rc2-debian12", "1.25-rc-debian12"]
    assert got[("1.25rc1", "debian12")] == ["1.25rc1", "1.25rc1-debian12"]
    assert got[("1.25beta1", "debian12")] == ["1.25beta1", "1.25beta1-debian12"]
    assert tags(["1.25rc2"], ["debian12"], ())[("1.25rc2", "debian12")] == ["1.25rc2", "1.25rc2-debian12"]


def test_backport_never_moves_latest():
    # 1.24.13 may be released after 1.25.14; latest and the major alias stay on the newest line.
    got = tags(["1.25.14", "1.24.13"], ["debian12"], ("minor", "major", "latest"))
    assert "latest" not in got[("1.24.13", "debian12")]
    assert "1" not in got[("1.24.13", "debian12")]
    assert "1.24" in got[("1.24.13", "debian12")]
    assert "latest" in got[("1.25.14", "debian12")]


def test_only_prereleases_get_no_stable_aliases():
    got = tags(["1.27rc3"], ["debian12"], ("minor", "major", "latest"))
    assert got == {("1.27rc3", "debian12"): ["1.27rc3", "1.27-rc", "1.27rc3-debian12", "1.27-rc-debian12"]}


def test_go_1_20_first_release_is_tagged_1_20_0_but_spelled_1_20_by_go():
    v = GoVersion.parse("1.20.0")
    assert (v.go, v.tag) == ("1.20", "1.20.0")
    got = tags(["1.20.0"], ["debian11"], ("minor",))
    assert got[("1.20", "debian11")] == ["1.20.0", "1.20", "1.20.0-debian11", "1.20-debian11"]


def test_every_alias_names_its_rule():
    vs = [GoVersion.parse("1.24.2")]
    for aliases in version_tags(vs, ["debian11"], ("minor", "latest")).values():
        assert all(a.rule for a in aliases)


@pytest.mark.parametrize("text, go", [
    ("1.24.2", "1.24.2"), ("go1.24.2", "1.24.2"), ("v1.24.99", "1.24.99"), ("go1.24.99", "1.24.99"),
    ("1.20.0", "1.20"), ("1.20", "1.20"), ("go1.20", "1.20"), ("1.25rc1", "1.25rc1"), ("1.25.0-rc.1", "1.25rc1"),
    ("1.21.0", "1.21.0"),
])
def test_release_reads_every_spelling_of_one_release(text, go):
    assert GoVersion.release(text).go == go
    assert not GoVersion.release(text).partial


@pytest.mark.parametrize("text", ["1.21", "1.24", "go1.26"])
def test_a_line_after_go_1_20_is_not_a_release(text):
    with pytest.raises(BakegenError, match=r"names the Go 1\.2[146] line, not one release"):
        GoVersion.release(text)


def test_resolve_reads_go_1_20_spelling_of_a_first_release_among_the_known():
    known = [GoVersion.parse(k) for k in ["1.20", "1.19.5", "1.21"]]  # "1.21" (a line) is no release
    assert GoVersion.parse("1.20").resolve(known).tag == "1.20.0"
    with pytest.raises(BakegenError, match=r"no checksum for any 1\.21\.x"):
        GoVersion.parse("1.21").resolve(known)
