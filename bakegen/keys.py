"""The content key of a target: one hash of everything that decides the image it builds, so an
image already pushed under the same key need not be built again. Pure.

What goes in, by construction: every attribute of the target as the committed bake file resolves
it, and every key of its definition and of the project settings, except those on the two short
lists below (``NOT_CONTENT``, ``NOT_CONTENT_KEYS``), each with the reason it cannot change the
image's bytes; the Dockerfile's text (for a generated one, the stages its env builds); every file
of the context its build can read (path, mode, content: git's blob id, or the sha256 of what is on
disk where git cannot vouch for it; for an app, what its main package needs, see ``pipeline``);
the files of its named folder contexts; for each base it builds FROM the key of that target, or
the digest of the published image; and a release version, which the binary says. What stays out
is on the lists and every per-commit value (branch, commit, time, revision, created), so two
clones of one commit, on any machine, give the same key, and any change to an input gives another.
A key added to a definition or a target later is content until someone puts it on a list with a
reason (``tests/test_keys.py`` fails on a key that is neither).
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from .model import Image, Project
from .schema import COMMON_KEYS, KIND_KEYS, PROJECT_KEYS
from .tags import MAX_TAG, sanitize

FORMAT = 2
TAG_PREFIX = "key-"  # the key tag, in the image's internal repository: key-<first 40 hex digits of the key>
LABEL = "dev.bakegen.key"  # the label that carries the whole key, checked before an image is reused
INPUTS = "dev.bakegen.inputs"  # an annotation: each part of the key's inputs, hashed (which changed)
LAST_PREFIX = "last-"  # last-<target>-<branch>: the image built last for a target on a branch

# The target attributes (bake's names) that cannot change the image's bytes, and why.
NOT_CONTENT: dict[str, str] = {
    "description": "bake's description of the target (the image's description label is content)",
    "tags": "the image's names, not its content",
    "cache-from": "where layers may come from: a cache holds what the same build steps made",
    "cache-to": "where layers are written",
    "pull": "every base is keyed by its own key or its digest, and built FROM that digest",
    "contexts": "what each resolves to is keyed: a base by its key or digest, a folder by its files",
    "inherits": "what it brings is keyed: the Dockerfile",
    "dockerfile": "its text is keyed",
    "dockerfile-inline": "its text is keyed",
    "context": "its files are keyed",
}
# The definition keys (``bakegen.hcl`` and image.hcl) that cannot change the image's bytes, and why.
NOT_CONTENT_KEYS: dict[str, str] = {
    "registry": "the registry's host: every base is keyed by its own key or digest",
    "repository": "where the image is pushed: its names",
    "registry_cache": "a cache setting",
    "main_branches": "which branches push and get latest",
    "latest_envs": "which images get latest",
    "latest_branches": "which branches give latest",
    "env_branches": "which branches' CI build each env",
    "env": "each env is its own target: its APP_ENV and its Dockerfile stage are keyed",
    "envs": "each env is its own target: its APP_ENV and its Dockerfile stage are keyed",
    "pull": "every base is keyed by its own key or its digest, and built FROM that digest",
}
_ATTRIBUTE = {"env": "envs", "contexts": "folders"}  # definition key -> the field that holds it


class File(NamedTuple):
    path: str  # relative to the context, "/"-separated
    mode: str  # git's: 100644, 100755, 120000
    content: str  # "git:<blob id>" or "sha256:<hex>"


def definition(image: Image, project: Project) -> dict[str, Any]:
    """Every key of ``image``'s definition and of the project settings, as read (defaults
    filled in), but those on ``NOT_CONTENT_KEYS``."""
    keys = {**COMMON_KEYS, **KIND_KEYS[image.kind]}
    out = {f"project.{k}": getattr(project, k) for k in PROJECT_KEYS if k not in NOT_CONTENT_KEYS}
    return out | {k: getattr(image, _ATTRIBUTE.get(k, k)) for k in keys if k not in NOT_CONTENT_KEYS}


def inputs(shape: Mapping[str, Any], *, definition: Mapping[str, Any], dockerfile: str, files: Iterable[File],
           folders: Mapping[str, Iterable[File]], bases: Mapping[str, str], release: str = "") -> dict[str, Any]:
    """What goes into the content key of one target (``bakegen explain`` shows it). ``shape`` is
    its bake JSON with the per-commit args and labels already left out; ``bases`` maps each FROM
    reference a context names to its base's key or published digest."""
    return {
        "format": FORMAT,
        "target": {k: v for k, v in sorted(shape.items()) if k not in NOT_CONTENT},
        "definition": dict(sorted(definition.items())),
        "dockerfile": dockerfile,
        "context": sorted(map(list, files)),
        "folders": {name: sorted(map(list, fs)) for name, fs in sorted(folders.items())},
        "bases": dict(sorted(bases.items())),
        "release": release,
    }


