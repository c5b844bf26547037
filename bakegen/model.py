"""The data bakegen works on, from validated definitions to the targets it renders. No I/O."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Where:
    """A place in a definition file, for error messages and ``bakegen explain``."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, eq=False)
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
    where: dict[str, Where] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True, eq=False)
class Image:
    """One ``image "NAME" { ... }`` block, validated. Which fields matter depends on ``kind``."""

    name: str
    kind: str  # "toolchain", "runtime" or "app"
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
    # toolchain and runtime
    variants: tuple[str, ...] = ()
    base_image: str = "debian:{suite}-slim"
    tag_prefix: str = ""
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
    env: str = ""
    toolchain: str = ""
    toolchain_version: str = ""
    toolchain_variant: str = ""
    runtime: str = ""
    runtime_variant: str = ""
    latest_envs: tuple[str, ...] = ()
    latest_branches: tuple[str, ...] = ()
    short_length: int = 7
    main_package: str = "."
    config_dir: str = ""  # the app's etc/ folder on disk, when the context is present here
    config_files: frozenset[str] = frozenset()
    where: dict[str, Where] = field(default_factory=dict, compare=False, hash=False)

    def at(self, key: str) -> str:
        """Where ``key`` was set, or the block itself, or the folder: for messages."""
        w = self.where.get(key) or self.where.get("image")
        return str(w) if w else self.folder


@dataclass(frozen=True, eq=False)
class Definitions:
    project: Project
    images: tuple[Image, ...]
    checksums_go: dict[str, dict[str, str]] = field(compare=False, hash=False, default_factory=dict)
    checksums_protoc: dict[str, dict[str, str]] = field(compare=False, hash=False, default_factory=dict)


@dataclass(frozen=True)
class Value:
    """A string that reaches the bake file, with where it came from (``bakegen explain``)."""

    text: str
    why: str


@dataclass(frozen=True)
class Tag:
    """``${REGISTRY}/<path>:<tag>``: the registry stays a bake variable in the committed file."""

    path: str
    tag: str
    why: str

    def ref(self, registry: str) -> str:
        return f"{registry}/{self.path}:{self.tag}"


@dataclass(eq=False)
class Target:
    name: str
    image: str
    kind: str
    description: str
    context: str
    dockerfile: str
    platforms: list[str]
    tags: list[Tag] = field(default_factory=list)
    args: dict[str, Value] = field(default_factory=dict)
    labels: dict[str, Value] = field(default_factory=dict)
    contexts: dict[str, str] = field(default_factory=dict)
    pull: bool = False
    provenance: bool = True
    network: str = ""
    extra_hosts: dict[str, str] = field(default_factory=dict)
    cache: Tag | None = None  # the registry cache ref: cache-from it, cache-to it with mode=max


@dataclass(frozen=True)
class Variable:
    name: str
    default: str
    description: str


@dataclass(eq=False)
class BakeFile:
    variables: list[Variable]
    groups: dict[str, list[str]]
    targets: list[Target]
    warnings: list[str] = field(default_factory=list)

    def target(self, name: str) -> Target | None:
        return next((t for t in self.targets if t.name == name), None)
