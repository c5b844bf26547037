"""Parse time of bakegen's HCL reader against python-hcl2 (and Go's HCL through pygohcl, for scale).

    pip install python-hcl2   # not a dependency of bakegen any more: only this comparison needs it
    python benchmarks/bench_hcl.py [bake-folder]

Reads every *.hcl under the folder (default: the repository's bake/) and a generated file of 1,000
image blocks; prints the best of several runs per reader, and each reader's import time.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCK = """
# Image {i}: a toolchain like golang-tools.
image "img-{i}" {{
  kind        = "toolchain"
  repository  = "common/tools/golang-{i}"
  description = "Go {{version}} toolchain with cgo, protoc and pinned Go tools ({{variant}}) 100%% $${{x}}"
  versions = ["1.24.2", "1.25.1"]
  variants = ["bullseye", "bookworm"]
  aliases  = ["minor"]
  base_image      = "debian:{{suite}}-slim"
  go_download_url = "https://dl.google.com/go"
  tools = [
    "github.com/go-delve/delve/cmd/dlv@v1.26.3",
    "gotest.tools/gotestsum@v1.13.0", # pinned
  ]
  go_checksums = {{ "1.24.99" = {{ "linux-amd64" = "abc", "linux-arm64" = "def" }} }}
  pull       = true
  provenance = false
}}
"""


def best(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def import_time(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    runs = [float(subprocess.check_output([sys.executable, "-c", code], text=True)) for _ in range(5)]
    return min(runs)


def main() -> None:
    import hcl2
    import pygohcl

    from bakegen.hcl import parse

    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "bake"
    files = [(str(p), p.read_text(encoding="utf-8")) for p in sorted(folder.rglob("*.hcl"))]
    big = "".join(BLOCK.format(i=i) for i in range(1000))
    readers: dict[str, Callable[[str, str], object]] = {
        "bakegen.hcl": parse,
        "python-hcl2": lambda text, _name: hcl2.loads(text),
        "pygohcl (Go)": lambda text, _name: pygohcl.loads(text),
    }
    print(
        f"{len(files)} files in {folder} ({sum(len(t) for _, t in files)} chars); generated: 1,000 blocks, {len(big)} chars"
    )
    for name, read in readers.items():
        first = best(lambda read=read: read(files[0][1], files[0][0]), 1)  # python-hcl2 builds its parser here
        small = best(lambda read=read: [read(t, n) for n, t in files], 20)
        large = best(lambda read=read: read(big, "big.hcl"), 3)
        print(
            f"{name:14} first call {first * 1000:7.1f} ms   bake/ {small * 1000:7.2f} ms   1,000 blocks {large * 1000:8.1f} ms"
        )
    for module in ("bakegen.hcl", "hcl2", "pygohcl"):
        print(f"import {module:12} {import_time(module) * 1000:6.1f} ms")


if __name__ == "__main__":
    main()
