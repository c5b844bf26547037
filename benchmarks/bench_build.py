#!/usr/bin/env python3
"""Build speed and image sizes: the seed's three scripts against bakegen's `make bake`, on real
BuildKit (issue 10). Needs the harness: `scripts/buildkit-harness up`.

    python benchmarks/bench_build.py [--rounds N] [--platforms linux/amd64] [--keep]

One builder (the harness's BUILDER), one run, interleaved rounds (the side that goes first
alternates). In each round, for each side:

  cold             build cache pruned on the builder (`docker buildx prune -af`), then a build
  nothing changed  the same again (bakegen: a new meta file, as CI runs it)
  app change       one line of the app changed and committed, then a build of everything
  app alone        another one-line change, then the seed's app script alone (`build-app.sh dev`)
                   against `make bake-apps ENV=dev` (the daily path: the app of one env, its
                   bases from the build cache, nothing of them pushed)

The seed side runs benchmarks/seed/ (the seed's Dockerfiles and scripts, adapted only as the
harness needs; see its README) as the seed does: `./build.sh` in the toolchain and runtime
folders, then `./build-app.sh dev ci-demo-go` in a git clone of examples/ci-demo-go.

The bakegen side is the README's `make bake BAKE_ARGS=--push`, run with make in a copy of the
working tree's bake/, examples/ and Makefile adapted the same way (tests/harness.py:
adapt_definitions): `bakegen -o docker-bake.hcl`, `bakegen meta -o .bakegen/meta.hcl`, then
`docker buildx bake -f docker-bake.hcl -f .bakegen/meta.hcl --push`: the default group, which
holds more than the seed builds (three envs of the app and the cgo sample besides the bases).

The seed pushes to 127.0.0.1:5000/seed/..., bakegen to 127.0.0.1:5000/bakegen/..., so neither
side's tags move the other's bases. Sizes are read from the registry's HTTP API (layers + config,
compressed) after the last round.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
import harness  # noqa: E402  (tests/harness.py)

SEED = REPO / "benchmarks" / "seed"
GIT_ID = ["-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "-c", "commit.gpgsign=false"]


class BuildFailed(RuntimeError):
    pass


def run(cmd: list[str], cwd: Path, env: dict[str, str], log: Path) -> float:
    """Run CMD, its output to LOG; return the wall time in seconds."""
    start = time.monotonic()
    with log.open("ab") as out:
        out.write(f"\n$ (cd {cwd} && {' '.join(cmd)})\n".encode())
        out.flush()
        proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-25:]
        raise BuildFailed(f"{' '.join(cmd)} (in {cwd}) exited {proc.returncode}; log {log}:\n" + "\n".join(tail))
    return elapsed


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *GIT_ID, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def git_repo(path: Path, branch: str) -> None:
    git(path, "init", "-q", "-b", branch)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "bench: initial")


def edit_app(app_dir: Path, label: str) -> None:
    """A one-line change in the app's main package, committed (as a CI build sees it)."""
    main = app_dir / "main.go"
    lines = main.read_text().splitlines()
    line = f'var benchEdit = "{label}"'
    if lines and lines[-1].startswith("var benchEdit = "):
        lines[-1] = line
    else:
        lines += ["", line]
    main.write_text("\n".join(lines) + "\n")
    git(app_dir, "commit", "-q", "-am", f"bench: {label}")


def bakegen_command() -> list[str]:
    for candidate in (REPO / ".venv" / "bin" / "bakegen", Path(sys.executable).parent / "bakegen"):
        if candidate.exists():
            return [str(candidate)]
    found = shutil.which("bakegen")
    if found:
        return [found]
    return [sys.executable, "-m", "bakegen"]


