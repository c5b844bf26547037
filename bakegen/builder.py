"""``docker buildx create`` command lines for a multi-node builder: one native node per platform.

BuildKit does the scheduling: a builder whose nodes declare their platforms gets, for each target,
each platform built on the node that declared it, so no platform is emulated. bakegen only writes
the command lines (pure); ``buildx`` runs them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import BakegenError
from .platforms import canonical_platform

DRIVERS = ("docker-container", "remote", "kubernetes")


@dataclass(frozen=True)
class Node:
    endpoint: str
    platforms: tuple[str, ...]


def parse_node(text: str) -> Node:
    """``ENDPOINT=PLATFORM[,PLATFORM...]``, e.g. ``ssh://ci@arm-1=linux/arm64``."""
    endpoint, sep, platforms = text.rpartition("=")
    if not sep or not endpoint or not platforms:
        raise BakegenError(f'node "{text}" must be ENDPOINT=PLATFORM[,PLATFORM...], '
                           "e.g. ssh://ci@arm64-host=linux/arm64")
    return Node(endpoint, tuple(canonical_platform(p) for p in platforms.split(",") if p))


def commands(name: str, nodes: list[Node], driver: str = "docker-container",
             namespace: str = "buildkit") -> list[list[str]]:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
        raise BakegenError(f'builder name "{name}" must be letters, digits, ".", "_" and "-"')
    if driver not in DRIVERS:
        raise BakegenError(f'driver "{driver}" must be one of {", ".join(DRIVERS)}')
    if not nodes:
        raise BakegenError('no nodes: give NODES="ENDPOINT=PLATFORM ..." (one per build machine)')
    seen: dict[str, str] = {}
    for node in nodes:
        for p in node.platforms:
            if p in seen:
                raise BakegenError(f"platform {p} is on two nodes ({seen[p]} and {node.endpoint}); "
                                   "give each platform one native node")
            seen[p] = node.endpoint
    out = []
    for i, node in enumerate(nodes):
        node_name = f"{name}-" + "-".join(p.removeprefix("linux/").replace("/", "") for p in node.platforms)
        cmd = ["docker", "buildx", "create", "--name", name]
        if i:
            cmd.append("--append")
        else:
            cmd += ["--driver", driver]
        cmd += ["--node", node_name, "--platform", ",".join(node.platforms)]
        if driver == "kubernetes":
            arch = node.platforms[0].split("/")[1]
            cmd += ["--driver-opt", f"namespace={namespace},nodeselector=kubernetes.io/arch={arch}"]
            if node.endpoint != "default":
                cmd.append(node.endpoint)  # a kubectl context
        else:
            cmd.append(node.endpoint)
        out.append(cmd)
    out.append(["docker", "buildx", "inspect", "--bootstrap", name])
    return out
