"""The data bakegen works on, from validated definitions to the targets it renders. No I/O, and
no defaults: every value a definition may leave out is given by ``schema``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, NamedTuple

Kind = Literal["toolchain", "runtime", "app"]
ChecksumTable = dict[str, dict[str, str]]  # version -> {file key -> sha256}
Pairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True, kw_only=True)
class Project:
    """Settings for every image (``bake/bakegen.hcl``)."""

    registry: str
    authors: str
    source: str
    platforms: tuple[str, ...]
    network: str
    extra_hosts: Pairs
    debian_mirror: str
    registry_cache: bool
    main_branches: tuple[str, ...]
    file: str  # as shown in messages
    where: dict[str, str] = field(compare=False)

    def at(self, key: str) -> str:
        return self.where.get(key, self.file)


@dataclass(frozen=True, kw_only=True)
class Image:
    """What every ``image "NAME" { ... }`` block says; each kind adds its own keys below."""

    kind: ClassVar[Kind]
    name: str
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
    compression: str  # of the pushed layers: schema.COMPRESSIONS
    network: str
    extra_hosts: Pairs
    registry_cache: bool
    folders: Pairs  # named build contexts: (name, folder as bake names it)
    where: dict[str, str] = field(compare=False)  # key -> "file:line" where it was set

    def at(self, key: str) -> str:
        """Where ``key`` was set, or the block itself: for messages."""
        return self.where.get(key) or self.where["image"]


@dataclass(frozen=True, kw_only=True)
class Toolchain(Image):
    kind: ClassVar[Kind] = "toolchain"
    versions: tuple[str, ...]
    variants: tuple[str, ...]
    aliases: tuple[str, ...]
    cgo: bool  # a C compiler is in the image: apps with cgo = true may build FROM it
    base_image: str
    go_download_url: str
    goproxy: str
    gosumdb: str
    protoc_version: str
    protoc_download_url: str
    tools: tuple[str, ...]
    go_checksums: tuple[tuple[str, Pairs], ...]
    protoc_checksums: tuple[tuple[str, Pairs], ...]


@dataclass(frozen=True, kw_only=True)
class Runtime(Image):
    kind: ClassVar[Kind] = "runtime"
    variants: tuple[str, ...]
    base_image: str
    tag_prefix: str
    static: bool  # no C library, so it cannot run a cgo binary


@dataclass(frozen=True, kw_only=True)
class App(Image):
    """An app; ``dockerfile`` is "" when it builds with the Dockerfile bakegen generates."""

    kind: ClassVar[Kind] = "app"
    envs: tuple[str, ...]
    toolchain: str  # an image defined beside it, or a published reference
    toolchain_version: str
    toolchain_variant: str
    runtime: str
    runtime_variant: str
    runtime_static: bool | None  # None: as the runtime's definition or tag says
    cgo: bool
    config: str  # the config file for an env, relative to the context: "etc/app_{env}.yaml"
    config_dir: str  # the folder copied to /app/<config_dir>; "": only the env's config file
    binary: str  # the binary's path in the image: "/app/{app}"
    command: tuple[str, ...] | None  # the binary's arguments; None: -f /app/{config} (none without config)
    expose: tuple[str, ...]
    healthcheck: tuple[str, ...]  # exec form; empty: none
    healthcheck_interval: str
    latest_envs: tuple[str, ...]
    latest_branches: tuple[str, ...]
    env_branches: tuple[tuple[str, tuple[str, ...]], ...]  # env -> the branches (globs) whose CI builds it
    short_length: int
    main_package: str
    context_files: frozenset[str]  # the files found in the context that bakegen checks (configs, go.mod)
    context_present: bool  # the context folder exists where bakegen runs
    go_version: str  # the `go` line of the context's go.mod (the oldest Go that builds it); "": none
    go_version_at: str  # where that line is: "examples/repos/ci-demo-go/go.mod:3"


@dataclass(frozen=True, kw_only=True)
class Definitions:
    project: Project
    images: tuple[Image, ...]
    checksums_go: ChecksumTable = field(compare=False)
    checksums_protoc: ChecksumTable = field(compare=False)
    folder: str  # as the bake file names it ("bake")

    def image(self, name: str) -> Image:
        return next(i for i in self.images if i.name == name)


class Value(NamedTuple):
    """A string that reaches the bake file, with where it came from (``bakegen explain``)."""

    text: str
    why: str


class Ref(NamedTuple):
    """An image reference: ``path:tag`` (or ``path@digest``) below the bake variable ``${REGISTRY}``
    when ``registry`` is true, else a whole published reference in ``path``; ``why`` says where it
    came from (``bakegen explain``)."""

    path: str
    tag: str = ""
    digest: str = ""
    registry: bool = True
    why: str = ""

    @property
    def name(self) -> str:
        """The reference after the registry: ``common/tools/golang:1.24``."""
        name = f"{self.path}:{self.tag}" if self.tag else self.path
        return f"{name}@{self.digest}" if self.digest else name

    def resolve(self, registry: str) -> str:
        return f"{registry}/{self.name}" if self.registry else self.name


class Context(NamedTuple):
    """A named build context: the name a Dockerfile uses (an image reference, or a word for a
    folder) and what satisfies it: the result of another target of the same run (``target``),
    a folder (``path``), or else the published image itself."""

    name: Ref
    target: str | None
    why: str
    path: str | None = None


class EnvStage(NamedTuple):
    """One env's last stage of a generated app Dockerfile: what starts the service there."""

    env: str
    stage: str  # "env-dev": the bake target's `target`
    environment: tuple[tuple[str, str], ...]  # ENV: APP, APP_ENV, APP_CONFIG
    copies: tuple[str, ...]  # context files copied below /app for this env only
    command: tuple[str, ...]  # CMD: the binary's arguments
    healthcheck: tuple[str, ...]  # HEALTHCHECK CMD (exec form); empty: none


