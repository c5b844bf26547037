"""Definitions (+ overrides, + git for the per-build file) -> targets and groups. Pure: no I/O.

``plan`` gives the committed bake file: everything that does not change from build to build.
``plan_meta`` gives the per-build values (the app's tags, revision, created, git args), meant to be
passed to bake after the committed file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import tags as tagrules
from .errors import BakegenError, did_you_mean
from .model import BakeFile, Definitions, Image, Tag, Target, Value, Variable
from .platforms import ARCHES, suite as get_suite
from .versions import ALIAS_KINDS, GoVersion, version_tags

if TYPE_CHECKING:  # gitmeta runs git; the committed file never needs it
    from .gitmeta import GitMeta

# The names an app's Dockerfile uses in FROM; bake maps them to targets with `contexts`.
TOOLCHAIN_CONTEXT = "golang-tools"
RUNTIME_CONTEXT = "golang-runtime"

OCI = "org.opencontainers.image."
RESERVED = ("base", "default")  # groups bakegen always writes
# module/path/cmd@vX.Y.Z[-pre][+build]: the same rule the toolchain Dockerfile enforces.
_TOOL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~/-]*@v\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
# The toolchain Dockerfile downloads and verifies Go on the build machine too (its Go
# cross-compiles the tools), so the checksums of the usual build machines always go along.
BUILD_MACHINE_FILES = ("linux-amd64", "linux-arm64")


@dataclass(frozen=True)
class Overrides:
    """Command-line values that replace definition settings (``--registry`` and friends)."""

    registry: str | None = None
    go_version: str | None = None
    app: str | None = None
    env: str | None = None
    registry_cache: bool | None = None


def apply_overrides(defs: Definitions, ov: Overrides) -> Definitions:
    """The definitions with the command line's values in place; a bad value names its option."""
    project = defs.project
    if ov.registry is not None:
        project = dataclasses.replace(project, registry=tagrules.check_registry(ov.registry, "--registry"))
    if ov.go_version is not None:
        try:
            GoVersion.parse(ov.go_version)
        except BakegenError as e:
            raise BakegenError(e.message, "--go-version") from None
    if ov.registry_cache is not None:
        project = dataclasses.replace(project, registry_cache=ov.registry_cache)
    images = []
    apps = [i for i in defs.images if i.kind == "app"]
    if ov.app is not None and len(apps) != 1:
        raise BakegenError(f"--app needs exactly one app definition, found {len(apps)}")
    for image in defs.images:
        changes = {}
        if ov.go_version is not None and image.kind == "toolchain":
            changes["versions"] = (ov.go_version,)
        if image.kind == "app":
            if ov.app is not None:
                changes["name"] = ov.app
            if ov.env is not None:
                changes["env"] = ov.env
        if ov.registry_cache is not None:
            changes["registry_cache"] = ov.registry_cache
        images.append(dataclasses.replace(image, **changes) if changes else image)
    return dataclasses.replace(defs, project=project, images=tuple(images))


def plan(defs: Definitions, today: dt.date) -> BakeFile:
    """The committed bake file. ``today`` only decides the end-of-life warnings."""
    project = defs.project
    tagrules.check_registry(project.registry, str(project.where.get("registry", "bakegen.hcl")))
    warnings: list[str] = []
    targets: list[Target] = []
    groups: dict[str, list[str]] = {}
    by_image: dict[str, list[tuple[Target, GoVersion | None, str]]] = {}
    suites_used: dict[str, list[str]] = {}

    for image in defs.images:
        if image.kind == "app":
            continue
        tagrules.check_path(image.repository, image.at("repository"))
        made = _toolchain(image, defs) if image.kind == "toolchain" else _runtime(image, defs)
        by_image[image.name] = made
        for target, _, suite_name in made:
            targets.append(target)
            suites_used.setdefault(suite_name, []).append(target.name)
        if len(made) > 1:
            groups[image.name] = sorted(t.name for t, _, _ in made)

    for image in defs.images:
        if image.kind == "app":
            targets.append(_app(image, defs, by_image))

    names = [t.name for t in targets]
    clash = sorted({n for n in names if names.count(n) > 1} | ((set(names) | set(groups)) & set(RESERVED))
                   | (set(names) & set(groups)))
    if clash:
        raise BakegenError(f'two targets or groups would be named "{clash[0]}" (the groups '
                           f'{" and ".join(RESERVED)} are bakegen\'s); rename an image')
    for name, used_by in sorted(suites_used.items()):
        s = get_suite(name)
        if s.end_of_life and s.end_of_life < today:
            warnings.append(f"warning: Debian {s.name} ({s.suffix}) is past its end of life "
                            f"({s.end_of_life.isoformat()}); used by {', '.join(sorted(used_by))}")

    targets.sort(key=lambda t: t.name)
    groups["base"] = sorted(t.name for t in targets if t.kind != "app")
    groups["default"] = sorted(t.name for t in targets)
    variables = [Variable("REGISTRY", project.registry,
                          "Registry host and optional path prefix of every image tag and cache ref")]
    return BakeFile(variables, dict(sorted(groups.items())), targets, warnings)


