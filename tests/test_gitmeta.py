"""Branch, commit, tag and time on real repositories made with the git CLI."""

import datetime as dt

import pytest
from conftest import git

from bakegen import gitmeta
from bakegen.errors import BakegenError

NOW = dt.datetime(2026, 7, 1, 23, 18, 59, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def read(repo_path, env=None, **kw):
    return gitmeta.read(repo_path, env or {}, now=NOW, **kw)


def test_branch_and_commit_from_git(repo):
    sha = repo.commit()
    m = read(repo.path)
    assert m.state.branch == "main"
    assert m.state.commit == sha and m.state.short(7) == sha[:7]
    assert not m.state.dirty and m.state.version_tag is None
    assert m.sources["branch"] == "git symbolic-ref HEAD"


COMMITTED = {"GIT_COMMITTER_DATE": "2026-07-01T23:18:59+08:00"}


def test_time_is_the_commit_time_in_utc_and_source_date_epoch_wins(repo):
    repo.commit(env=COMMITTED)
    m = read(repo.path)
    assert m.state.timestamp == "202607011518"  # 23:18 +08:00 is 15:18 UTC
    assert m.stamp.source == "the commit's committer time" and m.stamp.created == "2026-07-01T15:18:59Z"
    m = read(repo.path, {"SOURCE_DATE_EPOCH": "1751412000"})
    assert m.state.timestamp == "202507012320" and m.stamp.created == "2025-07-01T23:20:00Z"
    with pytest.raises(BakegenError, match="SOURCE_DATE_EPOCH"):
        read(repo.path, {"SOURCE_DATE_EPOCH": "yesterday"})


def test_only_a_dirty_tree_uses_the_clock(repo):
    repo.commit("a.txt", env=COMMITTED)
    (repo.path / "a.txt").write_text("changed\n")
    m = read(repo.path)
    assert m.state.dirty and m.stamp.source.startswith("the clock") and m.state.timestamp == "202607011518"
    assert m.stamp.epoch == int(NOW.timestamp())


def test_a_base_image_keeps_the_stamp_of_the_last_change_to_its_definition(repo, tmp_path, monkeypatch):
    first = repo.commit("bake/golang-tools/image.hcl", "a", env={"GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"})
    repo.commit("app/main.go", "b", env={"GIT_COMMITTER_DATE": "2026-02-01T00:00:00Z"})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the repository it is given, not the process's working directory
    m = read(repo.path)
    assert m.stamp.created == "2026-02-01T00:00:00Z"
    base = gitmeta.last_change(m, [repo.path / "bake/golang-tools"], {})
    assert (base.commit, base.created) == (first, "2026-01-01T00:00:00Z")
    assert gitmeta.last_change(m, [repo.path / "not/tracked"], {}) == m.stamp
    dirty = gitmeta.last_change(m, [repo.path / "bake/golang-tools"], {}, dirty=True)
    assert dirty.source == "the clock (uncommitted changes)" and dirty.epoch == int(NOW.timestamp())


def test_a_file_name_that_is_not_utf8_is_listed_as_bytes(repo):
    """Any name git can hold: a byte that is not UTF-8 comes back as surrogateescape gives it,
    the name of the file on disk (os.fsdecode's)."""
    import os

    repo.commit("a.txt")
    name = os.fsdecode(b"caf\xe9.go")
    (repo.path / name).write_text("package main\n")
    git(repo.path, "add", "--", name)
    git(repo.path, "commit", "-qm", "latin-1 name")
    (repo.path / os.fsdecode(b"new\xff.txt")).write_text("untracked\n")
    listed = gitmeta.listing(repo.path)
    assert name in listed.tracked and os.fsdecode(b"new\xff.txt") in listed.unsure
    assert (repo.path / name).is_file()


def test_branch_with_slash_is_kept_raw_for_args(repo):
    repo.git("checkout", "-q", "-b", "feature/Login#12")
    repo.commit()
    assert read(repo.path).state.branch == "feature/Login#12"


@pytest.mark.parametrize("env, branch", [
    ({"GITHUB_HEAD_REF": "feature/pr", "GITHUB_REF_NAME": "17/merge"}, "feature/pr"),
    ({"GITHUB_HEAD_REF": "", "GITHUB_REF_NAME": "main"}, "main"),
    ({"CI_COMMIT_REF_NAME": "release/1.2"}, "release/1.2"),
    ({"DRONE_BRANCH": "develop"}, "develop"),
    ({"BRANCH_NAME": "PR-42"}, "PR-42"),
    ({"GIT_BRANCH": "origin/hotfix"}, "hotfix"),
    ({"GIT_BRANCH": "refs/heads/x"}, "x"),
])
def test_detached_head_takes_the_ci_branch(repo, env, branch):
    repo.commit()
    repo.git("checkout", "-q", "--detach")
    m = read(repo.path, env)
    assert m.state.branch == branch
    assert "HEAD is detached" in m.sources["branch"]


def test_detached_head_without_ci_falls_back(repo):
    repo.commit()
    repo.git("checkout", "-q", "--detach")
    m = read(repo.path)
    assert m.state.branch == "detached"
    assert "no CI branch variable" in m.sources["branch"]


def test_git_branch_wins_over_ci_variables_when_not_detached(repo):
    repo.commit()
    assert read(repo.path, {"GITHUB_REF_NAME": "other"}).state.branch == "main"


def test_overrides_win(repo):
    repo.commit()
    m = read(repo.path, {"CI_COMMIT_REF_NAME": "ci"}, branch="given", commit="feedface" * 5)
    assert m.state.branch == "given" and m.state.short(7) == "feedfac"
    assert m.sources["branch"] == "--branch" and m.sources["commit"] == "--commit"


def test_dirty_tree_is_detected(repo):
    repo.commit("a.txt")
    (repo.path / "a.txt").write_text("changed\n")
    assert read(repo.path).state.dirty
    repo.git("checkout", "a.txt")
    (repo.path / "untracked.txt").write_text("new\n")  # untracked files do not count
    assert not read(repo.path).state.dirty


def test_semver_tag_at_head(repo):
    repo.commit()
    repo.git("tag", "v1.4.2")
    repo.git("tag", "not-a-version")
    assert read(repo.path).state.version_tag == "v1.4.2"
    repo.git("tag", "v1.4.10")
    assert read(repo.path).state.version_tag == "v1.4.10"
    repo.commit(message="after")
    assert read(repo.path).state.version_tag is None


def test_commit_option_keeps_the_release_tags_of_that_commit(repo):
    tagged = repo.commit()
    repo.git("tag", "v2.0.1")
    repo.commit(message="later")
    m = read(repo.path, commit=tagged)
    assert m.state.version_tag == "v2.0.1" and m.state.commit == tagged
    assert read(repo.path, commit=tagged[:10]).state.commit == tagged  # abbreviated: resolved
    assert read(repo.path).state.version_tag is None


def test_not_a_repository(tmp_path):
    with pytest.raises(BakegenError, match=r"not in a git repository.*--branch and --commit"):
        read(tmp_path)
    m = read(tmp_path, branch="b", commit="c0ffee0")
    assert (m.state.branch, m.state.short(7), m.state.dirty) == ("b", "c0ffee0", False)


def test_repository_without_commits(repo):
    with pytest.raises(BakegenError, match=r"has no commits yet.*--branch and --commit"):
        read(repo.path)
    assert read(repo.path, commit="abcdef0123").state.branch == "main"


def test_shallow_clone_in_detached_ci_checkout(repo, tmp_path):
    for i in range(3):
        repo.commit(message=f"c{i}")
    head = repo.git("rev-parse", "HEAD")
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo.path}", str(clone))
    git(clone, "checkout", "-q", "--detach")
    assert git(clone, "rev-parse", "--is-shallow-repository") == "true"
    m = read(clone, {"CI_COMMIT_REF_NAME": "main"})
    assert m.state.commit == head and m.state.branch == "main"


def test_subdirectory_of_a_repository(repo):
    repo.commit("sub/dir/file.txt")
    assert read(repo.path / "sub" / "dir").state.branch == "main"
