"""``bakegen explain``: where each tag, arg, label and context of a target comes from. Pure."""

from __future__ import annotations

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
            what = f"target:{c.target}" if c.target else f"docker-image://{c.name.resolve(registry)}"
            out.append(f"  {c.name.resolve(registry)} = {what}\n      <- {c.why}")
    out.append(f"platforms: {', '.join(t.platforms)}")
    return "\n".join(out) + "\n"