# ---------------------------------------------------------------- shared pieces
def _base_target(image: Image, defs: Definitions, name: str, description: str, version: str | None) -> Target:
    project = defs.project
    labels = {
        OCI + "title": Value(name, f"target name ({image.at('image')})"),
        OCI + "description": Value(description, f"description ({image.at('description')})"),
    }
    if project.source:
        labels[OCI + "source"] = Value(project.source, f"source ({project.where['source']})")
    if project.authors:
        labels[OCI + "authors"] = Value(project.authors, f"authors ({project.where['authors']})")
    if version is not None:
        labels[OCI + "version"] = Value(version, "the image's version tag")
    return Target(
        name=name, image=image.name, kind=image.kind, description=description,
        context=image.context, dockerfile=image.dockerfile, platforms=list(image.platforms),
        labels=labels, pull=image.pull, provenance=image.provenance, network=image.network,
        extra_hosts=dict(image.extra_hosts),
    )


def _variants(image: Image):
    if not image.variants:
        raise BakegenError(f'image "{image.name}": variants must not be empty', image.at("variants"))
    out = []
    for name in image.variants:
        try:
            s = get_suite(name)
        except BakegenError as e:
            raise BakegenError(e.message, image.at("variants")) from None
        for p in image.platforms:
            if ARCHES[p].dpkg not in s.dpkg_arches:
                raise BakegenError(f'Debian {s.name} has no {ARCHES[p].dpkg} port for platform {p}',
                                   image.at("platforms"))
        out.append(s)
    if len({s.name for s in out}) != len(out):
        raise BakegenError(f'image "{image.name}": a variant is listed twice', image.at("variants"))
    return out


def _args(image: Image, target: Target, values: dict[str, Value]) -> None:
    """Pass what the Dockerfile declares; an ARG it requires and bakegen does not set is an error."""
    missing = sorted(image.dockerfile_required_args - set(values) - _PER_BUILD_ARGS)
    if missing:
        raise BakegenError(f'{image.context}/{image.dockerfile}: ARG {missing[0]} has no default and '
                           "bakegen does not set it; give it a default", image.at("dockerfile"))
    target.args = {k: v for k, v in sorted(values.items()) if k in image.dockerfile_args}


def _cache(image: Image, target: Target, path: str, suffix: str) -> None:
    if image.registry_cache:
        tag = tagrules.check_tag(f"buildcache{('-' + suffix) if suffix else ''}", image.at("registry_cache"))
        target.cache = Tag(path, tag, f"registry_cache ({image.at('registry_cache')}): a cache beside the image")


def _mirror(defs: Definitions) -> Value:
    where = defs.project.where.get("debian_mirror")
    return Value(defs.project.debian_mirror, f"debian_mirror ({where})" if where else "debian_mirror (default)")


def _describe(image: Image, **fields: str) -> str:
    """The image's description with its ``{field}``s filled in."""
    text = image.description
    for name, value in fields.items():
        text = text.replace("{" + name + "}", value)
    return text


def _base_image(image: Image, suite_name: str) -> str:
    return image.base_image.replace("{suite}", suite_name)


