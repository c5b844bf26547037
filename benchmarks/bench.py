"""bakegen's speed figures (`make bench`). Prints medians of wall time over repeated runs.

  python benchmarks/bench.py [--runs N] [--profile]

1. the import floor, `python -c "import click, jinja2, semver, platformdirs"` (every library
   bakegen imports), beside bakegen's runs in the same run; each "x floor" figure is the median
   of the ratios to a floor run made just before each bakegen run (a shared VM drifts). Where
   python-hcl2 is installed (`pip install python-hcl2`, for measuring only), the floor the goals
   of issue 6 were set against, `import click, jinja2, semver, hcl2`, is measured the same way,
   interleaved, with its ratio (goal: generating at most 1.0x of it);
2. bakegen on the repository's bake/, on the built-in definitions from an empty folder, and on
   a copy with an edited definition; with the template cache and without it (what it saves);
3. scale: generated definitions for 100 and 1,000 images (2 platforms, 2 variants each) and
   t(1000)/t(100). The definitions are written to a temp folder and deleted afterwards.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
BAKEGEN = [PY, "-m", "bakegen"]
FLOOR = [PY, "-c", "import click, jinja2, semver, platformdirs"]
# The floor as issue 6 and the README measured it while python-hcl2 was a dependency (bakegen no
# longer imports it); shown where python-hcl2 is installed, for comparison with those figures.
OLD_FLOOR = [PY, "-c", "import click, jinja2, semver, hcl2"]


def once(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"benchmark command failed: {' '.join(map(str, cmd))}\n{proc.stderr.decode()}")
    return elapsed


def timed(cmd: list[str], cwd: Path, env: dict[str, str], runs: int) -> float:
    return statistics.median(once(cmd, cwd, env) for _ in range(runs))


def has_hcl2() -> bool:
    return subprocess.run([PY, "-c", "import hcl2"], capture_output=True).returncode == 0


FLOORS = [FLOOR] + ([OLD_FLOOR] if has_hcl2() else [])


def against_floor(cmd: list[str], cwd: Path, env: dict[str, str], runs: int,
                  prepare: Callable[[], None] | None = None) -> tuple[float, list[float]]:
    """Median time of ``cmd`` and the median of its ratios to each import floor, each run paired
    with floor runs just before it."""
    times: list[float] = []
    ratios: list[list[float]] = [[] for _ in FLOORS]
    for _ in range(runs):
        if prepare:
            prepare()
        floors = [once(f, ROOT, env) for f in FLOORS]
        t = once(cmd, cwd, env)
        times.append(t)
        for r, f in zip(ratios, floors, strict=True):
            r.append(t / f)
    return statistics.median(times), [statistics.median(r) for r in ratios]


def make_definitions(folder: Path, images: int) -> None:
    """``images`` runtime images, 2 platforms and 2 variants each, each with its own Dockerfile."""
    folder.mkdir(parents=True)
    (folder / "bakegen.hcl").write_text(
        'registry = "registry.example.com/bench"\nplatforms = ["linux/amd64", "linux/arm64"]\n')
    dockerfile = "ARG BASE_IMAGE=debian:bookworm-slim\nFROM ${BASE_IMAGE}\nUSER 65532:65532\n"
    for i in range(images):
        d = folder / f"svc-{i:04d}"
        d.mkdir()
        (d / "Dockerfile").write_text(dockerfile)
        (d / "image.hcl").write_text(
            f'image "svc-{i:04d}" {{\n  kind        = "runtime"\n  repository  = "team-{i % 10}/svc-{i:04d}"\n'
            f'  description = "service {i} ({{variant}})"\n  variants    = ["bookworm", "trixie"]\n'
            f'  tag_prefix  = "v{i}-"\n}}\n')


def report(label: str, result: tuple[float, list[float]]) -> None:
    ratios = "   ".join(f"{r:5.2f}x" for r in result[1])
    print(f"  {label:<44}{result[0]:7.3f} s   {ratios}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--profile", action="store_true", help="cProfile the 1,000-image run")
    args = ap.parse_args()
    runs = args.runs
    tmp = Path(tempfile.mkdtemp(prefix="bakegen-bench-"))
    try:
        cache = tmp / "cache"
        env = {**os.environ, "BAKEGEN_CACHE_DIR": str(cache)}
        uncached = {**env, "BAKEGEN_CACHE_DIR": ""}
        empty = tmp / "empty"
        empty.mkdir()
        # pip compiles an installed wheel to bytecode, as it did the libraries of the floor.
        subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "bakegen")], check=True)
        subprocess.run(BAKEGEN, cwd=ROOT, env=env, capture_output=True, check=True)  # fill the template cache

        print(f"bakegen benchmarks: {time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores, "
              f"Python {platform.python_version()}, median of {runs} runs")
        print(f"  {'python -c pass':<44}{timed([PY, '-c', 'pass'], ROOT, env, runs):7.3f} s")
        print(f"  {'import click, jinja2, semver, platformdirs':<44}{timed(FLOOR, ROOT, env, runs):7.3f} s   (the floor)")
        if len(FLOORS) > 1:
            print(f"  {'import click, jinja2, semver, hcl2':<44}{timed(OLD_FLOOR, ROOT, env, runs):7.3f} s   "
                  "(the floor of issue 6, while python-hcl2 was a dependency)")
        else:
            print("  (pip install python-hcl2 to measure against the floor of issue 6, import click, jinja2, "
                  "semver, hcl2)")
        print(f"  {'':<44}{'':9} x floor" + ("   x floor of issue 6 (goal <= 1.0x)" if len(FLOORS) > 1 else ""))
        report("bakegen (repository bake/)", against_floor(BAKEGEN, ROOT, env, runs))
        report("bakegen (built-in, empty folder)", against_floor(BAKEGEN, empty, env, runs))
        copy = tmp / "project"
        for name in ("bake", "examples"):
            shutil.copytree(ROOT / name, copy / name)
        edited = copy / "bake" / "golang-tools" / "image.hcl"

        def edit() -> None:
            with open(edited, "a") as f:
                f.write("# edited\n")

        report("bakegen, a definition edited before each run", against_floor(BAKEGEN, copy, env, runs, edit))
        report("... without the template cache", against_floor(BAKEGEN, copy, uncached, runs, edit))

        results = {}
        for n in (100, 1000):
            defs = tmp / f"defs-{n}"
            make_definitions(defs, n)
            cmd = BAKEGEN + ["--definitions", str(defs)]
            results[n] = timed(cmd, tmp, env, max(3, runs // 3))
            print(f"  {n:5d} images, 2 targets each:{results[n]:19.3f} s")
        print(f"  t(1000)/t(100): {results[1000] / results[100]:.1f}")

        if args.profile:
            import cProfile
            import pstats

            os.environ["BAKEGEN_CACHE_DIR"] = str(cache)
            os.chdir(tmp)
            from bakegen.cli import main as bakegen_main

            prof = cProfile.Profile()
            with open(os.devnull, "w") as devnull:
                stdout, sys.stdout = sys.stdout, devnull
                try:
                    prof.runcall(bakegen_main, ["--definitions", str(tmp / "defs-1000")])
                finally:
                    sys.stdout = stdout
            pstats.Stats(prof).sort_stats("cumulative").print_stats(12)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
