"""What a definition may say: every key of ``bakegen.hcl`` and of each kind of image, its type
and its default (the one place defaults live), and the one rule for names. Pure; ``loader``
applies it to what the HCL reader returns."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from .errors import BakegenError

Convert = Callable[[Any, str], Any]
PROJECT_FILE = "bakegen.hcl"  # a definitions folder: bakegen.hcl, and <image>/image.hcl for each image
IMAGE_FILE = "image.hcl"
# Image, app and env names: they become target names, repository path parts and tag parts.
NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")


# One token of a definition string that fill() reads: an escaped brace ("{{", "}}"), a placeholder,
# or text that is never a placeholder: "${...}" and "%{...}" (HCL's templates, which a definition
# holds written as "$${" and "%%{"), taken verbatim up to their "}" unless the brace is escaped.
_FILL_TOKEN = re.compile(r"(\{\{)|(\}\})|\{([A-Za-z_][A-Za-z0-9_]*)\}|([$%]\{(?!\{)[^}]*\}?)")


def fill(text: str, key: str, where: str | None, **fields: str) -> str:
    """``text`` (a definition's ``key``) with its ``{field}``s filled in and ``{{``, ``}}`` read as
    a literal ``{``, ``}`` (as Python's format does); ``${...}`` and ``%{...}`` are kept as they
    are, and so is a brace that is neither. Any other ``{name}`` is an error naming the ones
    ``key`` knows and the escape."""
    def one(m: re.Match[str]) -> str:
        if m[1] or m[2]:
            return m[0][0]
        if m[4]:
            return m[4]
        if m[3] not in fields:
            known = ", ".join(f"{{{f}}}" for f in fields) or "none"
            raise BakegenError(f'{key} "{text}": unknown placeholder {m[0]}; known here: {known} '
                               f"(write {{{m[0]}}} for the text {m[0]})", where)
        return fields[m[3]]
    return _FILL_TOKEN.sub(one, text)


def check_name(name: str, what: str, where: str | None) -> str:
    if not NAME.fullmatch(name):
        raise BakegenError(f'{what} "{name}" must be lower-case letters, digits, "-" and "_"', where)
    return name


class Plain(TypeError):
    """A wrong type whose message says everything, the value included."""


def hcl_value(v: Any) -> str:
    """A value as a definition writes it (``["dev", "prd"]``, ``true``), for messages."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, list):
        return "[" + ", ".join(map(hcl_value, v)) + "]"
    if isinstance(v, dict):
        keys = {k: k if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", k) else hcl_value(k) for k in v}
        return "{ " + ", ".join(f"{keys[k]} = {hcl_value(x)}" for k, x in v.items()) + " }" if v else "{}"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False).replace("${", "$${").replace("%{", "%%{")
    return str(v)


def as_env(v: Any, key: str) -> str:
    """``env``: the one env of an app with one env."""
    if isinstance(v, list):
        raise Plain(f"env = {hcl_value(v)}: env names one env, as a string (env = \"dev\"); for a list of envs, "
                    f"write envs = {hcl_value(v)}")
    return as_str(v, key)


def as_str(v: Any, key: str) -> str:
    if isinstance(v, bool) or not isinstance(v, (str, int, float)):
        raise TypeError(f"{key} must be a string")
    return str(v)


def as_bool(v: Any, key: str) -> bool:
    if not isinstance(v, bool):
        raise TypeError(f"{key} must be true or false")
    return v


def as_int(v: Any, key: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{key} must be a whole number")
    return v


COMPRESSIONS = ("gzip", "zstd")


def as_compression(v: Any, key: str) -> str:
    if v not in COMPRESSIONS:
        raise TypeError(f"{key} must be one of {', '.join(map(repr, COMPRESSIONS))}")
    return str(v)


def as_strs(v: Any, key: str) -> tuple[str, ...]:
    if not isinstance(v, list):
        raise TypeError(f"{key} must be a list of strings")
    return tuple(as_str(x, key) for x in v)


def as_map(v: Any, key: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(v, dict):
        raise TypeError(f"{key} must be a map of strings")
    return tuple(sorted((str(k), as_str(x, key)) for k, x in v.items()))


def as_map_of_lists(v: Any, key: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(v, dict) or not all(isinstance(x, list) for x in v.values()):
        raise TypeError(f'{key} must be a map of lists, like {{ dev = ["*"], prd = ["main"] }}')
    return tuple(sorted((str(k), as_strs(x, key)) for k, x in v.items()))


def as_map_of_maps(v: Any, key: str) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    if not isinstance(v, dict) or not all(isinstance(x, dict) for x in v.values()):
        raise TypeError(f'{key} must be a map of maps, like {{ "1.24.99" = {{ "linux-amd64" = "<sha256>" }} }}')
    return tuple(sorted((str(k), as_map(x, key)) for k, x in v.items()))


REQUIRED = object()  # the key has no default
Keys = dict[str, tuple[Convert, Any]]

PROJECT_KEYS: Keys = {
    "registry": (as_str, REQUIRED),
    "authors": (as_str, ""),
    "source": (as_str, ""),
    "platforms": (as_strs, ("linux/amd64", "linux/arm64")),
    "network": (as_str, ""),
    "extra_hosts": (as_map, ()),
    "debian_mirror": (as_str, "http://deb.debian.org"),
    "registry_cache": (as_bool, False),
    # The branches that publish: the base images are pushed from them only, and (by default) an
    # app's every env and its `latest`.
    "main_branches": (as_strs, ("main", "master")),
}

COMMON_KEYS: Keys = {
    "kind": (as_str, REQUIRED),
    "repository": (as_str, REQUIRED),
    "description": (as_str, ""),
    "context": (as_str, "."),
    "dockerfile": (as_str, "Dockerfile"),
    "platforms": (as_strs, None),  # None: the project's
    "pull": (as_bool, True),
    "provenance": (as_bool, False),
    "network": (as_str, None),
    "extra_hosts": (as_map, None),
    "registry_cache": (as_bool, None),
    "contexts": (as_map, ()),  # named build contexts: folders relative to the definition
}
KIND_KEYS: dict[str, Keys] = {
    "toolchain": {
        "versions": (as_strs, REQUIRED),
        "variants": (as_strs, ("bookworm",)),
        "aliases": (as_strs, ("minor",)),
        # The image has a C compiler (and the -dev libraries): an app with cgo = true may build
        # FROM it. false: a compile image (golang-build), which bakegen refuses cgo apps on.
        "cgo": (as_bool, True),
        "base_image": (as_str, "debian:{suite}-slim"),
        "go_download_url": (as_str, "https://dl.google.com/go"),
        "goproxy": (as_str, "https://proxy.golang.org,direct"),
        "gosumdb": (as_str, "sum.golang.org"),
        "protoc_version": (as_str, ""),
        "protoc_download_url": (as_str, "https://github.com/protocolbuffers/protobuf/releases/download"),
        "tools": (as_strs, ()),
        "go_checksums": (as_map_of_maps, ()),
        "protoc_checksums": (as_map_of_maps, ()),
        # Every build pulls the toolchain: zstd layers unpack in a fraction of gzip's time, and
        # BuildKit reads them. Runtime and app images go to clusters: gzip, which every runtime reads.
        "compression": (as_compression, "zstd"),
    },
    "runtime": {
        "variants": (as_strs, ("bookworm",)),
        "base_image": (as_str, "debian:{suite}-slim"),
        "tag_prefix": (as_str, ""),
        "static": (as_bool, False),
        "compression": (as_compression, "gzip"),
    },
    "app": {
        "dockerfile": (as_str, None),  # None: the Dockerfile bakegen generates (in the bake file)
        "env": (as_env, None),
        "envs": (as_strs, None),  # None: DEFAULT_ENVS
        "toolchain": (as_str, ""),
        "toolchain_version": (as_str, ""),
        "toolchain_variant": (as_str, ""),
        "runtime": (as_str, ""),
        "runtime_variant": (as_str, ""),
        "runtime_static": (as_bool, None),  # None: as the runtime says (its definition, or its tag)
        "cgo": (as_bool, False),
        "config": (as_str, "etc/app_{env}.yaml"),
        "config_dir": (as_str, None),  # None: the config file's folder; "": the env's file alone
        "binary": (as_str, "/app/{app}"),
        "command": (as_strs, None),  # None: ["-f", "/app/{config}"] with a config, else []
        "expose": (as_strs, ()),
        "healthcheck": (as_strs, ()),  # exec form; empty: no HEALTHCHECK
        "healthcheck_interval": (as_str, "30s"),
        "latest_envs": (as_strs, None),  # None: the envs among LATEST_ENVS
        "latest_branches": (as_strs, None),  # None: the project's main_branches
        # The branches (glob patterns) whose CI builds each env (`bakegen bake --ci`); None: the
        # first env from every branch ("*"), the others from main_branches.
        "env_branches": (as_map_of_lists, None),
        "short_length": (as_int, 7),
        "main_package": (as_str, "."),
        "compression": (as_compression, "gzip"),
    },
}
KINDS = tuple(KIND_KEYS)
# The ARGs of the Dockerfile bakegen generates for an app (``templates/app.Dockerfile.j2``).
GENERATED_ARGS = frozenset({"TOOLCHAIN_IMAGE", "RUNTIME_IMAGE", "GIT_BRANCH", "GIT_COMMIT_ID", "VERSION", "GO_DEPS"})


def defaults(kind: str | None = None) -> dict[str, Any]:
    """The default of every key of ``bakegen.hcl`` (``kind`` None) or of an image of ``kind``."""
    keys = PROJECT_KEYS if kind is None else {**COMMON_KEYS, **KIND_KEYS[kind]}
    return {key: default for key, (_, default) in keys.items() if default is not REQUIRED}
DEFAULT_ENVS = ("dev",)
LATEST_ENVS = ("prd", "prod", "production")  # the envs that get `latest` unless latest_envs says
