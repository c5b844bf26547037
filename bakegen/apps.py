"""The apps' targets: one per app and environment, built FROM a toolchain and a runtime that are
either targets of the same run or published images, with the Dockerfile bakegen generates (the
service's contract: its binary, arguments, config folder and healthcheck, from the definition)
or the one the definition names. Pure."""

from __future__ import annotations

import posixpath
import re
from typing import NamedTuple

from .bases import Made
from .errors import BakegenError, did_you_mean
from .model import App, AppDockerfile, Context, Definitions, EnvStage, Image, Ref, Target, Toolchain, Value
from .platforms import ARCHES, Suite, suite
from .schema import fill
from .tags import check_path, is_reference, parse_reference, published_variant, variant_suffix
from .targets import describe, new_target, set_args, set_cache
from .versions import GoVersion

# The build args an app's Dockerfile names its bases by (FROM ${TOOLCHAIN_IMAGE}).
BASE_ARGS = {"toolchain": "TOOLCHAIN_IMAGE", "runtime": "RUNTIME_IMAGE"}
PUBLISHED_EXAMPLE = {"toolchain": "{registry}/common/tools/golang:1.27",
                     "runtime": "{registry}/common/runtime/golang:debian13"}
# Where the base images `bakegen init` writes publish the toolchain and the compile image (Go
# alone, no C compiler): what a published toolchain's reference can say about cgo.
TOOLCHAIN_REPOSITORY = "common/tools/golang"
COMPILE_REPOSITORY = "common/tools/golang-build"
# Paths written into the generated Dockerfile: plain, so no quoting can go wrong.
_PATH = re.compile(r"[A-Za-z0-9._/-]+")
_PORT = re.compile(r"[0-9]{1,5}(/(tcp|udp))?")
_DURATION = re.compile(r"[0-9]+(ms|s|m|h)")


def target_name(image: App, env: str) -> str:
    """``<app>`` for an app with one env, ``<app>-<env>`` for each of several."""
    return image.name if len(image.envs) == 1 else f"{image.name}-{env}"


def app_repository(image: Image, env: str) -> str:
    path = fill(image.repository, "repository", image.at("repository"), app=image.name, env=env)
    return check_path(path, image.at("repository"))


# ---------------------------------------------------------------- the bases
class Base(NamedTuple):
    """What an app knows of one of its bases: how FROM resolves it, the target when it is built in
    the same run, its Debian suite and staticness where the definitions or its tag say, and (a
    toolchain) whether it has a C compiler, where its definition or its repository says."""

    context: Context
    made: Made | None
    suite: Suite | None
    static: bool | None
    cgo: bool | None = None


def _matching(app: App, made: list[Made], kind: str, version: str, variant: str) -> list[Made]:
    base_variant = variant or made[0].suite.name
    found = [m for m in made if base_variant in (m.suite.name, variant_suffix(m.suite.number))]
    if kind == "toolchain":
        if version:
            want = GoVersion.parse(version)
            found = [m for m in found if m.version and (m.version.go == want.go or
                                                        (want.partial and m.version.line == want.line))]
        else:
            found = [m for m in found if m.version and not m.version.prerelease] or found
    if not found:
        key = f"{kind}_version" if version else f"{kind}_variant"
        raise BakegenError(f'app "{app.name}": the {kind} has no target with variant "{base_variant}"'
                           + (f' and Go version "{version}"' if version else ""), app.at(key))
    return found


def _local(app: App, defs: Definitions, by_image: dict[str, list[Made]], kind: str, name: str) -> Made:
    candidates = [i.name for i in defs.images if i.kind == kind]
    name = name or (candidates[0] if len(candidates) == 1 else "")
    if name not in candidates:
        here = ", ".join(candidates) if candidates else "none is defined here"
        raise BakegenError(f'app "{app.name}": {kind} must name a {kind} image defined beside it ({here}) or a '
                           f'published image such as "{PUBLISHED_EXAMPLE[kind]}", got "{name}"'
                           f"{did_you_mean(name, candidates)}", app.at(kind))
    version = app.toolchain_version if kind == "toolchain" else ""
    variant = app.toolchain_variant if kind == "toolchain" else app.runtime_variant
    found = _matching(app, by_image[name], kind, version, variant)
    return max(found, key=lambda m: (m.version.key if m.version else (0,), m.target.name))


