"""bakegen's speed figures (`make bench`). Prints medians of wall time over repeated runs.

  python benchmarks/bench.py [--runs N] [--profile]

1. the import floor, `python -c "import click, jinja2, semver, hcl2"`, beside bakegen's default run
   (repository bake/, and the built-in definitions from an empty folder), in the same run; each
   "x floor" figure is the median of ratios to a floor run made just before each bakegen run;
2. a run that must parse HCL (its parse cache empty; python-hcl2's grammar cache built), and the
   very first run on a machine (nothing cached);
3. scale: generated definitions for 100 and 1,000 images (2 platforms, 2 variants each), cold
   (every file parsed) and warm (unchanged files: the usual case), and t(1000)/t(100).
The definitions for the scale runs are written to a temp folder and deleted afterwards.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
BAKEGEN = [PY, "-m", "bakegen"]


FLOOR = [PY, "-c", "import click, jinja2, semver, hcl2"]


def once(cmd, cwd, env) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"benchmark command failed: {' '.join(map(str, cmd))}\n{proc.stderr.decode()}")
    return elapsed


def timed(cmd, cwd, env, runs, prepare=None) -> float:
    times = []
    for _ in range(runs):
        if prepare:
            prepare()
        times.append(once(cmd, cwd, env))
    return statistics.median(times)


def against_floor(cmd, cwd, env, runs, prepare=None) -> tuple[float, float]:
    """Median time of ``cmd`` and the median of its ratios to the import floor, each run paired
    with a floor run just before it, so both see the same machine (a shared VM drifts)."""
    times, ratios = [], []
    for _ in range(runs):
        if prepare:
            prepare()
        floor = once(FLOOR, ROOT, env)
        t = once(cmd, cwd, env)
        times.append(t)
        ratios.append(t / floor)
    return statistics.median(times), statistics.median(ratios)


def drop(cache: Path) -> None:
    """Forget the parsed definitions, keep python-hcl2's grammar cache."""
    for p in cache.glob("parsed-*.json"):
        p.unlink()