class AppDockerfile(NamedTuple):
    """The Dockerfile bakegen generates for an app (``templates/app.Dockerfile.j2``), written into
    the bake file once per app (``dockerfile-inline`` of a target its env targets inherit)."""

    app: str
    binary: str  # its path in the image
    main_package: str  # relative to the context, "./"-less: "." or "cmd/svc"
    cgo: bool
    copies: tuple[str, ...]  # context folders or files copied below /app for every env
    expose: tuple[str, ...]
    healthcheck_interval: str
    envs: tuple[EnvStage, ...]


@dataclass(eq=False, repr=False)
class Target:
    name: str
    image: str
    kind: Kind
    description: str = ""
    context: str = ""
    dockerfile: str = ""
    platforms: list[str] = field(default_factory=list)
    env: str = ""  # apps: the environment this target builds
    tags: list[Ref] = field(default_factory=list)
    args: dict[str, Value] = field(default_factory=dict)
    refs: dict[str, Ref] = field(default_factory=dict)  # args holding an image reference
    labels: dict[str, Value] = field(default_factory=dict)
    contexts: list[Context] = field(default_factory=list)
    pull: bool = False
    provenance: bool = True
    compression: str = "gzip"
    network: str = ""
    extra_hosts: dict[str, str] = field(default_factory=dict)
    cache: Ref | None = None  # the registry cache ref: cache-from it, cache-to it with mode=max
    inherits: str = ""  # the target holding the generated Dockerfile ("_ci-demo-go")
    stage: str = ""  # the Dockerfile stage to build (bake's `target`)
    annotations: list[str] = field(default_factory=list)  # bake's "index:k=v" / "manifest:k=v" (per build)


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
    dockerfiles: dict[str, AppDockerfile] = field(default_factory=dict)  # target name -> generated Dockerfile

    def target(self, name: str) -> Target | None:
        index = self.__dict__.get("_index")
        if index is None or len(index) != len(self.targets):  # built once: every decision looks targets up
            index = self.__dict__["_index"] = {t.name: t for t in self.targets}
        return index.get(name)


class GitState(NamedTuple):
    """What the app's tags depend on: the result of ``gitmeta``, reduced to plain values."""

    branch: str
    commit: str  # full hash
    dirty: bool
    version_tag: str | None  # a semver git tag exactly at the commit (v1.4.2), if any
    timestamp: str  # YYYYmmddHHMM, UTC
    releases: tuple[str, ...] = ()  # every semver tag of the repository: which release is newest

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
    shallow: bool = False  # a shallow clone: history and tags may be missing
    committed: int | None = None  # the commit's committer time
    clock: int = 0  # the time it was read: the time of a build from uncommitted files


class Listing(NamedTuple):
    """The files of a folder as git sees them, relative to it: the tracked ones with their mode
    and blob id (what ``git ls-files -s`` says: the committed content), and the ones whose content
    git cannot vouch for (changed or untracked) or that are gone, for ``loader`` to read."""

    tracked: dict[str, tuple[str, str]]  # path -> (mode, blob id)
    unsure: tuple[str, ...]  # changed since the index, untracked, and ignored files or folders ("bin/")
    deleted: frozenset[str]
    whole: bool = False  # the folder is inside one git lists as a single entry ("bin/"): every file is unsure

    def under(self, prefix: str) -> Listing:
        """The listing of the folder ``prefix`` ("" or "a/b/"), relative to it."""
        if any(u.endswith("/") and prefix.startswith(u) for u in self.unsure):
            return Listing({}, (), frozenset(), whole=True)
        n = len(prefix)
        return Listing({p[n:]: v for p, v in self.tracked.items() if p.startswith(prefix)},
                       tuple(p[n:] for p in self.unsure if p.startswith(prefix) and len(p) > n),
                       frozenset(p[n:] for p in self.deleted if p.startswith(prefix)))


class Answer(NamedTuple):
    """A registry's answer about one image reference, as data: ``found`` (its digest, and the
    config of each platform asked for that it has), ``missing`` (the registry clearly said it has
    no such tag or digest), or ``unsure`` (anything else: an error, a timeout, an answer that is
    not what the API promises). ``why`` says it in a few words, for the line that tells a user
    why a target was built ("HTTP 500 from registry.example.com", "timed out after 5 s")."""

    state: Literal["found", "missing", "unsure"]
    digest: str = ""
    configs: Mapping[str, Mapping[str, Any]] = {}  # platform ("linux/amd64") -> image config
    why: str = ""
    annotations: Mapping[str, str] = {}  # the annotations of the manifest the reference names (an index's)
    platforms: tuple[str, ...] = ()  # an index's platforms ("linux/amd64"); () for a single image manifest