def _stated(app: App, key: str, value: object, said: object, what: str) -> None:
    if value is not None and said is not None and value != said:
        raise BakegenError(f'app "{app.name}": {key} says {value}, but the {what} tag says {said}', app.at(key))


def base(app: App, defs: Definitions, by_image: dict[str, list[Made]], kind: str) -> Base:
    """What the app's ``FROM ${TOOLCHAIN_IMAGE}`` (or RUNTIME_IMAGE) resolves to. A published
    base's suite and staticness come from its tag, or from what the definition states
    (``toolchain_variant``, ``runtime_variant``, ``runtime_static``); the two must agree."""
    value = getattr(app, kind)
    if not is_reference(value):
        made = _local(app, defs, by_image, kind, value)
        why = f"{kind} ({app.at(kind)}): target {made.target.name}, built first in the same run"
        return Base(Context(made.ref, made.target.name, why), made, made.suite, made.static, made.cgo)
    ref = parse_reference(value, app.at(kind))
    variant_key = f"{kind}_variant"
    tag_suite, tag_static = published_variant(ref)
    try:
        stated = suite(getattr(app, variant_key)) if getattr(app, variant_key) else None
    except BakegenError as e:
        raise BakegenError(e.message, app.at(variant_key)) from None
    said = suite(tag_suite) if tag_suite else None
    _stated(app, variant_key, stated and stated.name, said and said.name, kind)
    static = tag_static if kind == "runtime" else False
    if kind == "runtime":
        _stated(app, "runtime_static", app.runtime_static, tag_static, kind)
        static = tag_static if tag_static is not None else app.runtime_static
    cgo = False if kind == "toolchain" and _is_compile_image(ref) else None
    return Base(Context(ref, None, f"{kind} ({app.at(kind)}): the published image"), None, said or stated, static,
                cgo)


def _is_compile_image(ref: Ref) -> bool:
    """A published toolchain in the repository of bakegen's compile image, on any registry."""
    return ref.path == COMPILE_REPOSITORY or ref.path.endswith("/" + COMPILE_REPOSITORY)


def _check(app: App, defs: Definitions, toolchain: Base, runtime: Base) -> None:
    if not 4 <= app.short_length <= 40:
        raise BakegenError("short_length must be between 4 and 40", app.at("short_length"))
    for b in (toolchain, runtime):
        outside = sorted(set(app.platforms) - set(b.made.target.platforms)) if b.made else []
        if b.made and outside:
            raise BakegenError(f'app "{app.name}" builds for {outside[0]}, which its base target '
                               f'"{b.made.target.name}" does not ({", ".join(b.made.target.platforms)}); bake '
                               "needs the app's platforms to be a subset of its bases'", app.at("platforms"))
    if app.cgo:
        _check_cgo(app, defs, toolchain, runtime)


def _check_cgo(app: App, defs: Definitions, toolchain: Base, runtime: Base) -> None:
    """A cgo binary is linked on the build machine with the target's C cross compiler, against
    the toolchain suite's C library, which the runtime must have too (same suite or newer)."""
    if toolchain.cgo is False:
        _no_compiler(app, defs, toolchain, runtime)
    name = runtime.made.target.name if runtime.made else runtime.context.name.name
    if runtime.static:
        raise BakegenError(f'app "{app.name}": cgo = true builds a binary that needs a C library, which the '
                           f'static runtime "{name}" has not; use a Debian runtime '
                           '(runtime = "golang-runtime") or set cgo = false', app.at("cgo"))
    for p in app.platforms:
        if ARCHES[p].gnu_triplet is None:
            raise BakegenError(f'app "{app.name}": cgo = true, but Debian has no C cross compiler for {p}; '
                               "remove the platform or set cgo = false", app.at("platforms"))
    for b, key in ((toolchain, "toolchain_variant"), (runtime, "runtime_variant")):
        if b.suite is None or (b is runtime and b.static is None):
            what = f"its Debian suite ({key} = \"bookworm\")" + (
                ' and that it is not static (runtime_static = false)' if b is runtime and b.static is None else "")
            raise BakegenError(f'app "{app.name}": cgo = true needs to know the C library of '
                               f'"{b.context.name.name}", whose tag does not say: state {what}', app.at("cgo"))
    assert toolchain.suite is not None and runtime.suite is not None
    if toolchain.suite.number > runtime.suite.number:
        tname = toolchain.made.target.name if toolchain.made else toolchain.context.name.name
        raise BakegenError(f'app "{app.name}": cgo = true links against Debian {toolchain.suite.name}\'s C library '
                           f'(toolchain "{tname}"), which the runtime "{name}" (Debian {runtime.suite.name}) is '
                           "older than; use the same variant for both (toolchain_variant, runtime_variant)",
                           app.at("cgo"))


