"""The edge that runs docker buildx: the only module besides ``gitmeta`` that starts a program.
Registry questions go through ``docker buildx imagetools`` (the user's credentials, helpers and
registry settings, as a build uses them); an answer that is not a clear yes is a no."""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

from . import registry
from .errors import BakegenError
from .model import Answer

TIMEOUT = 60


def run_each(cmds: list[list[str]], dry_run: bool, echo: Callable[[str], object]) -> None:
    """Echo each command line, and run it unless ``dry_run``; the first failure stops."""
    for cmd in cmds:
        echo(shlex.join(cmd))
        if dry_run:
            continue
        try:
            proc = subprocess.run(cmd, check=False)
        except FileNotFoundError:
            raise BakegenError(f"{cmd[0]} is not installed; use --dry-run to print the commands") from None
        if proc.returncode != 0:
            raise BakegenError(f"command failed with exit code {proc.returncode}: {shlex.join(cmd)}")


class Pushed(NamedTuple):
    """An image in a registry: its digest, and the image config of each platform."""

    digest: str
    configs: dict[str, dict[str, Any]]


def _imagetools(ref: str) -> Pushed | None:
    try:
        proc = subprocess.run(["docker", "buildx", "imagetools", "inspect", ref, "--format", "{{json .}}"],
                              capture_output=True, text=True, timeout=TIMEOUT, check=False)
        doc = json.loads(proc.stdout) if proc.returncode == 0 else None
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("manifest"), dict):
        return None
    image = doc.get("image")
    if isinstance(image, dict) and "config" in image:  # one platform: the config itself
        image = {f"{image.get('os')}/{image.get('architecture')}": image}
    if not isinstance(image, dict):
        return None
    return Pushed(str(doc["manifest"].get("digest", "")), {p: c for p, c in image.items() if isinstance(c, dict)})


def inspect(refs: Mapping[str, Sequence[str]], config: dict[str, Any]) -> dict[str, Pushed | None]:
    """Each reference's image (its digest, and the config of each platform asked for), asked of
    the registries at once: through their HTTP API where ``registry`` can, else through ``docker
    buildx imagetools``. None where a registry has no such image, or did not answer."""
    client = registry.Client(config)

    def one(item: tuple[str, Sequence[str]]) -> Pushed | None:
        try:
            image = client.image(item[0], list(item[1]))
            return None if image is None else Pushed(image.digest, image.configs)
        except registry.Unsure:
            return _imagetools(item[0])

    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(zip(refs, pool.map(one, refs.items()), strict=True))


def retag(source: str, tags: Sequence[str], config: dict[str, Any]) -> None:
    """Point every one of ``tags`` at the image ``source`` (``repo@sha256:...``), registry side."""
    try:
        registry.Client(config).tag(source, list(tags))
        return
    except registry.Unsure:
        pass
    cmd = ["docker", "buildx", "imagetools", "create", "--progress", "quiet"]
    for tag in tags:
        cmd += ["--tag", tag]
    proc = subprocess.run([*cmd, source], capture_output=True, text=True, timeout=TIMEOUT * 5, check=False)
    if proc.returncode != 0:
        raise BakegenError(f"could not tag {source} as {', '.join(tags)}: {proc.stderr.strip()[-300:]}")


MISSING = ("docker buildx is not available here: install Docker with the buildx plugin "
           "(https://docs.docker.com/build/install-buildx/); without it, bakegen -o docker-bake.hcl and "
           "bakegen meta -o .bakegen/meta.hcl write the files, for docker buildx bake elsewhere")


def bake(args: Sequence[str]) -> int:
    """Run ``docker buildx bake ARGS`` with this process's output; its exit code. No docker, or no
    buildx plugin, is an error saying so (not a shell's "not found")."""
    try:
        code = subprocess.run(["docker", "buildx", "bake", *args], check=False).returncode
        if code != 0 and subprocess.run(["docker", "buildx", "version"], capture_output=True,
                                        check=False).returncode != 0:
            raise BakegenError(MISSING)
    except FileNotFoundError:
        raise BakegenError(MISSING) from None
    return code


REGISTRY_BUDGET = 5.0


class Registry:
    """One run's registry conversations (interim: the helper's full version replaces it)."""

    def __init__(self, config: dict[str, Any], *, budget: float = REGISTRY_BUDGET) -> None:
        self.config = config
        self.budget = budget

    def inspect(self, refs: Mapping[str, Sequence[str]]) -> dict[str, Answer]:
        out = {}
        for ref, pushed in inspect(refs, self.config).items():
            out[ref] = Answer("found", pushed.digest, pushed.configs) if pushed else Answer("missing", why="not found")
        return out

    def retag(self, source: str, tags: Sequence[str]) -> None:
        retag(source, tags, self.config)


def daemon() -> str:
    """"" when a Docker daemon answers here (what ``--load`` loads into), else what docker said."""
    try:
        proc = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"], capture_output=True,
                              text=True, timeout=20, check=False)
    except FileNotFoundError:
        return "docker is not installed"
    except subprocess.TimeoutExpired:
        return "docker version did not answer in 20 s"
    if proc.returncode == 0 and proc.stdout.strip():
        return ""
    return (proc.stderr.strip().splitlines() or ["docker version failed"])[-1][:200]
