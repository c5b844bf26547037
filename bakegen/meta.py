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
from .keys import INPUTS, LABEL, last_tag
from .keys import tag as key_tag
from .model import App, BakeFile, Definitions, GitMeta, GitState, Ref, Stamp, Target, Value
from .plan import check_unique
from .tags import app_tags, app_version, check_tag, internal_repository
from .targets import OCI


def _labels(stamp: Stamp, origin: str) -> dict[str, Value]:
    return {
        OCI + "created": Value(stamp.created, f"{origin}: time from {stamp.source}"),
        OCI + "revision": Value(stamp.commit, f"{origin}: commit {stamp.commit[:12]}"),
    }


def _app(t: Target, mt: Target, defs: Definitions, git: GitMeta, *, s: GitState, stamp: Stamp,
         deps: tuple[str, ...]) -> None:
    image = defs.image(t.image)
    assert isinstance(image, App)
    origin = (f"; branch from {git.sources['branch']}, commit from {git.sources['commit']}, "
              f"time from {stamp.source}")
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


def plan_meta(defs: Definitions, bake: BakeFile, git: GitMeta, builds: Mapping[str, tuple[GitState, Stamp]], *,
              keys: Mapping[str, str | None] | None = None, inputs: Mapping[str, str] | None = None,
              deps: Mapping[str, tuple[str, ...]] | None = None) -> BakeFile:
    """The per-build file for every target of ``bake``. ``builds`` has each target's git state
    and stamp (a base image's: the last change to its definition; a target built from files the
    commit does not hold is dirty); a target without one takes the build's. A target with a
    content key (``keys``) also gets its key tag (in its internal repository) and label, so a
    later build with the same inputs can reuse its image, and ``last-<target>-<branch>`` there
    with its inputs' parts (``inputs``: ``keys.encode``), so a later build can say which changed.
    ``deps``: each app target's GO_DEPS."""
    targets = []
    for t in bake.targets:
        state, stamp = builds.get(t.name, (git.state, git.stamp))
        origin = "the build's commit" if t.kind == "app" else f"the last change to {defs.image(t.image).folder}"
        mt = Target(name=t.name, image=t.image, kind=t.kind, env=t.env, labels=_labels(stamp, origin))
        mt.args["SOURCE_DATE_EPOCH"] = Value(str(stamp.epoch), f"{origin}: time from {stamp.source}")
        if t.kind == "app":
            _app(t, mt, defs, git, s=state, stamp=stamp, deps=(deps or {}).get(t.name, ()))
        content_key = (keys or {}).get(t.name)
        if content_key:
            internal = internal_repository(mt.tags[0].path if mt.tags else t.tags[0].path)
            mt.tags = [*(mt.tags or t.tags),
                       Ref(internal, key_tag(content_key),
                           why="its content key: a build with the same inputs reuses this image"),
                       Ref(internal, last_tag(t.name, git.state.branch),
                           why="the image built last on this branch: the next build says which inputs changed")]
            mt.labels[LABEL] = Value(content_key, "the content key of its inputs (bakegen explain shows them)")
            # ... and on the manifest its key tag names (an index's, for several platforms), where
            # one registry answer shows it: bakegen bake reads it before it reuses the image
            level = "index" if len(t.platforms) > 1 else "manifest"
            mt.annotations = [f"{level}:{LABEL}={content_key}"] + (
                [f"{level}:{INPUTS}={inputs[t.name]}"] if inputs and t.name in inputs else [])
        mt.labels = dict(sorted(mt.labels.items()))
        mt.args = dict(sorted(mt.args.items()))
        targets.append(mt)
    check_unique((t.name, tag.name) for t in [*bake.targets, *targets] for tag in t.tags)
    return BakeFile([], {}, targets, [])

