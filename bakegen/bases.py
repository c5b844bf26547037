"""The base images' targets: the Go toolchain (one per Go version and Debian variant) and the
runtimes (one per variant). Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import BakegenError, did_you_mean
from .model import Definitions, Image, Ref, Runtime, Target, Toolchain, Value
from .platforms import ARCHES, BUILD_MACHINES, Suite, cgo_platforms, go_archive, protoc_archive, suite
from .schema import fill
from .tags import check_path, check_tag, runtime_tag, variant_suffix
from .targets import describe, mirror, new_target, set_args, set_cache
from .versions import ALIAS_KINDS, GoVersion, version_tags

# module/path/cmd@vX.Y.Z[-pre][+build]: an exact version, never a branch, query or latest.
_TOOL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~/-]*@v\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")


@dataclass(frozen=True)
class Made:
    """A planned base target with the version and variant it was made for."""

    target: Target
    version: GoVersion | None
    suite: Suite
    static: bool = False  # a runtime without a C library
    cgo: bool = True  # a toolchain with a C compiler: cgo apps may build FROM it

    @property
    def ref(self) -> Ref:
        """The reference an app's FROM names it by: its first (most specific) tag."""
        return self.target.tags[0]._replace(why="")


def variants(image: Toolchain | Runtime) -> list[Suite]:
    if not image.variants:
        raise BakegenError(f'image "{image.name}": variants must not be empty', image.at("variants"))
    out = []
    for name in image.variants:
        try:
            s = suite(name)
        except BakegenError as e:
            raise BakegenError(e.message, image.at("variants")) from None
        for p in image.platforms:
            if ARCHES[p].dpkg not in s.dpkg_arches:
                raise BakegenError(f"Debian {s.name} has no {ARCHES[p].dpkg} port for platform {p}",
                                   image.at("platforms"))
        out.append(s)
    if len({s.name for s in out}) != len(out):
        raise BakegenError(f'image "{image.name}": a variant is listed twice', image.at("variants"))
    return out


def _base_image(image: Toolchain | Runtime, s: Suite) -> Value:
    return Value(fill(image.base_image, "base_image", image.at("base_image"), suite=s.name),
                 f"base_image with suite {s.name} ({image.at('base_image')})")


# ---------------------------------------------------------------- toolchain
def _versions(image: Toolchain, defs: Definitions) -> list[GoVersion]:
    where = image.at("versions")
    if not image.versions:
        raise BakegenError(f'image "{image.name}": versions must not be empty', where)
    known = [GoVersion.parse(v) for v in defs.checksums_go]
    versions = []
    for text in image.versions:
        try:
            versions.append(GoVersion.parse(text).resolve(known))
        except BakegenError as e:
            raise BakegenError(e.message, where) from None
    if len({v.go for v in versions}) != len(versions):
        raise BakegenError(f'image "{image.name}": a Go version is listed twice', where)
    return sorted(versions, key=lambda v: v.key)


def _check_toolchain(image: Toolchain) -> None:
    bad = [a for a in image.aliases if a not in ALIAS_KINDS]
    if bad:
        raise BakegenError(f'alias "{bad[0]}" must be one of {", ".join(ALIAS_KINDS)}'
                           f"{did_you_mean(bad[0], ALIAS_KINDS)}", image.at("aliases"))
    for tool in image.tools:
        if not _TOOL.match(tool) or tool.endswith("@latest"):
            raise BakegenError(f'tool "{tool}" must be pinned to an exact module version (module/cmd@v1.2.3)',
                               image.at("tools"))
    for key, arg, value in (("tools", "GO_TOOLS", image.tools), ("protoc_version", "PROTOC_VERSION",
                                                                   image.protoc_version)):
        if value and arg not in image.dockerfile_args:
            raise BakegenError(f"{key} is set, but {image.context}/{image.dockerfile} declares no ARG {arg}: the image "
                               f'would be built without what it names; remove {key} from "{image.name}", or set it '
                               "on a toolchain whose Dockerfile installs it (golang-tools)", image.at(key))


def go_files(image: Toolchain, defs: Definitions, v: GoVersion) -> str:
    """``PLATFORM=FILE@SHA256 ...``: the verified Go release file of every target platform, and of
    the usual build machines (their Go cross-compiles the tools)."""
    table = defs.checksums_go.get(v.go, {})
    for p in image.platforms:
        file = ARCHES[p].go_file
        if file not in table:
            what = "source tarball (no binary release for this platform)" if file == "src" else f"{file} tarball"
            raise BakegenError(f"Go {v.go}: no known sha256 for the {what} (platform {p}); run `bakegen lock`, "
                               f'or add it to go_checksums as {{ "{v.go}" = {{ "{file}" = "<sha256>" }} }}',
                               image.at("versions"))
    platforms = {*image.platforms, *(p for p in BUILD_MACHINES if ARCHES[p].go_file in table)}
    return " ".join(f"{p}={go_archive(v.go, ARCHES[p].go_file)}@{table[ARCHES[p].go_file]}" for p in sorted(platforms))