# ---------------------------------------------------------------- toolchain
def _toolchain(image: Image, defs: Definitions):
    where_v = image.at("versions")
    if not image.versions:
        raise BakegenError(f'image "{image.name}": versions must not be empty', where_v)
    known = [GoVersion.parse(v) for v in defs.checksums_go]
    versions = []
    for text in image.versions:
        try:
            versions.append(GoVersion.parse(text).resolve(known))
        except BakegenError as e:
            raise BakegenError(e.message, where_v) from None
    if len({v.go for v in versions}) != len(versions):
        raise BakegenError(f'image "{image.name}": a Go version is listed twice', where_v)
    bad = [a for a in image.aliases if a not in ALIAS_KINDS]
    if bad:
        raise BakegenError(f'alias "{bad[0]}" must be one of {", ".join(ALIAS_KINDS)}'
                           f"{did_you_mean(bad[0], ALIAS_KINDS)}", image.at("aliases"))
    for tool in image.tools:
        if not _TOOL.match(tool) or tool.endswith("@latest"):
            raise BakegenError(f'tool "{tool}" must be pinned to an exact module version (module/cmd@v1.2.3)',
                               image.at("tools"))
    suites = _variants(image)
    go_sums = {v.go: _go_checksums(image, defs, v) for v in versions}
    protoc_sums = _protoc_checksums(image, defs)

    tags = version_tags(versions, [s.suffix for s in suites], tuple(image.aliases))
    single = len(versions) * len(suites) == 1
    made = []
    for v in sorted(versions, key=lambda v: v.semver):
        for s in suites:
            name = image.name if single else f"{image.name}-{v.go.replace('.', '_')}-{s.suffix}"
            t = _base_target(image, defs, name, _describe(image, version=v.go, variant=s.suffix), v.go)
            rule_at = f"versions at {image.at('versions')}, aliases at {image.at('aliases')}"
            t.tags = [Tag(image.repository, tagrules.check_tag(a.tag, image.at("versions")), f"{a.rule} ({rule_at})")
                      for a in tags[(v, s.suffix)]]
            src = image.at
            values = {
                "BASE_IMAGE": Value(_base_image(image, s.name), f"base_image with suite {s.name} ({src('base_image')})"),
                "DEBIAN_MIRROR": _mirror(defs),
                "GOLANG_VERSION": Value(v.go, f"versions ({src('versions')}), in Go's spelling"),
                "GOLANG_DOWNLOAD_URL": Value(image.go_download_url, f"go_download_url ({src('go_download_url')})"),
                "GOLANG_SHA256": Value(go_sums[v.go], "published checksums of the Go release files "
                                       "for these platforms (bakegen/data/go-sha256.json, go_checksums)"),
                "GOPROXY": Value(image.goproxy, f"goproxy ({src('goproxy')})"),
                "GOSUMDB": Value(image.gosumdb, f"gosumdb ({src('gosumdb')})"),
                "GO_TOOLS": Value(" ".join(sorted(image.tools)), f"tools ({src('tools')})"),
                "PROTOC_VERSION": Value(image.protoc_version, f"protoc_version ({src('protoc_version')})"),
            }
            if image.protoc_version:
                values["PROTOC_DOWNLOAD_URL"] = Value(image.protoc_download_url,
                                                      f"protoc_download_url ({src('protoc_download_url')})")
                values["PROTOC_SHA256"] = Value(protoc_sums, "published checksums of the protoc zips "
                                                "(bakegen/data/protoc-sha256.json, protoc_checksums)")
            _args(image, t, values)
            _cache(image, t, image.repository, "" if single else f"{v.go}-{s.suffix}")
            made.append((t, v, s.name))
    return made


def _go_checksums(image: Image, defs: Definitions, v: GoVersion) -> str:
    table = defs.checksums_go.get(v.go, {})
    pairs = {}
    for p in image.platforms:
        file = ARCHES[p].go_file
        if file not in table:
            what = "source tarball (no binary release for this platform)" if file == "src" else f"{file} tarball"
            raise BakegenError(f"Go {v.go}: no known sha256 for the {what} (platform {p}); add it to "
                               f'go_checksums as {{ "{v.go}" = {{ "{file}" = "<sha256>" }} }}',
                               image.at("versions"))
        pairs[file] = table[file]
    for file in BUILD_MACHINE_FILES:
        if file in table:
            pairs[file] = table[file]
    return " ".join(f"{k}={pairs[k]}" for k in sorted(pairs))