def _no_compiler(app: App, defs: Definitions, toolchain: Base, runtime: Base) -> None:
    """The refusal of a cgo app on a toolchain without a C compiler, with the toolchain to use."""
    if toolchain.made:
        image = defs.image(toolchain.made.target.image)
        with_c = [i.name for i in defs.images if isinstance(i, Toolchain) and i.cgo]
        fix = (f'set toolchain = "{with_c[0]}"' if with_c else
               "define a toolchain with a C compiler beside it (golang-tools, as `bakegen init` writes it)")
        raise BakegenError(f'app "{app.name}": cgo = true needs a C compiler, which the toolchain "{image.name}" has '
                           f"not (cgo = false, {image.at('cgo')}): {fix}, or set cgo = false", app.at("cgo"))
    ref = toolchain.context.name
    fix = f"name the toolchain with a C compiler ({TOOLCHAIN_REPOSITORY}) instead"
    if not ref.digest:
        tag = ref.tag if published_variant(ref)[0] or runtime.suite is None else \
            f"{ref.tag}-{variant_suffix(runtime.suite.number)}"
        full = ref._replace(path=ref.path[: -len(COMPILE_REPOSITORY)] + TOOLCHAIN_REPOSITORY, tag=tag)
        fix = f'use toolchain = "{full.resolve("{registry}")}"'
    raise BakegenError(f'app "{app.name}": cgo = true needs a C compiler, which the published toolchain '
                       f'"{app.toolchain}" has not ({COMPILE_REPOSITORY} is the compile image: Go alone): '
                       f"{fix}, or set cgo = false", app.at("cgo"))


# ---------------------------------------------------------------- the Go version
# The Go version a toolchain tag starts with, as bakegen tags toolchains (and the official images):
# 1.27 (the line: any 1.27.x), 1.27.3, 1.27rc3, each maybe followed by a variant (1.27-debian13).
_TAG_GO = re.compile(r"^(?:go)?([0-9]+\.[0-9]+(?:\.[0-9]+)?(?:(?:rc|beta)[0-9]+)?)(?=-|$)")


def older(have: GoVersion, need: GoVersion) -> bool:
    """Whether Go ``have`` is older than the Go a module's ``go`` line ``need`` asks for. A line on
    either side (a ``golang:1.27`` tag is any 1.27.x; ``go 1.27`` is met by 1.27rc1) compares by
    the line."""
    if have.partial or need.partial:
        return (have.major, have.minor) < (need.major, need.minor)
    return have.key < need.key


def _published_go(app: App, ref: Ref) -> GoVersion | None:
    """The Go of a published toolchain: what its tag says, or what ``toolchain_version`` states
    where the tag says none (a digest, ``latest``); the two must agree. None: neither says."""
    m = _TAG_GO.match(ref.tag)
    said = GoVersion.parse(m[1]) if m else None
    try:
        stated = GoVersion.parse(app.toolchain_version) if app.toolchain_version else None
    except BakegenError as e:
        raise BakegenError(e.message, app.at("toolchain_version")) from None
    if said and stated and (said.line != stated.line or not (said.partial or stated.partial or said == stated)):
        raise BakegenError(f'app "{app.name}": toolchain_version says {stated}, but the toolchain tag says {said}',
                           app.at("toolchain_version"))
    return stated if stated and (said is None or said.partial) else said


