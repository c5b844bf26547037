"""The data bakegen works on, from validated definitions to the targets it renders. No I/O."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple

Kind = Literal["toolchain", "runtime", "app"]
ChecksumTable = dict[str, dict[str, str]]  # version -> {file key -> sha256}


class Where(NamedTuple):
    """A place in a definition file, for error messages and ``bakegen explain``."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(eq=False, repr=False)
class Project:
    """Settings for every image (``bake/bakegen.hcl``)."""

    registry: str
    authors: str
    source: str
    platforms: tuple[str, ...]
    network: str
    extra_hosts: tuple[tuple[str, str], ...]
    debian_mirror: str
    registry_cache: bool
    file: str = "bake/bakegen.hcl"  # as shown in messages
    where: dict[str, Where] = field(default_factory=dict, compare=False, hash=False)

    def at(self, key: str) -> str:
        w = self.where.get(key)
        return str(w) if w else self.file


@dataclass(eq=False, repr=False)
class Image:
    """One ``image "NAME" { ... }`` block, validated. Which fields matter depends on ``kind``."""

    name: str
    kind: Kind
    folder: str  # the definition's folder, as the bake file names it ("bake/golang-tools")
    repository: str
    description: str
    context: str  # paths as the bake file names them, relative to where bake runs
    dockerfile: str  # relative to context, as bake resolves it
    dockerfile_args: frozenset[str]  # ARGs the Dockerfile declares
    dockerfile_required_args: frozenset[str]  # ... of which these have no default
    platforms: tuple[str, ...]
    pull: bool
    provenance: bool
    network: str
    extra_hosts: tuple[tuple[str, str], ...]
    registry_cache: bool
    folders: tuple[tuple[str, str], ...] = ()  # named build contexts: (name, folder as bake names it)
    # toolchain and runtime
    variants: tuple[str, ...] = ()
    base_image: str = "debian:{suite}-slim"
    tag_prefix: str = ""
    static: bool = False  # runtime: no C library, so it cannot run a cgo binary
    # toolchain
    versions: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    go_download_url: str = ""
    goproxy: str = ""
    gosumdb: str = ""
    protoc_version: str = ""
    protoc_download_url: str = ""
    tools: tuple[str, ...] = ()
    go_checksums: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    protoc_checksums: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    # app
    envs: tuple[str, ...] = ()
    toolchain: str = ""  # an image defined beside it, or a published reference
    toolchain_version: str = ""
    toolchain_variant: str = ""
    runtime: str = ""
    runtime_variant: str = ""
    cgo: bool = False
    config: str = ""  # the config file for an env, relative to the context: "etc/app_{env}.yaml"
    latest_envs: tuple[str, ...] = ()
    latest_branches: tuple[str, ...] = ()
    short_length: int = 7
    main_package: str = "."
    context_files: frozenset[str] = frozenset()  # config files found in the context ("etc/app_dev.yaml")
    context_present: bool = False  # the context folder exists where bakegen runs
    where: dict[str, Where | str] = field(default_factory=dict, compare=False, hash=False)

    def at(self, key: str) -> str:
        """Where ``key`` was set, or the block itself, or the folder: for messages."""
        w = self.where.get(key) or self.where.get("image")
        return str(w) if w else self.folder


@dataclass(eq=False, repr=False)
class Definitions:
    project: Project
    images: tuple[Image, ...]
    checksums_go: ChecksumTable = field(compare=False, hash=False, default_factory=dict)
    checksums_protoc: ChecksumTable = field(compare=False, hash=False, default_factory=dict)
    folder: str = "bake"  # as the bake file names it

    def image(self, name: str) -> Image:
        return next(i for i in self.images if i.name == name)


class Value(NamedTuple):
    """A string that reaches the bake file, with where it came from (``bakegen explain``)."""

    text: str
    why: str


class Tag(NamedTuple):
    """``${REGISTRY}/<path>:<tag>``: the registry stays a bake variable in the committed file."""

    path: str
    tag: str
    why: str

    def ref(self, registry: str) -> str:
        return f"{registry}/{self.path}:{self.tag}"


class Ref(NamedTuple):
    """An image reference in the bake file: ``${REGISTRY}/path:tag`` (``registry=True``) or a
    literal reference (a published base named in full, digest allowed)."""

    text: str  # the reference after the registry ("common/tools/golang:1.24"), or all of it
    registry: bool

    def resolve(self, registry: str) -> str:
        return f"{registry}/{self.text}" if self.registry else self.text


class Context(NamedTuple):
    """A named build context: the FROM name (an image reference) and what satisfies it: the
    result of another target of the same run, or the published image itself."""

    name: Ref
    target: str | None  # "golang-tools": target:golang-tools; None: docker-image://<name>
    why: str
    path: str | None = None  # a folder instead (relative to where bake runs)


@dataclass(eq=False, repr=False)
class Target:
    name: str
    image: str
    kind: Kind
    description: str
    context: str
    dockerfile: str
    platforms: list[str]
    env: str = ""  # apps: the environment this target builds
    tags: list[Tag] = field(default_factory=list)
    args: dict[str, Value] = field(default_factory=dict)
    refs: dict[str, Ref] = field(default_factory=dict)  # args holding an image reference
    labels: dict[str, Value] = field(default_factory=dict)
    contexts: list[Context] = field(default_factory=list)
    pull: bool = False
    provenance: bool = True
    network: str = ""
    extra_hosts: dict[str, str] = field(default_factory=dict)
    cache: Tag | None = None  # the registry cache ref: cache-from it, cache-to it with mode=max


class Variable(NamedTuple):
    name: str
    default: str
    description: str
    pattern: str = ""  # a regular expression the value must match (RE2 and Python alike)
    error_message: str = ""


@dataclass(eq=False, repr=False)
class BakeFile:
    variables: list[Variable]
    groups: dict[str, list[str]]
    targets: list[Target]
    warnings: list[str] = field(default_factory=list)

    def target(self, name: str) -> Target | None:
        return next((t for t in self.targets if t.name == name), None)


class GitState(NamedTuple):
    """What the app's tags depend on: the result of ``gitmeta``, reduced to plain values."""

    branch: str
    commit: str  # full hash
    dirty: bool
    version_tag: str | None  # a semver git tag exactly at the commit (v1.4.2), if any
    timestamp: str  # YYYYmmddHHMM, UTC

    def short(self, length: int) -> str:
        return self.commit[:length]


class Stamp(NamedTuple):
    """When and from which commit an image is built: its ``created`` and ``revision``."""

    commit: str
    epoch: int
    source: str  # where the time came from

    @property
    def created(self) -> str:
        return dt.datetime.fromtimestamp(self.epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class GitMeta(NamedTuple):
    state: GitState
    stamp: Stamp
    sources: dict[str, str]  # field -> where its value came from
    repo: Path | None  # the work tree's top, when there is one