def key(doc: Mapping[str, Any]) -> str:
    """The content key (sha256, hex) of what ``inputs`` gave."""
    return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=True).encode()).hexdigest()


def tag(content_key: str) -> str:
    """The tag that names the image built from ``content_key`` in its internal repository."""
    return TAG_PREFIX + content_key[:40]


def _short(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=True).encode()).hexdigest()[:8]


_NAME = re.compile(r"[^A-Za-z0-9._/:-]")
MAX_FOLDERS = 40  # more folders than this are told apart by their first path component


def components(doc: Mapping[str, Any]) -> dict[str, str]:
    """The parts of a key's inputs, each with a short hash: what a later build compares with to say
    which changed (the target's attributes, the definition, the Dockerfile, each base, the files
    of each folder of the context, each named folder, the release)."""
    out = {"target": _short(doc["target"]), "definition": _short(doc["definition"]),
           "dockerfile": _short(doc["dockerfile"])}
    out |= {f"base:{name}": _short(value) for name, value in doc["bases"].items()}
    depth = None
    while True:
        folders: dict[str, list[Any]] = {}
        for entry in doc["context"]:
            folder = posixpath.dirname(entry[0]) or "."
            folders.setdefault("/".join(folder.split("/")[:depth]), []).append(entry)
        if len(folders) <= MAX_FOLDERS or depth == 1:
            break
        depth = 1
    out |= {f"files:{folder}": _short(files) for folder, files in folders.items()}
    out |= {f"folder:{name}": _short(files) for name, files in doc["folders"].items()}
    if doc["release"]:
        out["release"] = _short(doc["release"])
    return {_NAME.sub("_", k): v for k, v in sorted(out.items())}


def encode(parts: Mapping[str, str]) -> str:
    """``components`` as an annotation's value: ``name=hash;...``."""
    return ";".join(f"{k}={v}" for k, v in parts.items())


def changed(before: str, now: Mapping[str, str]) -> list[str]:
    """The parts whose hash differs between an annotation written by an earlier build and now
    (added and removed ones included), in a reader's words: "the Dockerfile", "the files of cmd/x"."""
    old = dict(part.partition("=")[::2] for part in before.split(";") if "=" in part)
    names = sorted(k for k in {*old, *now} if old.get(k) != now.get(k))
    words = {"target": "the target's attributes", "definition": "its definition", "dockerfile": "the Dockerfile",
             "release": "the release", "files:.": "the files at the top of the context"}
    return [words.get(n) or n.replace("files:", "the files of ", 1).replace("base:", "the base ", 1)
            .replace("folder:", "the folder ", 1) for n in names]


def last_tag(target: str, branch: str) -> str:
    """``last-<target>-<branch>``: a tag in the internal repository on the image built last for
    ``target`` on ``branch`` (what its next build compares its inputs with)."""
    return sanitize(f"{LAST_PREFIX}{target}-{branch}")[:MAX_TAG].rstrip(".-")