def _check_go(app: App, defs: Definitions, by_image: dict[str, list[Made]], toolchain: Base) -> None:
    """The toolchain's Go is not older than the module's ``go`` line: the build runs with
    GOTOOLCHAIN=local, so the go command cannot fetch the newer Go the module asks for. A
    published toolchain whose tag says no version (and no toolchain_version) is not checked."""
    made = toolchain.made
    have = made.version if made else _published_go(app, toolchain.context.name)
    if not app.go_version or have is None:
        return
    try:
        need = GoVersion.parse(app.go_version)
    except BakegenError as e:
        raise BakegenError(f"{e.message} (the go line of the module app \"{app.name}\" builds)",
                           app.go_version_at) from None
    if not older(have, need):
        return
    why = (f"older than the go {app.go_version} its module asks for ({app.go_version_at}), and the build cannot "
           "fetch a newer Go (GOTOOLCHAIN=local)")
    if made is None:
        tagged = re.search(r":(?:go)?[0-9]+\.[0-9]+(?:\.[0-9]+)?(?:(?:rc|beta)[0-9]+)?(?=-|$|@)", app.toolchain)
        stated = bool(app.toolchain_version and not tagged)  # the version is toolchain_version's
        fix = (f"name a toolchain of Go {need.line} or newer" if not tagged else
               f'use "{app.toolchain[:tagged.start()]}:{need.line}{app.toolchain[tagged.end():]}" or newer')
        raise BakegenError(f'app "{app.name}": toolchain "{app.toolchain}" is Go {have}'
                           f'{" (toolchain_version)" if stated else ""}, {why}: {fix}',
                           app.at("toolchain_version" if stated else "toolchain"))
    fits = sorted((m.version for m in by_image[made.target.image] if m.version and not older(m.version, need)),
                  key=lambda v: v.key)
    fix = (f'set toolchain_version = "{fits[-1].tag}"' if fits else
           f'add "{need.line}" to the versions of "{made.target.image}" '
           f'({defs.image(made.target.image).at("versions")})')
    raise BakegenError(f'app "{app.name}": its toolchain "{made.target.image}" builds Go {have} (target '
                       f'{made.target.name}), {why}: {fix}',
                       app.at("toolchain_version" if app.toolchain_version else "toolchain"))


def check_packages(apps: list[App]) -> None:
    """No two apps of one context build one package with the Dockerfile bakegen generates: the
    images of the second would hold the first's binary under its own name."""
    seen: dict[tuple[str, str], App] = {}
    for app in apps:
        if app.dockerfile:  # its own Dockerfile decides what it builds (it may use the APP arg)
            continue
        package = posixpath.normpath(app.main_package)
        first = seen.setdefault((app.context, package), app)
        if first is app:
            continue
        owns = [a for a in (app, first) if f"cmd/{a.name}" != package and
                any(f.startswith(f"cmd/{a.name}/") for f in a.context_files)]
        blamed, other = (first, app) if owns and owns[0] is first else (app, first)
        fix = (f'set main_package = "cmd/{blamed.name}"' if owns else
               f"set main_package to the folder of {blamed.name}'s own main package, relative to the context")
        raise BakegenError(f'app "{blamed.name}" builds the same package as app "{other.name}" '
                           f'({other.at("main_package")}): main_package "{package}" of the context '
                           f'"{app.context}", so its images would hold {other.name}\'s binary; {fix}',
                           blamed.at("main_package"))


# ---------------------------------------------------------------- the source
def _inside(app: App, key: str, path: str, within: str = "") -> str:
    """A path of the context (or ``within`` another folder), normalized; one that leaves it, or
    that no Dockerfile line can hold plainly, is an error."""
    norm = posixpath.normpath(path)
    if norm.startswith(("../", "/")) or norm == ".." or not _PATH.fullmatch(norm):
        raise BakegenError(f'{key} "{path}" must be a path inside {within or f"the context ({app.context})"}, '
                           'of letters, digits, ".", "_", "-" and "/"', app.at(key))
    return norm


def config_of(app: App, env: str) -> str:
    """The env's config file, relative to the context ("" for none); it must exist there."""
    if not app.config:
        return ""
    path = _inside(app, "config", fill(app.config, "config", app.at("config"), env=env, app=app.name))
    if app.context_present and path not in app.context_files:
        where = app.at("envs") if "envs" in app.where else app.at("config")
        raise BakegenError(f"{app.context}/{path} does not exist: env {env!r} needs it "
                           f"(config = {app.config!r})", where)
    return path


def _check_source(app: App) -> str:
    """The main package (``cmd/svc``), after checking that the build will find the module and it."""
    main = _inside(app, "main_package", app.main_package)
    if not app.context_present:
        return main
    if "go.mod" not in app.context_files:
        raise BakegenError(f"{app.context}/go.mod does not exist: the build needs the Go module at the top of the "
                           "context (set context to the module's folder)", app.at("context"))
    if not any(posixpath.dirname(f) == ("" if main == "." else main) and f.endswith(".go")
               for f in app.context_files):
        raise BakegenError(f"{app.context}/{main} holds no .go file: main_package names the folder of the "
                           "main package, relative to the context", app.at("main_package"))
    return main


