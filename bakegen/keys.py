"""The content key of a target: one hash of everything that decides the image it builds, so an
image already pushed under the same key need not be built again. Pure.

What goes in: the target as the committed bake file resolves it (platforms, args, labels, build
target, network, hosts, attestations), the Dockerfile's text, every file of the context the build
sees (path, mode, content: git's blob id, or the sha256 of what is on disk where git cannot vouch
for it), the files of its named folder contexts, and for each base it builds FROM the key of that
target, or the digest of the published image. What stays out: the tags (names, not content), the
description, caches and outputs, and every per-commit value (branch, commit, time, revision,
created), except a release version, which the binary says. Two clones of one commit, on any
machine, give the same key; any change to an input gives another.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

FORMAT = 1
TAG_PREFIX = "bakegen-"  # the key tag: <repository>:bakegen-<first 40 hex digits of the key>
LABEL = "dev.bakegen.key"  # the label that carries the whole key, checked before an image is reused
# What a target's shape holds that does not change the image.
NOT_CONTENT = frozenset({"description", "tags", "cache-from", "cache-to", "output", "pull", "contexts", "inherits",
                         "dockerfile", "dockerfile-inline", "context"})


class File(NamedTuple):
    path: str  # relative to the context, "/"-separated
    mode: str  # git's: 100644, 100755, 120000
    content: str  # "git:<blob id>" or "sha256:<hex>"


def inputs(shape: Mapping[str, Any], *, dockerfile: str, files: Iterable[File],
           folders: Mapping[str, Iterable[File]], bases: Mapping[str, str], release: str = "") -> dict[str, Any]:
    """What goes into the content key of one target (``bakegen explain`` shows it). ``shape`` is
    its bake JSON with the per-commit args and labels already left out; ``bases`` maps each FROM
    reference a context names to its base's key or published digest."""
    return {
        "format": FORMAT,
        "target": {k: v for k, v in sorted(shape.items()) if k not in NOT_CONTENT},
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
    """The tag that names the image built from ``content_key`` in its repository."""
    return TAG_PREFIX + content_key[:40]