def _protoc_checksums(image: Image, defs: Definitions) -> str:
    if not image.protoc_version:
        return ""
    table = defs.checksums_protoc.get(image.protoc_version, {})
    pairs = {}
    for p in image.platforms:
        file = ARCHES[p].protoc_file
        if file is None:
            raise BakegenError(f"protoc publishes no release for platform {p}; remove the platform or "
                               'set protoc_version = ""', image.at("platforms"))
        if file not in table:
            raise BakegenError(f"protoc {image.protoc_version}: no known sha256 for {file} (platform {p}); "
                               f'add it to protoc_checksums as {{ "{image.protoc_version}" = {{ "{file}" = "<sha256>" }} }}',
                               image.at("protoc_version"))
        pairs[file] = table[file]
    return " ".join(f"{k}={pairs[k]}" for k in sorted(pairs))


# ---------------------------------------------------------------- runtime
def _runtime(image: Image, defs: Definitions):
    suites = _variants(image)
    made = []
    for s in suites:
        tag = tagrules.check_tag(f"{image.tag_prefix}{s.suffix}", image.at("tag_prefix"))
        name = image.name if len(suites) == 1 else f"{image.name}-{s.suffix}"
        t = _base_target(image, defs, name, _describe(image, variant=s.suffix), tag)
        why = f"variant {s.name} ({image.at('variants')})" + (
            f" with tag_prefix {image.tag_prefix!r}" if image.tag_prefix else "")
        t.tags = [Tag(image.repository, tag, why)]
        _args(image, t, {
            "BASE_IMAGE": Value(_base_image(image, s.name), f"base_image with suite {s.name} ({image.at('base_image')})"),
            "DEBIAN_MIRROR": _mirror(defs),
        })
        _cache(image, t, image.repository, tag)
        made.append((t, None, s.name))
    return made


# ---------------------------------------------------------------- app
# Set by `bakegen meta` at build time; the committed file leaves them to the Dockerfile's defaults.
_PER_BUILD_ARGS = {"GIT_BRANCH", "GIT_COMMIT_ID", "VERSION"}


def app_repository(image: Image) -> str:
    try:
        path = image.repository.format(app=image.name, env=image.env)
    except (KeyError, IndexError, ValueError) as e:
        raise BakegenError(f'repository "{image.repository}": {e}', image.at("repository")) from None
    return tagrules.check_path(path, image.at("repository") if "repository" in image.where else "--app/--env")


def _pick(app: Image, defs: Definitions, by_image, kind: str, key: str, version: str, variant: str) -> Target:
    """The base target an app builds FROM: its image named by ``key`` (or the only one of that
    kind), the variant asked for (or the image's default), the Go version asked for (or the newest
    stable one)."""
    candidates = [i.name for i in defs.images if i.kind == kind]
    name = getattr(app, key) or (candidates[0] if len(candidates) == 1 else "")
    if name not in candidates:
        raise BakegenError(f'app "{app.name}": {key} must name one of the {kind} images '
                           f'({", ".join(candidates) or "none defined"}), got "{name}"'
                           f"{did_you_mean(name, candidates)}", app.at(key))
    base = next(i for i in defs.images if i.name == name)
    variant = variant or base.variants[0]
    made = [m for m in by_image[name] if variant in (m[2], get_suite(m[2]).suffix)]
    if kind == "toolchain":
        if version:
            want = GoVersion.parse(version)
            made = [m for m in made if m[1].go == want.go or (want.partial and m[1].line == want.line)]
        else:
            made = [m for m in made if not m[1].prerelease] or made
    if not made:
        raise BakegenError(f'app "{app.name}": image "{name}" has no target with variant "{variant}"'
                           + (f' and Go version "{version}"' if version else ""),
                           app.at(f"{key}_variant" if not version else f"{key}_version"))
    return max(made, key=lambda m: m[1].semver if m[1] else 0)[0]


