#!/usr/bin/env python3
"""Build speed: the seed's scripts against bakegen, as a team builds, on real BuildKit (issue 17).
Needs the harness: `scripts/buildkit-harness up`.

    python benchmarks/bench_build.py [--rounds N] [--keep] [--json FILE]

The seed's layout on both sides: a base-images repository (the toolchain and the runtime) and a
service repository (ci-demo-go) built FROM the pushed bases. The seed side is benchmarks/seed/ (its
three scripts, adapted only as the harness needs: see its README); the bakegen side is two
repositories written by `bakegen init` (definitions pointed at the harness's Debian and Go, as
tests/harness.py:adapt_definitions does), built by the commands the README gives:

  warm builder (the daily path: `bakegen bake apps-dev --push` against `./build-app.sh dev`)
    cold             build cache pruned, a full build (bakegen: --rebuild, nothing reused; it reads
                     the registry cache CI wrote, as `bakegen bake` does by default)
    nothing changed  a new commit that changes no input
    one-line change  one line of the app changed and committed
  CI runner (the build cache pruned before every run, the registry kept; bakegen runs what
  examples/ci/gitlab-ci.yml runs, `bakegen bake --ci --cache --push`, on a branch: the dev env;
  before the rounds, the service's main pipeline ran once, as a team's has: a branch's first job
  starts from main's registry cache)
    nothing changed  a new commit that changes no input
    one-line change  one line of the app changed and committed
    base changed     the runtime's Dockerfile changed: seed `build.sh` of the runtime then
                     `build-app.sh dev`; bakegen the base-images pipeline then the service's

One builder (the harness's BUILDER), interleaved rounds (the side that goes first alternates),
everything pushed as each side pushes it (127.0.0.1:5000/seed/..., .../bench-<id>/...). bakegen
runs as a user's does: from this checkout's venv, with its compiled bytecode.
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
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
import harness  # noqa: E402  (tests/harness.py)

SEED = REPO / "benchmarks" / "seed"
GIT_ID = ["-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "-c", "commit.gpgsign=false"]
CI_BRANCH = "feature/bench"


class BuildFailed(RuntimeError):
    pass


def run(cmd: list[str], cwd: Path, env: dict[str, str], log: Path) -> float:
    """Run CMD, its output to LOG; the wall time in seconds."""
    start = time.monotonic()
    with log.open("ab") as out:
        out.write(f"\n$ (cd {cwd} && {' '.join(cmd)})\n".encode())
        out.flush()
        proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    elapsed = time.monotonic() - start
    with log.open("ab") as out:
        out.write(f"# {elapsed:.2f} s, exit {proc.returncode}\n".encode())
    if proc.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-30:]
        raise BuildFailed(f"{' '.join(cmd)} (in {cwd}) exited {proc.returncode}; log {log}:\n" + "\n".join(tail))
    return elapsed


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *GIT_ID, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def commit(path: Path, message: str) -> None:
    git(path, "add", "-A")
    git(path, "commit", "-q", "--allow-empty", "-m", message)


def edit_app(app_dir: Path, label: str) -> None:
    """A one-line change in the app's main package, committed (as a build sees it)."""
    main = app_dir / "main.go"
    lines = main.read_text().splitlines()
    line = f'var benchEdit = "{label}"'
    if lines and lines[-1].startswith("var benchEdit = "):
        lines[-1] = line
    else:
        lines += ["", line]
    main.write_text("\n".join(lines) + "\n")
    commit(app_dir, f"bench: {label}")