def _latest_envs(app: App) -> None:
    stray = [e for e in app.latest_envs if e not in app.envs]
    if stray:
        raise BakegenError(f'app "{app.name}": latest_envs names env "{stray[0]}", which is not one of its envs '
                           f'({", ".join(app.envs)}){did_you_mean(stray[0], app.envs)}: no image would get `latest`',
                           app.at("latest_envs"))


# ---------------------------------------------------------------- the generated Dockerfile
def dockerfile(app: App, main: str) -> AppDockerfile:
    """The Dockerfile bakegen generates for ``app``: the service starts as the definition says
    (``binary``, ``command``), with its config folder and, when asked, a healthcheck."""
    binary = fill(app.binary, "binary", app.at("binary"), app=app.name)
    if not binary.startswith("/"):
        raise BakegenError(f'binary "{app.binary}" must be an absolute path in the image, like "/app/{{app}}"',
                           app.at("binary"))
    binary = "/" + _inside(app, "binary", binary[1:], "the image")
    for key, values, rule in (("expose", app.expose, _PORT), ("healthcheck_interval", (app.healthcheck_interval,),
                                                               _DURATION)):
        bad = [v for v in values if not rule.fullmatch(v)]
        if bad:
            raise BakegenError(f'{key} "{bad[0]}" must look like ' + ("8080 or 8080/tcp" if key == "expose"
                                                                       else "30s, 1m or 500ms"), app.at(key))
    folder = app.config_dir if app.config_dir is not None else posixpath.dirname(app.config)
    shared = (_inside(app, "config_dir", folder),) if app.config and folder else ()
    stages = []
    for env in app.envs:
        config = config_of(app, env)
        fields = {"app": app.name, "env": env} | ({"config": config} if config else {})
        command = app.command if app.command is not None else (("-f", "/app/{config}") if config else ())
        environment = (("APP", app.name), ("APP_ENV", env)) + ((("APP_CONFIG", f"/app/{config}"),) if config else ())
        stages.append(EnvStage(
            env, f"env-{env}", environment, () if shared or not config else (config,),
            tuple(fill(a, "command", app.at("command"), **fields) for a in command),
            tuple(fill(a, "healthcheck", app.at("healthcheck"), **fields) for a in app.healthcheck)))
    return AppDockerfile(app.name, binary, main, app.cgo, shared, app.expose,
                         app.healthcheck_interval, tuple(stages))


def app_targets(app: App, defs: Definitions,
                by_image: dict[str, list[Made]]) -> tuple[list[Target], dict[str, AppDockerfile]]:
    """The app's targets, and the Dockerfile they inherit (by the name of the target holding it)."""
    toolchain, runtime = base(app, defs, by_image, "toolchain"), base(app, defs, by_image, "runtime")
    _check(app, defs, toolchain, runtime)
    _check_go(app, defs, by_image, toolchain)
    _latest_envs(app)
    main = _check_source(app)
    generated = {f"_{app.name}": dockerfile(app, main)} if not app.dockerfile else {}
    refs: dict[str, Ref] = {BASE_ARGS["toolchain"]: toolchain.context.name,
                            BASE_ARGS["runtime"]: runtime.context.name}
    targets = []
    for env in app.envs:
        t = new_target(app, defs, target_name(app, env), describe(app, app=app.name, env=env), None)
        t.env = env
        t.contexts += [toolchain.context, runtime.context]
        if generated:
            t.inherits, t.stage = f"_{app.name}", f"env-{env}"
        env_where = f"envs ({app.at('envs')})" if "envs" in app.where else "envs (default)"
        set_args(app, t, {
            "APP": Value(app.name, f"app name ({app.at('image')})"),
            "APP_ENV": Value(env, env_where),
            "APP_CONFIG": Value(config_of(app, env), f"config ({app.at('config')}) for env {env!r}"),
            "CGO_ENABLED": Value("1" if app.cgo else "0", f"cgo ({app.at('cgo')})"),
            "MAIN_PACKAGE": Value(app.main_package, f"main_package ({app.at('main_package')})"),
        }, refs)
        set_cache(app, t, app_repository(app, env), "")
        targets.append(t)
    return targets, generated
