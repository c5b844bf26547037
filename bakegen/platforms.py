"""Platforms, architectures and Debian suites: the tables every other module looks up.

One row per OCI platform the toolchain Dockerfile can build. The names in each column are the
ones the outside world uses: the OCI platform (bake's ``platforms``), Debian's dpkg architecture,
the architecture part of Go's release tarball name (``go1.24.2.<go_file>.tar.gz``; ``src`` means
no binary release: Go is built from source), of protoc's release zip
(``protoc-30.2-<protoc_file>.zip``; ``None``: protoc publishes none) and the GNU triplet of
Debian's C cross compiler for it (``aarch64-linux-gnu-gcc`` from ``gcc-aarch64-linux-gnu``;
``None``: Debian has none that targets exactly this platform, so no cgo for it).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from .errors import BakegenError, did_you_mean


@dataclass(frozen=True)
class Arch:
    platform: str
    dpkg: str
    go_file: str
    protoc_file: str | None
    gnu_triplet: str | None = None


def go_archive(version: str, file: str) -> str:
    """Go's release file name for a file key: ``go1.24.2.linux-amd64.tar.gz``, or the source
    release where Go publishes no binary (``go1.24.2.src.tar.gz``)."""
    return f"go{version}.{file}.tar.gz"


def protoc_archive(version: str, file: str) -> str:
    """protoc's release zip for a file key (``linux-x86_64``)."""
    return f"protoc-{version}-{file}.zip"


ARCHES: dict[str, Arch] = {
    a.platform: a
    for a in (
        Arch("linux/amd64", "amd64", "linux-amd64", "linux-x86_64", "x86_64-linux-gnu"),
        Arch("linux/arm64", "arm64", "linux-arm64", "linux-aarch_64", "aarch64-linux-gnu"),
        Arch("linux/arm/v7", "armhf", "linux-armv6l", None, "arm-linux-gnueabihf"),
        # Debian's armhf compilers emit ARMv7 code: an ARMv6 cgo binary needs Raspbian's.
        Arch("linux/arm/v6", "armhf", "linux-armv6l", None, None),
        Arch("linux/arm/v5", "armel", "src", None, "arm-linux-gnueabi"),
        Arch("linux/386", "i386", "linux-386", "linux-x86_32", "i686-linux-gnu"),
        Arch("linux/ppc64le", "ppc64el", "linux-ppc64le", "linux-ppcle_64", "powerpc64le-linux-gnu"),
        Arch("linux/s390x", "s390x", "linux-s390x", "linux-s390_64", "s390x-linux-gnu"),
        Arch("linux/mips64le", "mips64el", "linux-mips64le", None, "mips64el-linux-gnuabi64"),
        Arch("linux/riscv64", "riscv64", "linux-riscv64", None, "riscv64-linux-gnu"),
    )
}

# The machines builds usually run on: the toolchain always carries their Go release files, since
# their Go cross-compiles the tools (and Go itself where no binary release exists).
BUILD_MACHINES = ("linux/amd64", "linux/arm64")


def cgo_platforms(platforms: tuple[str, ...] | list[str]) -> str:
    """``PLATFORM=DPKG:TRIPLET ...`` for each platform with a Debian C cross compiler: what the
    toolchain installs for cgo and what an app's build looks its target up in."""
    return " ".join(f"{p}={ARCHES[p].dpkg}:{ARCHES[p].gnu_triplet}" for p in sorted(platforms)
                    if ARCHES[p].gnu_triplet)


# Spellings that mean the same platform; bakegen writes the canonical one.
_ALIASES = {
    "linux/arm64/v8": "linux/arm64",
    "linux/x86_64": "linux/amd64",
    "linux/arm": "linux/arm/v7",
    "linux/i386": "linux/386",
}


def canonical_platform(text: str) -> str:
    """The canonical spelling of an OCI platform bakegen knows, or a BakegenError."""
    name = _ALIASES.get(text.strip().lower(), text.strip().lower())
    if name not in ARCHES:
        raise BakegenError(
            f'unknown platform "{text}"{did_you_mean(text, ARCHES)}; known: {", ".join(ARCHES)}'
        )
    return name


# What Linux's `uname -m` (Python's platform.machine()) calls the machines of ARCHES.
_MACHINES = {"x86_64": "linux/amd64", "amd64": "linux/amd64", "aarch64": "linux/arm64", "arm64": "linux/arm64",
             "armv7l": "linux/arm/v7", "armv6l": "linux/arm/v6", "armv5tel": "linux/arm/v5", "i686": "linux/386",
             "i386": "linux/386", "ppc64le": "linux/ppc64le", "s390x": "linux/s390x", "riscv64": "linux/riscv64"}


def machine_platform(machine: str) -> str:
    """The OCI platform of a Linux machine from its ``uname -m`` name (``x86_64``: ``linux/amd64``),
    else ``linux/<machine>``."""
    return _MACHINES.get(machine.lower(), f"linux/{machine.lower()}")


@dataclass(frozen=True)
class Suite:
    name: str
    number: int
    end_of_life: _dt.date | None  # the end of its LTS: no security updates after this day
    dpkg_arches: frozenset[str]


_COMMON = frozenset({"amd64", "arm64", "armhf", "armel", "i386", "ppc64el", "s390x"})
# The released suites, oldest first (a suite is added here once Debian releases it): the last is the
# current Debian release, the one ``bakegen init`` writes new base images on. End of life is the end
# of Debian LTS (https://wiki.debian.org/LTS).
SUITES: dict[str, Suite] = {
    s.name: s
    for s in (
        Suite("bullseye", 11, _dt.date(2026, 8, 31), _COMMON | {"mips64el"}),
        Suite("bookworm", 12, _dt.date(2028, 6, 30), _COMMON | {"mips64el"}),
        Suite("trixie", 13, _dt.date(2030, 6, 30), _COMMON | {"riscv64"}),
    )
}


def suite(name: str) -> Suite:
    """A Debian suite by its name (``bookworm``) or its tag suffix (``debian12``)."""
    try:
        return SUITES[name] if name in SUITES else next(s for s in SUITES.values() if f"debian{s.number}" == name)
    except StopIteration:
        raise BakegenError(
            f'unknown Debian suite "{name}"{did_you_mean(name, SUITES)}; known: {", ".join(SUITES)}'
        ) from None


def current_suite() -> Suite:
    """The current Debian release bakegen knows: the newest suite of ``SUITES``."""
    return max(SUITES.values(), key=lambda s: s.number)