def protoc_files(image: Toolchain, defs: Definitions) -> str:
    if not image.protoc_version:
        return ""
    table = defs.checksums_protoc.get(image.protoc_version, {})
    pairs = {}
    for p in image.platforms:
        arch = ARCHES[p]
        if arch.protoc_file is None:
            raise BakegenError(f"protoc publishes no release for platform {p}; remove the platform or "
                               'set protoc_version = ""', image.at("platforms"))
        if arch.protoc_file not in table:
            raise BakegenError(f"protoc {image.protoc_version}: no known sha256 for {arch.protoc_file} (platform {p}); "
                               f"run `bakegen lock`, or add it to protoc_checksums as "
                               f'{{ "{image.protoc_version}" = {{ "{arch.protoc_file}" = "<sha256>" }} }}',
                               image.at("protoc_version"))
        pairs[p] = f"{protoc_archive(image.protoc_version, arch.protoc_file)}@{table[arch.protoc_file]}"
    return " ".join(f"{p}={pairs[p]}" for p in sorted(pairs))


def _toolchain_args(image: Toolchain, defs: Definitions, v: GoVersion, s: Suite) -> dict[str, Value]:
    at = image.at
    values = {
        "BASE_IMAGE": _base_image(image, s),
        "DEBIAN_MIRROR": mirror(defs),
        "GOLANG_VERSION": Value(v.go, f"versions ({at('versions')}), in Go's spelling"),
        "GOLANG_DOWNLOAD_URL": Value(image.go_download_url, f"go_download_url ({at('go_download_url')})"),
        "GOLANG_FILES": Value(go_files(image, defs, v), "the Go release file of each platform and its "
                              "published sha256 (bakegen/data/go-sha256.json, bake/bakegen-lock.json, go_checksums)"),
        "GOPROXY": Value(image.goproxy, f"goproxy ({at('goproxy')})"),
        "GOSUMDB": Value(image.gosumdb, f"gosumdb ({at('gosumdb')})"),
        "GO_TOOLS": Value(" ".join(sorted(image.tools)), f"tools ({at('tools')})"),
        "CGO_PLATFORMS": Value(cgo_platforms(image.platforms), f"platforms ({at('platforms')}): the dpkg "
                               "architecture and GNU triplet of each (bakegen/platforms.py), for cgo apps"),
        "PROTOC_VERSION": Value(image.protoc_version, f"protoc_version ({at('protoc_version')})"),
    }
    if image.protoc_version:
        values["PROTOC_DOWNLOAD_URL"] = Value(image.protoc_download_url,
                                              f"protoc_download_url ({at('protoc_download_url')})")
        values["PROTOC_FILES"] = Value(protoc_files(image, defs), "the protoc zip of each platform and its sha256 "
                                       "(bakegen/data/protoc-sha256.json, bake/bakegen-lock.json, protoc_checksums)")
    return values


def toolchain_targets(image: Toolchain, defs: Definitions) -> list[Made]:
    _check_toolchain(image)
    versions = _versions(image, defs)
    suites = variants(image)
    suffixes = [variant_suffix(s.number) for s in suites]
    tags = version_tags(versions, suffixes, tuple(image.aliases))
    single = len(versions) * len(suites) == 1
    rule_at = f"versions at {image.at('versions')}, aliases at {image.at('aliases')}"
    made = []
    for v in versions:
        for s, suffix in zip(suites, suffixes, strict=True):
            name = image.name if single else f"{image.name}-{v.tag.replace('.', '_')}-{suffix}"
            t = new_target(image, defs, name, describe(image, version=v.go, variant=suffix), v.go)
            t.tags = [Ref(image.repository, check_tag(a.tag, image.at("versions")), why=f"{a.rule} ({rule_at})")
                      for a in tags[(v, suffix)]]
            set_args(image, t, _toolchain_args(image, defs, v, s))
            set_cache(image, t, image.repository, "" if single else f"{v.tag}-{suffix}")
            made.append(Made(t, v, s, cgo=image.cgo))
    return made


# ---------------------------------------------------------------- runtime
def runtime_targets(image: Runtime, defs: Definitions) -> list[Made]:
    made = []
    suites = variants(image)
    for s in suites:
        suffix = variant_suffix(s.number)
        tag = runtime_tag(image.tag_prefix, suffix, image.at("tag_prefix"))
        name = image.name if len(suites) == 1 else f"{image.name}-{suffix}"
        t = new_target(image, defs, name, describe(image, variant=suffix), tag)
        why = f"variant {s.name} ({image.at('variants')})" + (
            f" with tag_prefix {image.tag_prefix!r}" if image.tag_prefix else "")
        t.tags = [Ref(image.repository, tag, why=why)]
        set_args(image, t, {"BASE_IMAGE": _base_image(image, s), "DEBIAN_MIRROR": mirror(defs)})
        set_cache(image, t, image.repository, tag)
        made.append(Made(t, None, s, image.static))
    return made


def base_targets(image: Image, defs: Definitions) -> list[Made]:
    check_path(image.repository, image.at("repository"))
    if isinstance(image, Toolchain):
        return toolchain_targets(image, defs)
    assert isinstance(image, Runtime)
    return runtime_targets(image, defs)