def make_definitions(folder: Path, images: int) -> None:
    """``images`` toolchain-like runtime images, 2 platforms and 2 variants each, each with its
    own Dockerfile, plus the project file."""
    folder.mkdir(parents=True)
    (folder / "bakegen.hcl").write_text(
        'registry = "registry.example.com/bench"\nplatforms = ["linux/amd64", "linux/arm64"]\n')
    dockerfile = "# syntax=docker/dockerfile:1\nARG BASE_IMAGE=debian:bookworm-slim\nFROM ${BASE_IMAGE}\nUSER 65532:65532\n"
    for i in range(images):
        d = folder / f"svc-{i:04d}"
        d.mkdir()
        (d / "Dockerfile").write_text(dockerfile)
        (d / "image.hcl").write_text(
            f'image "svc-{i:04d}" {{\n  kind        = "runtime"\n  repository  = "team-{i % 10}/svc-{i:04d}"\n'
            f'  description = "service {i} ({{variant}})"\n  variants    = ["bookworm", "trixie"]\n'
            f'  tag_prefix  = "v{i}-"\n}}\n')


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--profile", action="store_true", help="cProfile the warm 1,000-image run")
    args = ap.parse_args()
    runs = args.runs
    tmp = Path(tempfile.mkdtemp(prefix="bakegen-bench-"))
    try:
        warm_cache = tmp / "cache-warm"
        env = {**os.environ, "BAKEGEN_CACHE_DIR": str(warm_cache)}
        env.pop("BAKEGEN_COMMAND", None)
        empty = tmp / "empty"
        empty.mkdir()
        # pip compiles an installed wheel to bytecode, as it did the libraries of the floor; an
        # editable checkout under PYTHONDONTWRITEBYTECODE=1 would compile bakegen on every run.
        subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "bakegen")], check=True)
        subprocess.run(BAKEGEN, cwd=ROOT, env=env, capture_output=True, check=True)  # warm the caches

        print(f"bakegen benchmarks: {time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores, "
              f"Python {platform.python_version()}, median of {runs} runs")
        floor3 = timed([PY, "-c", "import click, jinja2, semver"], ROOT, env, runs)
        floor = timed(FLOOR, ROOT, env, runs)
        default, default_x = against_floor(BAKEGEN, ROOT, env, runs)
        builtin, builtin_x = against_floor(BAKEGEN, empty, env, runs)
        print(f"  import click, jinja2, semver         {floor3:7.3f} s")
        print(f"  import click, jinja2, semver, hcl2   {floor:7.3f} s   (the floor)")
        print(f"  bakegen (repository bake/)           {default:7.3f} s   {default_x:5.2f}x floor")
        print(f"  bakegen (built-in, empty folder)     {builtin:7.3f} s   {builtin_x:5.2f}x floor")

        parse_cache = tmp / "cache-parse"

        def drop_parsed():  # keep python-hcl2's grammar cache, lose the parsed definitions
            drop(parse_cache)

        subprocess.run(BAKEGEN + ["--definitions", str(ROOT / "bake")], cwd=empty,
                       env={**env, "BAKEGEN_CACHE_DIR": str(parse_cache)}, capture_output=True)
        copy = tmp / "project"
        shutil.copytree(ROOT / "bake", copy / "bake")
        shutil.copytree(ROOT / "examples", copy / "examples")
        with open(copy / "bake" / "bakegen.hcl", "a") as f:
            f.write("\n# edited: the shipped parse no longer matches\n")
        must_parse, must_parse_x = against_floor(BAKEGEN, copy, {**env, "BAKEGEN_CACHE_DIR": str(parse_cache)},
                                                 runs, drop_parsed)
        first = timed(BAKEGEN, copy, {**env, "BAKEGEN_CACHE_DIR": str(tmp / "none")}, max(3, runs // 3),
                      lambda: shutil.rmtree(tmp / "none", ignore_errors=True))
        print(f"  bakegen, one edited file to parse    {must_parse:7.3f} s   {must_parse_x:5.2f}x floor")
        print(f"  bakegen, first run (nothing cached)  {first:7.3f} s   (python-hcl2 builds its grammar once)")

        site = Path(__import__("hcl2").__file__).resolve().parent.parent
        if os.geteuid() == 0 and shutil.which("unshare") and shutil.which("mount"):
            # site-packages mounted read-only in a private mount namespace (root only)
            ro_cache = tmp / "cache-ro"
            script = (f"mount --bind -o ro {site} {site} && mount -o remount,bind,ro {site} && "
                      f"exec {' '.join(BAKEGEN)}")
            ro_cmd = ["unshare", "-m", "sh", "-c", script]
            ro_env = {**env, "BAKEGEN_CACHE_DIR": str(ro_cache)}
            ro_first = timed(ro_cmd, copy, ro_env, 3, lambda: shutil.rmtree(ro_cache, ignore_errors=True))
            subprocess.run(ro_cmd, cwd=copy, env=ro_env, capture_output=True)
            ro_parse, ro_parse_x = against_floor(ro_cmd, copy, ro_env, runs, lambda: drop(ro_cache))
            print(f"  read-only site-packages: first run {ro_first:.3f} s, then one edited file to parse "
                  f"{ro_parse:.3f} s ({ro_parse_x:.2f}x floor; unshare and mount add a few ms)")

        results = {}
        for n in (100, 1000):
            defs = tmp / f"defs-{n}"
            make_definitions(defs, n)
            cache = tmp / f"cache-{n}"
            cmd = BAKEGEN + ["--definitions", str(defs)]
            cenv = {**env, "BAKEGEN_CACHE_DIR": str(cache)}
            subprocess.run(cmd, cwd=tmp, env=cenv, capture_output=True, check=True)  # grammar cache
            cold = timed(cmd, tmp, cenv, max(3, runs // 3), lambda: drop(cache))
            warm = timed(cmd, tmp, cenv, runs)
            results[n] = (cold, warm)
            print(f"  {n:5d} images, 4 targets each: cold {cold:7.3f} s, warm {warm:7.3f} s")
        ratio_c = results[1000][0] / results[100][0]
        ratio_w = results[1000][1] / results[100][1]
        print(f"  t(1000)/t(100): cold {ratio_c:.1f}, warm {ratio_w:.1f}")

        if args.profile:
            import cProfile
            import pstats

            sys.argv = ["bakegen", "--definitions", str(tmp / "defs-1000")]
            os.environ["BAKEGEN_CACHE_DIR"] = str(tmp / "cache-1000")
            os.chdir(tmp)
            from bakegen.cli import main as bakegen_main

            prof = cProfile.Profile()
            with open(os.devnull, "w") as devnull:
                stdout, sys.stdout = sys.stdout, devnull
                try:
                    prof.runcall(bakegen_main, sys.argv[1:])
                finally:
                    sys.stdout = stdout
            pstats.Stats(prof).sort_stats("cumulative").print_stats(12)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
