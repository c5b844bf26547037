"""The per-build bake file (``bakegen meta``), passed to bake after the committed one. Pure.

Every target gets ``created`` and ``revision`` labels and the ``SOURCE_DATE_EPOCH`` build arg from
its stamp (see ``gitmeta``): a base image's stamp is the last commit that changed its definition,
so rebuilding it unchanged gives the same digest. An app also gets its tags (branch-commit-time,
release tags, ``latest``), its version label and the git build args; nothing in them comes from
the clock, so an unchanged app is not rebuilt.
"""

from __future__ import annotations

from collections.abc import Mapping

from .apps import app_repository
from .keys import LABEL
from .keys import tag as key_tag
from .model import App, BakeFile, Definitions, GitMeta, Ref, Stamp, Target, Value
from .plan import check_unique
from .tags import app_tags, app_version, check_tag
from .targets import OCI


def _labels(stamp: Stamp, origin: str) -> dict[str, Value]:
    return {
        OCI + "created": Value(stamp.created, f"{origin}: time from {stamp.source}"),
        OCI + "revision": Value(stamp.commit, f"{origin}: commit {stamp.commit[:12]}"),
    }


def _app(t: Target, mt: Target, defs: Definitions, git: GitMeta, deps: tuple[str, ...]) -> None:
    image = defs.image(t.image)
    assert isinstance(image, App)
    s = git.state
    origin = (f"; branch from {git.sources['branch']}, commit from {git.sources['commit']}, "
              f"time from {git.sources['time']}")
    aliases = app_tags(s, image.short_length, t.env, image.latest_envs, image.latest_branches)
    path = app_repository(image, t.env)
    mt.tags = [Ref(path, check_tag(a.tag, "git"), why=a.rule + origin) for a in aliases]
    version = app_version(s, image.short_length)
    mt.labels[OCI + "version"] = Value(version, "the release tag at the commit, else branch and commit")
    values = {
        "GIT_BRANCH": Value(s.branch, f"branch from {git.sources['branch']}"),
        "GIT_COMMIT_ID": Value(s.short(image.short_length),
                               f"commit from {git.sources['commit']}, {image.short_length} characters"),
        "VERSION": Value(version, "the release tag at the commit, else branch and commit (no time)"),
        "GO_DEPS": Value(" ".join(deps), "the packages its source imports from outside its module (compiled in a layer "
                         "of their own)"),
    }
    mt.args.update({k: v for k, v in values.items() if k in image.dockerfile_args and (v.text or k != "GO_DEPS")})


def plan_meta(defs: Definitions, bake: BakeFile, git: GitMeta, stamps: dict[str, Stamp], *,
              keys: Mapping[str, str | None] | None = None,
              deps: Mapping[str, tuple[str, ...]] | None = None) -> BakeFile:
    """The per-build file for every target of ``bake``. ``stamps`` has the stamp of each base
    image (by image name); apps use the build's own. A target with a content key (``keys``) also
    gets its key tag and label, so a later build with the same inputs can reuse its image."""
    targets = []
    for t in bake.targets:
        stamp = git.stamp if t.kind == "app" else stamps.get(t.image, git.stamp)
        origin = "the build's commit" if t.kind == "app" else f"the last change to {defs.image(t.image).folder}"
        mt = Target(name=t.name, image=t.image, kind=t.kind, env=t.env, labels=_labels(stamp, origin))
        mt.args["SOURCE_DATE_EPOCH"] = Value(str(stamp.epoch), f"{origin}: time from {stamp.source}")
        if t.kind == "app":
            _app(t, mt, defs, git, (deps or {}).get(t.image, ()))
        content_key = (keys or {}).get(t.name)
        if content_key:
            mt.tags = [*(mt.tags or t.tags), Ref(mt.tags[0].path if mt.tags else t.tags[0].path, key_tag(content_key),
                                                 why="its content key: a build with the same inputs reuses this image")]
            mt.labels[LABEL] = Value(content_key, "the content key of its inputs (bakegen explain shows them)")
        mt.labels = dict(sorted(mt.labels.items()))
        mt.args = dict(sorted(mt.args.items()))
        targets.append(mt)
    check_unique((t.name, tag.name) for t in [*bake.targets, *targets] for tag in t.tags)
    return BakeFile([], {}, targets, [])