def _app(image: Image, defs: Definitions, by_image) -> Target:
    repository = app_repository(image)
    toolchain = _pick(image, defs, by_image, "toolchain", "toolchain", image.toolchain_version,
                      image.toolchain_variant)
    runtime = _pick(image, defs, by_image, "runtime", "runtime", "", image.runtime_variant)
    for base in (toolchain, runtime):
        outside = sorted(set(image.platforms) - set(base.platforms))
        if outside:
            raise BakegenError(f'app "{image.name}" builds for {outside[0]}, which its base target '
                               f'"{base.name}" does not ({", ".join(base.platforms)}); bake needs the '
                               "app's platforms to be a subset of its bases'", image.at("platforms"))
    if image.config_dir and f"app_{image.env}.yaml" not in image.config_files:
        raise BakegenError(f"{image.config_dir}/app_{image.env}.yaml does not exist: env {image.env!r} needs it "
                           f"(found: {', '.join(sorted(image.config_files)) or 'nothing'})",
                           image.at("env") if "env" in image.where else "--env")
    if image.short_length < 4 or image.short_length > 40:
        raise BakegenError("short_length must be between 4 and 40", image.at("short_length"))
    t = _base_target(image, defs, image.name, _describe(image, app=image.name, env=image.env), None)
    t.contexts = {
        TOOLCHAIN_CONTEXT: f"target:{toolchain.name}",
        RUNTIME_CONTEXT: f"target:{runtime.name}",
    }
    _args(image, t, {
        "APP": Value(image.name, f"app name ({image.at('image')})"),
        "APP_ENV": Value(image.env, f"env ({image.at('env')})" if "env" in image.where else "env (default or --env)"),
        "MAIN_PACKAGE": Value(image.main_package, f"main_package ({image.at('main_package')})"),
    })
    _cache(image, t, repository, "")
    return t


# ---------------------------------------------------------------- per build
def plan_meta(defs: Definitions, bake: BakeFile, git: "GitMeta") -> BakeFile:
    """The per-build file: for every target the ``created`` and ``revision`` labels; for the app
    also its tags (branch-commit-time, release tags, ``latest``), version label and git args."""
    s = git.state
    targets = []
    for t in bake.targets:
        mt = Target(name=t.name, image=t.image, kind=t.kind, description="", context="", dockerfile="",
                    platforms=[])
        mt.labels = {
            OCI + "created": Value(git.created, f"build time from {git.sources['time']}"),
            OCI + "revision": Value(s.commit, f"commit from {git.sources['commit']}"),
        }
        if t.kind == "app":
            image = next(i for i in defs.images if i.name == t.image)
            path = app_repository(image)
            aliases = tagrules.app_tags(s, image.env, image.latest_envs, image.latest_branches)
            origin = (f"; branch from {git.sources['branch']}, commit from {git.sources['commit']}, "
                      f"time from {git.sources['time']}")
            mt.tags = [Tag(path, tagrules.check_tag(a.tag, "git"), a.rule + origin) for a in aliases]
            release = tagrules.release_tags(s.version_tag) if s.version_tag and not s.dirty else []
            version = (release or aliases)[0].tag
            mt.labels[OCI + "version"] = Value(version, "the release tag at HEAD" if release else "the build's main tag")
            # The description may name the env, which `meta --env` can change for this build.
            description = _describe(image, app=image.name, env=image.env)
            mt.labels[OCI + "description"] = Value(description, f"description ({image.at('description')}) for env {image.env!r}")
            values = {
                "APP_ENV": Value(image.env, "env"),
                "GIT_BRANCH": Value(s.branch, f"branch from {git.sources['branch']}"),
                "GIT_COMMIT_ID": Value(s.short, f"commit from {git.sources['commit']}, {len(s.short)} characters"),
                "VERSION": Value(version, "the build's main tag"),
            }
            mt.args = {k: v for k, v in sorted(values.items()) if k in image.dockerfile_args}
        mt.labels = dict(sorted(mt.labels.items()))
        targets.append(mt)
    return BakeFile([], {}, targets, [])
