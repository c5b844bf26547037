"""Pieces every planned target shares: its labels, its build args (only those its Dockerfile
declares), its registry cache and its description. Pure."""

from __future__ import annotations

from .errors import BakegenError
from .model import Context, Definitions, Image, Ref, Target, Value
from .schema import fill
from .tags import cache_tag, internal_repository

OCI = "org.opencontainers.image."
# Set by `bakegen meta` for each build; the committed file leaves them to the Dockerfile.
PER_BUILD_ARGS = frozenset({"GIT_BRANCH", "GIT_COMMIT_ID", "VERSION", "GO_DEPS"})
# BuildKit reads this build arg itself (image timestamps); a Dockerfile need not declare it.
BUILDKIT_ARGS = frozenset({"SOURCE_DATE_EPOCH"})


def describe(image: Image, **fields: str) -> str:
    """The image's description with its ``{field}``s filled in."""
    return fill(image.description, "description", image.at("description"), **fields)


def new_target(image: Image, defs: Definitions, name: str, description: str, version: str | None) -> Target:
    """A target for ``image`` with the labels every image gets."""
    project = defs.project
    labels = {
        OCI + "title": Value(image.name, f"image name ({image.at('image')})"),
        OCI + "description": Value(description, f"description ({image.at('description')})"),
    }
    if project.source:
        labels[OCI + "source"] = Value(project.source, f"source ({project.at('source')})")
    if project.authors:
        labels[OCI + "authors"] = Value(project.authors, f"authors ({project.at('authors')})")
    if version is not None:
        labels[OCI + "version"] = Value(version, "the image's version tag")
    contexts = [Context(Ref(n, registry=False), None, f"contexts ({image.at('contexts')}): a folder", path)
                for n, path in image.folders]
    return Target(
        name=name, image=image.name, kind=image.kind, description=description,
        context=image.context, dockerfile=image.dockerfile, platforms=list(image.platforms),
        labels=labels, contexts=contexts, pull=image.pull, provenance=image.provenance,
        compression=image.compression, network=image.network,
        extra_hosts=dict(image.extra_hosts),
    )


def set_args(image: Image, target: Target, values: dict[str, Value], refs: dict[str, Ref] | None = None) -> None:
    """Pass what the Dockerfile declares; an ARG it requires and bakegen does not set is an error."""
    refs = refs or {}
    missing = sorted(image.dockerfile_required_args - set(values) - set(refs) - PER_BUILD_ARGS)
    if missing:
        raise BakegenError(f"{image.context}/{image.dockerfile}: ARG {missing[0]} has no default and "
                           "bakegen does not set it; give it a default", image.at("dockerfile"))
    target.args = {k: v for k, v in sorted(values.items()) if k in image.dockerfile_args}
    target.refs = {k: v for k, v in sorted(refs.items()) if k in image.dockerfile_args}


def set_cache(image: Image, target: Target, path: str, suffix: str) -> None:
    if image.registry_cache:
        tag = cache_tag(suffix, image.at("registry_cache"))
        target.cache = Ref(internal_repository(path), tag,
                           why=f"registry_cache ({image.at('registry_cache')}): a cache beside the image")


def mirror(defs: Definitions) -> Value:
    where = defs.project.where.get("debian_mirror", "default")
    return Value(defs.project.debian_mirror, f"debian_mirror ({where})")
