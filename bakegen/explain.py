"""``bakegen explain``: where each tag, arg, label and context of a target comes from. Pure."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .keys import LABEL, NOT_CONTENT, NOT_CONTENT_KEYS
from .keys import tag as key_tag
from .model import Definitions, Target, Value


def _values(title: str, committed: dict[str, Value], extra: dict[str, Value]) -> list[str]:
    merged = {**committed, **extra}
    out = [f"{title}:"]
    for key in sorted(merged):
        where = "per build (bakegen meta)" if key in extra else "committed file"
        out.append(f"  {key} = {merged[key].text!r}\n      <- {merged[key].why} [{where}]")
    return out


def explain(t: Target, per_build: Target | None, note: str | None, defs: Definitions, registry: str) -> str:
    image = defs.image(t.image)
    out = [f"target {t.name}: {t.kind} image {image.name!r} defined at {image.at('image')}"]
    if note:
        out.append(f"  ({note})")
    tags = per_build.tags if per_build and per_build.tags else t.tags
    out.append("tags:" if tags else "tags: none")
    out += [f"  {tag.resolve(registry)}\n      <- {tag.why}" for tag in tags]
    whys = {c.name: c.why for c in t.contexts}
    refs = {k: Value(r.resolve(registry), whys.get(r, "a published image")) for k, r in t.refs.items()}
    out += _values("args", {**t.args, **refs}, per_build.args if per_build else {})
    out += _values("labels", t.labels, per_build.labels if per_build else {})
    if t.contexts:
        out.append("contexts:")
        for c in sorted(t.contexts, key=lambda c: c.name.name):
            what = (f"target:{c.target}" if c.target else c.path if c.path is not None
                    else f"docker-image://{c.name.resolve(registry)}")
            out.append(f"  {c.name.resolve(registry)} = {what}\n      <- {c.why}")
    out.append(f"platforms: {', '.join(t.platforms)}")
    return "\n".join(out) + "\n"


def _sha(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _shown(path: str) -> str:
    """A path for a terminal: a byte that is not UTF-8 (kept by surrogateescape) as \\xNN."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def content_key(t: Target, key: str | None, doc: dict[str, Any] | None, unknown: str | None, scope: str = "") -> str:
    """The content key of ``t`` and what went into it (``bakegen/keys.py``)."""
    if key is None or doc is None:
        return f"content key: none, so bakegen bake always builds it ({unknown or 'unknown inputs'})\n"
    out = [f"content key: {key}",
           f"  tag {key_tag(key)} (in the internal repository) and label {LABEL}: bakegen bake reuses a pushed "
           "image that has them",
           f"  target: {', '.join(doc['target'])} (sha256 {_sha(doc['target'])}; left out, as they cannot change "
           f"the image: {', '.join(NOT_CONTENT)}, and per-commit values)",
           f"  definition: {len(doc['definition'])} keys (sha256 {_sha(doc['definition'])}; left out: "
           f"{', '.join(k for k in NOT_CONTENT_KEYS if k != 'env')})",
           f"  Dockerfile: {'generated from the definition, the stages of ' + t.stage if t.inherits else t.dockerfile} "
           f"(sha256 {_sha(doc['dockerfile'])})"]
    for title, files in [(f"context {t.context}" + (f": {scope}" if scope else ""), doc["context"]),
                         *((f"folder {name}", fs) for name, fs in doc["folders"].items())]:
        out.append(f"  {title}: {len(files)} file{'s' if len(files) != 1 else ''}")
        out += [f"    {_shown(path)} {mode} {content[:16]}" for path, mode, content in files]
    links = {c.name.name: f"target {c.target}'s key" if c.target else "its digest" for c in t.contexts}
    out += [f"  base {name} ({links.get(name, 'its key')}): {value}" for name, value in doc["bases"].items()]
    if doc["release"]:
        out.append(f"  release: {doc['release']} (the binary reports it)")
    return "\n".join(out) + "\n"
