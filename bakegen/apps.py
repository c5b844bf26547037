"""The apps' targets: one per app and environment, built FROM a toolchain and a runtime that are
either targets of the same run or published images. Pure."""

from __future__ import annotations

from .bases import Made
from .errors import BakegenError, did_you_mean
from .model import App, Context, Definitions, Image, Ref, Target, Value
from .platforms import ARCHES
from .tags import check_path, is_reference, parse_reference, variant_suffix
from .targets import describe, new_target, set_args, set_cache
from .versions import GoVersion

# The build args an app's Dockerfile names its bases by (FROM ${TOOLCHAIN_IMAGE}).
BASE_ARGS = {"toolchain": "TOOLCHAIN_IMAGE", "runtime": "RUNTIME_IMAGE"}
PUBLISHED_EXAMPLE = {"toolchain": "{registry}/common/tools/golang:1.24",
                     "runtime": "{registry}/common/runtime/golang:debian11"}


def target_name(image: App, env: str) -> str:
    """``<app>`` for an app with one env, ``<app>-<env>`` for each of several."""
    return image.name if len(image.envs) == 1 else f"{image.name}-{env}"


def app_repository(image: Image, env: str) -> str:
    try:
        path = image.repository.format(app=image.name, env=env)
    except (KeyError, IndexError, ValueError) as e:
        raise BakegenError(f'repository "{image.repository}": unknown field {e}; known: {{app}}, {{env}}',
                           image.at("repository")) from None
    return check_path(path, image.at("repository"))


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


def base_context(app: App, defs: Definitions, by_image: dict[str, list[Made]],
                 kind: str) -> tuple[Context, Made | None]:
    """What the app's ``FROM ${TOOLCHAIN_IMAGE}`` (or RUNTIME_IMAGE) resolves to, and the base
    target when it is built in the same run."""
    value = getattr(app, kind)
    if is_reference(value):
        ref = parse_reference(value, app.at(kind))
        return Context(ref, None, f"{kind} ({app.at(kind)}): the published image"), None
    made = _local(app, defs, by_image, kind, value)
    why = f"{kind} ({app.at(kind)}): target {made.target.name}, built first in the same run"
    return Context(made.ref, made.target.name, why), made


def _check(app: App, toolchain: Made | None, runtime: Made | None) -> None:
    if not 4 <= app.short_length <= 40:
        raise BakegenError("short_length must be between 4 and 40", app.at("short_length"))
    if app.cgo and runtime is not None and runtime.static:
        raise BakegenError(f'app "{app.name}": cgo = true builds a binary that needs a C library, which the '
                           f'static runtime "{runtime.target.name}" has not; use a Debian runtime '
                           '(runtime = "golang-runtime") or set cgo = false', app.at("cgo"))
    if app.cgo:
        _check_cgo(app, toolchain, runtime)
    for base in (toolchain, runtime):
        outside = sorted(set(app.platforms) - set(base.target.platforms)) if base else []
        if base and outside:
            raise BakegenError(f'app "{app.name}" builds for {outside[0]}, which its base target '
                               f'"{base.target.name}" does not ({", ".join(base.target.platforms)}); bake needs the '
                               "app's platforms to be a subset of its bases'", app.at("platforms"))


def _check_cgo(app: App, toolchain: Made | None, runtime: Made | None) -> None:
    """A cgo binary is linked on the build machine with the target's C cross compiler, against
    the toolchain suite's C library, which the runtime must have too (same suite or newer)."""
    for p in app.platforms:
        if ARCHES[p].gnu_triplet is None:
            raise BakegenError(f'app "{app.name}": cgo = true, but Debian has no C cross compiler for {p}; '
                               "remove the platform or set cgo = false", app.at("platforms"))
    if toolchain and runtime and toolchain.suite.number > runtime.suite.number:
        raise BakegenError(f'app "{app.name}": cgo = true links against Debian {toolchain.suite.name}\'s C library '
                           f'(toolchain "{toolchain.target.name}"), which the runtime "{runtime.target.name}" '
                           f"(Debian {runtime.suite.name}) is older than; use the same variant for both "
                           "(toolchain_variant, runtime_variant)", app.at("cgo"))


def _config(app: App, env: str) -> str:
    if not app.config:
        return ""
    path = app.config.replace("{env}", env)
    if app.context_present and path not in app.context_files:
        where = app.at("envs") if "envs" in app.where else app.at("config")
        raise BakegenError(f"{app.context}/{path} does not exist: env {env!r} needs it "
                           f"(config = {app.config!r})", where)
    return path


def app_targets(app: App, defs: Definitions, by_image: dict[str, list[Made]]) -> list[Target]:
    toolchain, tmade = base_context(app, defs, by_image, "toolchain")
    runtime, rmade = base_context(app, defs, by_image, "runtime")
    _check(app, tmade, rmade)
    refs: dict[str, Ref] = {BASE_ARGS["toolchain"]: toolchain.name, BASE_ARGS["runtime"]: runtime.name}
    targets = []
    for env in app.envs:
        repository = app_repository(app, env)
        t = new_target(app, defs, target_name(app, env), describe(app, app=app.name, env=env), None)
        t.env = env
        t.contexts += [toolchain, runtime]
        env_where = f"envs ({app.at('envs')})" if "envs" in app.where else "envs (default)"
        set_args(app, t, {
            "APP": Value(app.name, f"app name ({app.at('image')})"),
            "APP_ENV": Value(env, env_where),
            "APP_CONFIG": Value(_config(app, env), f"config ({app.at('config')}) for env {env!r}"),
            "CGO_ENABLED": Value("1" if app.cgo else "0", f"cgo ({app.at('cgo')})"),
            "MAIN_PACKAGE": Value(app.main_package, f"main_package ({app.at('main_package')})"),
        }, refs)
        set_cache(app, t, repository, "")
        targets.append(t)
    return targets