class Bench:
    def __init__(self, facts: dict[str, str], work: Path, platforms: list[str]) -> None:
        self.facts = facts
        self.work = work
        self.builder = facts["BUILDER"]
        self.logs = work / "logs"
        self.logs.mkdir(parents=True)
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("BAKEGEN_") and k != "REGISTRY"}
        base_env["BUILDX_BUILDER"] = self.builder
        base_env["BUILDKIT_PROGRESS"] = "plain"
        base_env.pop("SOURCE_DATE_EPOCH", None)
        self.registry = facts["REGISTRY"]

        # ---- the seed side ----
        self.seed = work / "seed"
        shutil.copytree(SEED / "common", self.seed / "common")
        self.seed_app = self.seed / "ci-demo-go"
        shutil.copytree(REPO / "examples" / "repos" / "ci-demo-go", self.seed_app,
                        ignore=shutil.ignore_patterns("bake", "docker-bake.hcl"))
        for name in ("Dockerfile", "build-app.sh"):
            shutil.copy2(SEED / "ci-demo-go" / name, self.seed_app / name)
        minor = ".".join(facts["GO_VERSION"].split(".")[:2])
        dockerfile = self.seed_app / "Dockerfile"
        text = dockerfile.read_text()
        if f"/seed/common/tools/golang:{minor} " not in text:  # the harness serves another Go line
            text = re.sub(r"(/seed/common/tools/golang:)[0-9.]+ ", rf"\g<1>{minor} ", text)
            dockerfile.write_text(text)
        git_repo(self.seed_app, "master")
        self.seed_env = dict(base_env)
        for key in ("GO_VERSION", "GO_DOWNLOAD_URL", "GO_SHA256_LINUX_AMD64", "GO_SHA256_LINUX_ARM64"):
            self.seed_env[key] = facts[key]

        # ---- the bakegen side ----
        self.bg = work / "bakegen"
        shutil.copytree(REPO / "bake", self.bg / "bake")
        shutil.copytree(REPO / "examples", self.bg / "examples")
        shutil.copy2(REPO / "Makefile", self.bg / "Makefile")
        self.bg_registry = f"{self.registry}/bakegen"
        self.changes = harness.adapt_definitions(
            self.bg / "bake", facts, registry=self.bg_registry, platforms=platforms
        )
        (self.bg / ".gitignore").write_text("/.bakegen/\n")
        git_repo(self.bg, "master")
        self.bg_env = dict(base_env)
        self.bakegen = bakegen_command()
        self.edits = 0

    # -- the two ways to build --
    def seed_all(self, log: Path) -> float:
        t = run(["./build.sh"], self.seed / "common/tools/golang", self.seed_env, log)
        t += run(["./build.sh"], self.seed / "common/runtime/golang", self.seed_env, log)
        t += run(["./build-app.sh", "dev", "ci-demo-go"], self.seed_app, self.seed_env, log)
        return t

    def seed_app_only(self, log: Path) -> float:
        return run(["./build-app.sh", "dev", "ci-demo-go"], self.seed_app, self.seed_env, log)

    def bakegen_all(self, log: Path) -> float:
        """`make bake BAKE_ARGS=--push`, as the README writes it (bakegen from this checkout's venv)."""
        return run(["make", "bake", "BAKE_ARGS=--push", f"BAKEGEN={' '.join(self.bakegen)}", "BAKEGEN_DEP="],
                   self.bg, self.bg_env, log)

    def bakegen_app_only(self, log: Path) -> float:
        """`make bake-apps ENV=dev BAKE_ARGS=--push`: the daily path, as the README writes it."""
        return run(["make", "bake-apps", "ENV=dev", "BAKE_ARGS=--push", f"BAKEGEN={' '.join(self.bakegen)}",
                    "BAKEGEN_DEP="], self.bg, self.bg_env, log)

    def prune(self, log: Path) -> None:
        run(["docker", "buildx", "prune", "-af", "--builder", self.builder], self.work, self.bg_env, log)

    def edit(self, side: str, rnd: int) -> None:
        self.edits += 1
        app = self.seed_app if side == "seed" else self.bg / "examples" / "repos" / "ci-demo-go"
        edit_app(app, f"{side}-{rnd}-{self.edits}")

    # -- one side's round --
    def round(self, side: str, rnd: int, results: dict[str, list[float]]) -> None:
        log = self.logs / f"{side}-round{rnd}.log"
        build = self.seed_all if side == "seed" else self.bakegen_all
        self.prune(log)
        t = build(log)
        results[f"{side}:cold"].append(t)
        print(f"  round {rnd + 1} {side:8s} cold              {t:7.2f} s", flush=True)
        t = build(log)
        results[f"{side}:nochange"].append(t)
        print(f"  round {rnd + 1} {side:8s} nothing changed   {t:7.2f} s", flush=True)
        self.edit(side, rnd)
        t = build(log)
        results[f"{side}:change"].append(t)
        print(f"  round {rnd + 1} {side:8s} app change        {t:7.2f} s", flush=True)
        self.edit(side, rnd)
        t = self.seed_app_only(log) if side == "seed" else self.bakegen_app_only(log)
        results[f"{side}:app-only"].append(t)
        print(f"  round {rnd + 1} {side:8s} app alone         {t:7.2f} s", flush=True)

    # -- sizes from the registry --
    def images(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        version = self.facts["GO_VERSION"]
        reg = self.registry
        out.append(("base (harness)", self.facts["BASE_IMAGE_DEFAULT"] if "BASE_IMAGE_DEFAULT" in self.facts else self.facts["BASE_IMAGE"].replace("{suite}", "bullseye")))
        out.append(("seed toolchain", f"{reg}/seed/common/tools/golang:{version}"))
        out.append(("seed runtime", f"{reg}/seed/common/runtime/golang:debian11"))
        sha = git(self.seed_app, "rev-parse", "--short", "HEAD")
        tags = _registry_tags(reg, "seed/dev/ci-demo-go")
        mine = sorted(t for t in tags if f"-{sha}-" in t)
        if mine:
            out.append(("seed app", f"{reg}/seed/dev/ci-demo-go:{mine[-1]}"))
        printed = subprocess.run(
            ["docker", "buildx", "bake", "-f", "docker-bake.hcl", "-f", ".bakegen/meta.hcl", "--print"],
            cwd=self.bg,
            env=self.bg_env,
            capture_output=True,
            text=True,
            check=True,
        )
        targets: dict[str, Any] = json.loads(printed.stdout).get("target", {})
        for name in sorted(targets):
            tags_ = targets[name].get("tags") or []
            if tags_:
                out.append((f"bakegen {name}", tags_[0]))
        return out


def _registry_tags(registry: str, repo: str) -> list[str]:
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://{registry}/v2/{repo}/tags/list", timeout=10) as resp:
            return list(json.loads(resp.read()).get("tags") or [])
    except OSError:
        return []


def fmt(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):7.2f} ({min(values):.2f}-{max(values):.2f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--platforms",
        default="linux/amd64",
        help="platforms of bakegen's images (bakegen.hcl `platforms`); the seed's scripts build the builder's own",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, copies)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    facts = harness.load_facts()
    if facts is None:
        print("bench_build: the harness is not up: run scripts/buildkit-harness up", file=sys.stderr)
        return 2
    platforms = [p.strip() for p in args.platforms.split(",") if p.strip()]
    work = Path(tempfile.mkdtemp(prefix="bench-build-"))
    bench = Bench(facts, work, platforms)
    print(f"bench_build: builder {bench.builder}, {args.rounds} rounds, bakegen platforms {platforms}, work {work}")
    print("bakegen definitions adapted (copy of the working tree's bake/):")
    for change in bench.changes:
        print(f"  - {change}")
    results: dict[str, list[float]] = {
        k: [] for k in ("seed:cold", "seed:nochange", "seed:change", "seed:app-only", "bakegen:cold", "bakegen:nochange", "bakegen:change",
                  "bakegen:app-only")
    }
    started = time.monotonic()
    try:
        for rnd in range(args.rounds):
            order = ("seed", "bakegen") if rnd % 2 == 0 else ("bakegen", "seed")
            for side in order:
                bench.round(side, rnd, results)
        sizes = []
        for label, ref in bench.images():
            try:
                sizes.append((label, ref, harness.image_size(ref)))
            except OSError as exc:
                sizes.append((label, ref, {"error": {"compressed": 0, "layers": 0, "digest": str(exc)}}))
    except BuildFailed as exc:
        print(f"bench_build: build failed: {exc}", file=sys.stderr)
        print(f"bench_build: work folder kept: {work}", file=sys.stderr)
        return 1

    def ratio(a: str, b: str) -> str:
        if not results[a] or not results[b]:
            return "-"
        return f"{statistics.median(results[a]) / statistics.median(results[b]):.2f}x"

    print()
    print(f"Build time, seconds: median (min-max) of {args.rounds} rounds; total run {time.monotonic() - started:.0f} s")
    print(f"{'scenario':44s} {'seed scripts':>22s} {'bakegen (make bake)':>22s} {'bakegen/seed':>12s}")
    rows = [
        ("cold (build cache pruned)", "seed:cold", "bakegen:cold"),
        ("nothing changed (new meta file)", "seed:nochange", "bakegen:nochange"),
        ("one-line app change (seed: all 3 scripts)", "seed:change", "bakegen:change"),
        ("one-line app change (seed: app script alone)", "seed:app-only", "bakegen:change"),
        ("one-line app change, the app alone", "seed:app-only", "bakegen:app-only"),
    ]
    for label, s, b in rows:
        print(f"{label:44s} {fmt(results[s]):>22s} {fmt(results[b]):>22s} {ratio(b, s):>12s}")
    print()
    print("Compressed sizes in the registry (layers + config):")
    for label, ref, by_platform in sizes:
        for plat, info in sorted(by_platform.items()):
            mb = info["compressed"] / 1e6
            print(f"  {label:32s} {plat:12s} {mb:9.2f} MB  {info['layers']:2d} layers  {ref}")
    if args.json:
        args.json.write_text(json.dumps({"results": results, "sizes": sizes, "changes": bench.changes}, indent=2))
    if args.keep:
        print(f"work folder kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