def bakegen_bin() -> str:
    for candidate in (REPO / ".venv" / "bin" / "bakegen", Path(sys.executable).parent / "bakegen"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("bakegen")
    if not found:
        raise SystemExit("bench_build: no bakegen: make install")
    return found


class Bench:
    def __init__(self, facts: dict[str, str], work: Path) -> None:
        self.facts, self.work = facts, work
        self.builder = facts["BUILDER"]
        self.logs = work / "logs"
        self.logs.mkdir(parents=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BAKEGEN_", "CI_", "GITHUB_"))}
        env.pop("REGISTRY", None)
        env.pop("SOURCE_DATE_EPOCH", None)
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as on a user's machine: bytecode is cached
        env.update(BUILDX_BUILDER=self.builder, BUILDKIT_PROGRESS="plain")
        self.env = env
        self.minor = ".".join(facts["GO_VERSION"].split(".")[:2])

        # ---- the seed side: its three folders, the app in a git repository of its own ----
        self.seed = work / "seed"
        shutil.copytree(SEED / "common", self.seed / "common")
        self.seed_app = self.seed / "ci-demo-go"
        shutil.copytree(REPO / "examples" / "repos" / "ci-demo-go", self.seed_app,
                        ignore=shutil.ignore_patterns("bake", "docker-bake.hcl", ".gitignore", ".dockerignore"))
        for name in ("Dockerfile", "build-app.sh"):
            shutil.copy2(SEED / "ci-demo-go" / name, self.seed_app / name)
        dockerfile = self.seed_app / "Dockerfile"
        dockerfile.write_text(re.sub(r"(/seed/common/tools/golang:)[0-9.]+ ", rf"\g<1>{self.minor} ",
                                     dockerfile.read_text()))
        git(self.seed_app, "init", "-q", "-b", "master")
        commit(self.seed_app, "bench: initial")
        self.seed_env = {**env, **{k: facts[k] for k in ("GO_VERSION", "GO_DOWNLOAD_URL", "GO_SHA256_LINUX_AMD64",
                                                          "GO_SHA256_LINUX_ARM64")}}

        # ---- the bakegen side: a base-images and a service repository, as init writes them ----
        self.bakegen = bakegen_bin()
        self.namespace = f"{facts['REGISTRY']}/bench-{uuid.uuid4().hex[:8]}"
        self.base = work / "base-images"
        self.base.mkdir()
        git(self.base, "init", "-q", "-b", "main")
        self.init(self.base, "init", "--registry", self.namespace)
        self.changes = harness.adapt_definitions(self.base / "bake", facts, registry=self.namespace,
                                                 platforms=["linux/amd64"])
        for image in (self.base / "bake").glob("*/image.hcl"):  # the seed's Debian: bullseye
            image.write_text(re.sub(r'variants( *)= \[[^]]*\]', r'variants\1= ["bullseye"]', image.read_text()))
        self.init(self.base, "-o", "docker-bake.hcl")
        commit(self.base, "base images")
        self.svc = work / "ci-demo-go"
        shutil.copytree(REPO / "examples" / "repos" / "ci-demo-go", self.svc,
                        ignore=shutil.ignore_patterns("bake", "docker-bake.hcl", ".gitignore"))
        git(self.svc, "init", "-q", "-b", "main")
        self.init(self.svc, "init", "--app", "ci-demo-go", "--registry", self.namespace, "--go-version", self.minor)
        settings = self.svc / "bake" / "bakegen.hcl"
        settings.write_text(settings.read_text().replace('["linux/amd64", "linux/arm64"]', '["linux/amd64"]'))
        image = self.svc / "bake" / "ci-demo-go" / "image.hcl"
        image.write_text(re.sub(r"golang:debian[0-9]+", "golang:debian11", image.read_text()))
        self.init(self.svc, "-o", "docker-bake.hcl")
        commit(self.svc, "ci-demo-go, built by bakegen")
        git(self.svc, "checkout", "-q", "-b", CI_BRANCH)
        self.ci_env = {**env, "CI": "true", "GITLAB_CI": "true", "CI_COMMIT_REF_NAME": CI_BRANCH,
                       "CI_COMMIT_BRANCH": CI_BRANCH, "CI_DEFAULT_BRANCH": "main"}
        self.edits = 0

    def init(self, cwd: Path, *args: str) -> None:
        run([self.bakegen, *args], cwd, self.env, self.logs / "setup.log")

    # -- what each side runs --
    def prune(self) -> None:
        run(["docker", "buildx", "prune", "-af", "--builder", self.builder], self.work, self.env,
            self.logs / "prune.log")

    def seed_bases(self, log: Path) -> float:
        t = run(["./build.sh"], self.seed / "common/tools/golang", self.seed_env, log)
        return t + run(["./build.sh"], self.seed / "common/runtime/golang", self.seed_env, log)

    def seed_app_build(self, log: Path) -> float:
        return run(["./build-app.sh", "dev", "ci-demo-go"], self.seed_app, self.seed_env, log)

    def bakegen_bases(self, log: Path, ci: bool = False) -> float:
        args = ["bake", "--ci", "--cache", "--push"] if ci else ["bake", "--push"]
        env = {**self.ci_env, "CI_COMMIT_REF_NAME": "main", "CI_COMMIT_BRANCH": "main"} if ci else self.env
        return run([self.bakegen, *args], self.base, env, log)

    def bakegen_app(self, log: Path, *extra: str) -> float:
        return run([self.bakegen, "bake", "apps-dev", "--push", *extra], self.svc, self.env, log)

    def bakegen_ci(self, log: Path) -> float:
        """What examples/ci/gitlab-ci.yml runs, on a branch (its dev env)."""
        return run([self.bakegen, "bake", "--ci", "--cache", "--push", "--metadata-file", ".bakegen/digests.json"],
                   self.svc, self.ci_env, log)

    def bakegen_ci_main(self, log: Path) -> float:
        """The service's pipeline on main, as a team's has run before any branch: every env
        pushed, and main's registry cache, which a new branch's first job starts from."""
        git(self.svc, "checkout", "-q", "main")
        try:
            env = {**self.ci_env, "CI_COMMIT_REF_NAME": "main", "CI_COMMIT_BRANCH": "main"}
            return run([self.bakegen, "bake", "--ci", "--cache", "--push"], self.svc, env, log)
        finally:
            git(self.svc, "checkout", "-q", CI_BRANCH)

    def edit(self, side: str, rnd: int, what: str) -> None:
        self.edits += 1
        edit_app(self.seed_app if side == "seed" else self.svc, f"{side}-{rnd}-{what}-{self.edits}")

    def change_base(self, side: str) -> None:
        """One line more in the runtime's Dockerfile, committed where the side keeps it."""
        self.edits += 1
        folder = self.seed / "common/runtime/golang" if side == "seed" else self.base / "bake/golang-runtime"
        dockerfile = folder / "Dockerfile"
        dockerfile.write_text(dockerfile.read_text() + f"\nLABEL bench.change={self.edits}\n")
        if side == "bakegen":
            self.init(self.base, "-o", "docker-bake.hcl")
            commit(self.base, "bench: the runtime changes")

    # -- one side's round --
    def round(self, side: str, rnd: int, results: dict[str, list[float]]) -> None:
        log = self.logs / f"{side}-round{rnd}.log"
        seed = side == "seed"

        def record(name: str, seconds: float) -> None:
            results[f"{side}:{name}"].append(seconds)
            print(f"  round {rnd + 1} {side:8s} {name:22s} {seconds:7.2f} s", flush=True)

        # warm builder, the daily path
        self.prune()
        record("cold", self.seed_app_build(log) if seed else self.bakegen_app(log, "--rebuild"))
        commit(self.seed_app if seed else self.svc, "bench: nothing changed")
        record("nothing", self.seed_app_build(log) if seed else self.bakegen_app(log))
        self.edit(side, rnd, "warm")
        record("change", self.seed_app_build(log) if seed else self.bakegen_app(log))
        # the CI runner: an empty build cache every run, the registry kept
        self.prune()
        commit(self.seed_app if seed else self.svc, "bench: nothing changed (CI)")
        record("ci-nothing", self.seed_app_build(log) if seed else self.bakegen_ci(log))
        self.prune()
        self.edit(side, rnd, "ci")
        record("ci-change", self.seed_app_build(log) if seed else self.bakegen_ci(log))
        self.prune()
        self.change_base(side)
        if seed:
            t = run(["./build.sh"], self.seed / "common/runtime/golang", self.seed_env, log) + self.seed_app_build(log)
        else:
            t = self.bakegen_bases(log, ci=True)
            self.prune()  # the service's pipeline runs on another empty runner
            t += self.bakegen_ci(log)
        record("ci-base", t)


def fmt(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):7.2f} ({min(values):.2f}-{max(values):.2f})"


ROWS = [
    ("warm builder: cold (cache pruned)", "cold", 0.8),
    ("warm builder: nothing changed", "nothing", 0.5),
    ("warm builder: one-line app change", "change", 0.8),
    ("CI runner: nothing changed", "ci-nothing", 0.1),
    ("CI runner: one-line app change", "ci-change", 0.35),
    ("CI runner: base changed (base + app)", "ci-base", None),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, repositories)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    facts = harness.load_facts()
    if facts is None:
        print("bench_build: the harness is not up: run scripts/buildkit-harness up", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="bench-build-"))
    bench = Bench(facts, work)
    print(f"bench_build: builder {bench.builder}, {args.rounds} rounds, linux/amd64, Debian bullseye, work {work}")
    print("bakegen's base-images definitions, adapted to the harness:")
    for change in bench.changes:
        print(f"  - {change}")
    results: dict[str, list[float]] = {f"{side}:{key}": [] for side in ("seed", "bakegen") for _, key, _ in ROWS}
    started = time.monotonic()
    try:
        print("the bases, pushed once by each side (not timed as a scenario)")
        bench.prune()
        print(f"  seed     {bench.seed_bases(bench.logs / 'seed-bases.log'):7.2f} s")
        print(f"  bakegen  {bench.bakegen_bases(bench.logs / 'bakegen-bases.log'):7.2f} s")
        print("the service's main branch, built once by each side (the seed: build-app.sh dev; bakegen: the CI "
              "recipe's command on main, every env, its registry cache)")
        print(f"  seed     {bench.seed_app_build(bench.logs / 'seed-app-main.log'):7.2f} s")
        print(f"  bakegen  {bench.bakegen_ci_main(bench.logs / 'bakegen-app-main.log'):7.2f} s")
        for rnd in range(args.rounds):
            for side in ("seed", "bakegen") if rnd % 2 == 0 else ("bakegen", "seed"):
                bench.round(side, rnd, results)
    except BuildFailed as exc:
        print(f"bench_build: build failed: {exc}\nwork folder kept: {work}", file=sys.stderr)
        return 1
    print(f"\nBuild time, seconds: median (min-max) of {args.rounds} rounds; total run {time.monotonic() - started:.0f} s")
    print(f"{'scenario':40s} {'seed scripts':>22s} {'bakegen':>22s} {'bakegen/seed':>12s} {'goal':>6s}")
    for label, key, goal in ROWS:
        s, b = results[f"seed:{key}"], results[f"bakegen:{key}"]
        ratio = f"{statistics.median(b) / statistics.median(s):.2f}x" if s and b else "-"
        print(f"{label:40s} {fmt(s):>22s} {fmt(b):>22s} {ratio:>12s} {f'{goal}x' if goal else '':>6s}")
    if args.json:
        args.json.write_text(json.dumps({"results": results, "changes": bench.changes}, indent=2))
    if args.keep:
        print(f"work folder kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
