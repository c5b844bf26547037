"""The checksum tables plan reads: what bakegen ships, what ``bakegen lock`` wrote, what a
definition adds. Never two values for one file. (Interim: the lock file comes with `bakegen lock`.)"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from .errors import BakegenError
from .model import ChecksumTable, Image
from .resources import data_json
from .versions import GoVersion


def _shipped(name: str) -> ChecksumTable:
    data = data_json(name)
    return {v: dict(files) for v, files in data["versions"].items()}


def checksum_tables(images: Sequence[Image], folder: Path, shown: str) -> tuple[ChecksumTable, ChecksumTable]:
    go = _shipped("go-sha256.json")
    protoc = _shipped("protoc-sha256.json")
    for image in images:
        for table, extra, key in ((go, image.go_checksums, "go_checksums"),
                                  (protoc, image.protoc_checksums, "protoc_checksums")):
            for version, files in extra:
                if key == "go_checksums":
                    try:
                        version = GoVersion.parse(version).go
                    except BakegenError as e:
                        raise BakegenError(f"{key}: {e.message}", image.at(key)) from None
                known = table.setdefault(version, {})
                for file, sha in files:
                    if not re.fullmatch(r"[0-9a-f]{64}", sha):
                        raise BakegenError(f'{key}: "{version}" "{file}" = "{sha}" is not a sha256 '
                                           "(64 lower-case hex digits)", image.at(key))
                    if known.get(file, sha) != sha:
                        raise BakegenError(f'{key}: "{version}" "{file}" = "{sha}" differs from the '
                                           f"published checksum {known[file]}", image.at(key))
                    known[file] = sha
    return go, protoc
