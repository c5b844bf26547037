#!/usr/bin/env python3
"""Build speed: the seed's scripts against bakegen, in the sequences a team lives through, on real
BuildKit (issues 17, 23). Needs the harness: `scripts/buildkit-harness up`.

    python benchmarks/bench_build.py [--rounds N] [--take-apart N] [--keep] [--json FILE]

The seed's layout on both sides: a base-images repository (the toolchain and the runtime) and a
service repository built FROM the pushed bases. The seed side is benchmarks/seed/ (its three
scripts, adapted only as the harness needs: see its README); the bakegen side is repositories
written by `bakegen init` (definitions pointed at the harness's Debian and Go, as
tests/harness.py:adapt_definitions does), built by the commands a user runs: on a laptop (a warm
builder) `bakegen bake --push [apps-dev]`, in CI what examples/ci/gitlab-ci.yml runs,
`bakegen bake --ci --cache --push`, on an emptied builder (`docker buildx prune -af`: a runner
starts empty). The seed has no cache and no skip: each of its jobs builds and pushes, and on an
emptied builder pulls and compiles everything again; its CI jobs run on a detached HEAD, as a
runner checks out.

Each round, each side (the side that goes first alternates), on one builder:

  first build ever   emptied builder, no registry cache: the toolchain, the Debian runtime, the
                     app FROM the toolchain, the same images on both sides (seed: its two base
                     scripts then build-app.sh dev; bakegen: those two base targets then apps-dev,
                     --rebuild --no-cache-read, in repositories of their own:
                     a toolchain rebuilt from nothing has another digest, on which no cache matches)
  warm: nothing      a new commit that changes no input (bakegen bake --push apps-dev)
  warm: one line     one line of the app changed and committed
  CI: nothing        emptied builder, a new commit that changes no input, on a branch
  CI: one line       emptied builder, one line changed; the branch's previous job wrote its cache
  CI: base changed   the runtime's Dockerfile changed: its pipeline, then the service's (each on
                     an emptied builder)
  (1)  a new service: first push from a laptop without --cache (bakegen bake --push), main's CI
       job (emptied builder), then a feature branch's one-line change, CI job on an emptied
       builder: timed
  (2)  the same service, after the registry's cache-* tags were deleted (images kept): main's CI
       job, then a branch's one-line change on an emptied builder: timed
  (3)  a new service whose test env is built only from release/* branches (env_branches): main's
       CI job, then release/1.0's one-line change on an emptied builder, building test: timed
  (4)  a new two-app repository (the service and cmd/worker, `bakegen init --app worker`) after
       main's CI job: one line of the worker changed on a warm builder (laptop, apps-dev), then on
       an emptied builder (CI, a branch): both timed; the seed runs its script for the worker only

Every bakegen job is checked (bake's metadata, the plan lines, the log's `importing cache manifest
from`, the steps that ran): what was built, what was reused, which cache was imported, that only the
app's compile ran after an import; a broken sequence fails loudly. The builder is shared with other
processes: bakegen's definitions spell the harness's Debian mirror with its port, so none of its
toolchain's steps matches records another build left on it; what a prune cannot free, and steps
found cached on an emptied builder, are reported as warnings under the figures.

Then `--take-apart N` (default 5; 0: skip) takes the warm one-line change apart, N interleaved
runs of each: the seed's script; `bakegen bake --push apps-dev` (its own part timed to the
moment bake starts, through a `docker` wrapper on PATH that also keeps bake's files and arguments);
the exact `docker buildx bake` it ran; that without the registry cache import; that without the
key tag (one repository); the same build as a plain `docker buildx build`; and the seed's build
(its flags, its repository) on the generated Dockerfile. The differences of their medians say
where bakegen's extra seconds go; each run's phases come from when its output lines arrived.

Dev runs: `--rounds 1 --parts seq4 --sides bakegen --take-apart 0 --keep`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
import harness  # noqa: E402  (tests/harness.py)

SEED = REPO / "benchmarks" / "seed"
EXAMPLE = REPO / "examples" / "repos" / "ci-demo-go"
GIT_ID = ["-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "-c", "commit.gpgsign=false"]
CI_BRANCH = "feature/bench"
ENVS = ("dev", "prd", "test")  # the example service's envs (etc/app_<env>.yaml)
DEBIAN = {"bullseye": 11, "bookworm": 12, "trixie": 13}
WORKER_GO = 'package main\n\nimport "fmt"\n\nvar run = "{label}"\n\nfunc main() {{ fmt.Println("worker", run) }}\n'


class BuildFailed(RuntimeError):
    pass


class SequenceBroken(AssertionError):
    """A sequence did not do what it must (built, reused or imported the wrong thing)."""


@dataclass
class Job:
    seconds: float
    log: str
    doc: dict[str, Any] = field(default_factory=dict)  # bakegen's --metadata-file

    def built(self) -> set[str]:
        return {n for n, e in self.doc.items() if not e.get("bakegen.reused")}

    def reused(self) -> set[str]:
        return {n for n, e in self.doc.items() if e.get("bakegen.reused")}

    def plan(self, action: str) -> set[str]:
        """The targets of the plan's lines that say ACTION (build, reuse, skip or cache)."""
        return {m[1] for m in re.findall(r"^bakegen:   (build|reuse|skip|cache)  (\S+)", self.log, re.M)
                if m[0] == action}

    def imported(self) -> list[str]:
        """The registry caches bake imported (their tags)."""
        return sorted(r.rsplit(":", 1)[1] for r in re.findall(r"importing cache manifest from (\S+)", self.log))

    def cached_runs(self) -> int:
        """How many RUN steps were CACHED (on an emptied builder, with no registry cache read: none
        can be, unless another build put them there)."""
        runs = set(re.findall(r"^#(\d+) \[[^\]]*\] RUN ", self.log, re.M))
        done = set(re.findall(r"^#(\d+) DONE ", self.log, re.M))  # a step two targets share: CACHED for one
        return len(runs & set(re.findall(r"^#(\d+) CACHED$", self.log, re.M)) - done)

    def ran_steps(self) -> set[str]:
        """The Dockerfile steps bake ran (their commands printed; every RUN of the generated
        Dockerfile traces with ``set -x``): a step taken from a cache prints nothing of its own."""
        titles = dict(re.findall(r"^#(\d+) \[(?:[^\]]*?\s)?([a-z-]+ \d+/\d+)\]", self.log, re.M))
        return {titles[n] for n in re.findall(r"^#(\d+) \d+\.\d+ ", self.log, re.M) if n in titles}


WARNINGS: list[str] = []  # what may have made a figure too fast, or what a job left out: printed at the end


def check(job: Job, what: str, *, built: set[str] | None = None, reused: set[str] | None = None,
          imported: list[str] | None = None, restored: set[str] | None = None, compiled_only: bool = False) -> None:
    """Fail loudly when a bakegen job did not do what its sequence must."""
    problems = []
    if built is not None and built != job.built():
        problems.append(f"built {sorted(job.built())} (metadata), expected {sorted(built)}")
    if built is not None and built != job.plan("build"):
        problems.append(f"the plan builds {sorted(job.plan('build'))}, expected {sorted(built)}")
    if reused is not None and reused != job.reused():
        if job.reused() == reused - job.plan("cache"):  # the sequence did its work; the file misses entries
            WARNINGS.append(f"{what}: --metadata-file has no entry for {sorted(reused & job.plan('cache'))}, "
                            "reused (its tags point at its image) and its registry cache brought back")
        else:
            problems.append(f"reused {sorted(job.reused())} (metadata), expected {sorted(reused)}")
    if reused is not None and reused != job.plan("reuse"):
        problems.append(f"the plan reuses {sorted(job.plan('reuse'))}, expected {sorted(reused)}")
    if restored is not None and restored != job.plan("cache"):
        problems.append(f"cache-only builds {sorted(job.plan('cache'))}, expected {sorted(restored)}")
    if imported is not None and job.imported() != sorted(imported):
        problems.append(f"imported {job.imported()}, expected {sorted(imported)}")
    if compiled_only and any(not step.startswith("builder ") for step in job.ran_steps()):
        problems.append(f"ran steps {sorted(job.ran_steps())}: the modules or the dependencies were not "
                        "taken from the registry cache")
    if problems:
        plan_lines = "\n".join(line for line in job.log.splitlines() if line.startswith("bakegen:"))
        raise SequenceBroken(f"{what}: " + "; ".join(problems) + f"\n{plan_lines}")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *GIT_ID, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def commit(path: Path, message: str) -> None:
    git(path, "add", "-A")
    git(path, "commit", "-q", "--allow-empty", "-m", message)


def edit(file: Path, label: str) -> None:
    """A one-line change in a Go file of a main package, committed (as a build sees it)."""
    lines = file.read_text().splitlines()
    name = "benchEdit_" + re.sub(r"\W", "_", file.stem)  # one per file: two edited files of a package compile
    line = f'var {name} = "{label}"'
    if lines and lines[-1].startswith(f"var {name} = "):
        lines[-1] = line
    else:
        lines += ["", line]
    file.write_text("\n".join(lines) + "\n")
    repo = Path(git(file.parent, "rev-parse", "--show-toplevel"))
    commit(repo, f"bench: {label}")


def bakegen_bin() -> str:
    for candidate in (REPO / ".venv" / "bin" / "bakegen", Path(sys.executable).parent / "bakegen"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("bakegen")
    if not found:
        raise SystemExit("bench_build: no bakegen: make install")
    return found


def harness_suite(facts: dict[str, str]) -> str:
    """The Debian suite the harness has a base of: the seed's bullseye when there, else the first."""
    suites = [s for s in re.split(r"[ ,]+", facts.get("BASE_SUITES", "bullseye")) if s]
    return "bullseye" if "bullseye" in suites else suites[0]


class Bench:
    def __init__(self, facts: dict[str, str], work: Path) -> None:
        self.facts, self.work = facts, work
        self.builder = facts["BUILDER"]
        self.logs = work / "logs"
        self.logs.mkdir(parents=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BAKEGEN_", "CI_", "GITHUB_", "GITLAB_"))}
        for name in ("REGISTRY", "SOURCE_DATE_EPOCH", "CI", "PYTHONDONTWRITEBYTECODE"):  # bytecode cached, as a user's
            env.pop(name, None)
        env.update(BUILDX_BUILDER=self.builder, BUILDKIT_PROGRESS="plain")
        self.env = env
        self.minor = ".".join(facts["GO_VERSION"].split(".")[:2])
        self.suite = harness_suite(facts)
        self.debian = DEBIAN[self.suite]
        self.seed_changes: list[str] = []
        self.warnings = WARNINGS
        self.held: float | None = None  # MB the builder holds after a prune, at the first prune
        self.edits = 0
        self.bakegen = bakegen_bin()
        self.namespace = f"{facts['REGISTRY']}/bench-{uuid.uuid4().hex[:8]}"
        self.meta_file = work / "metadata.json"

        # ---- the seed side: its three folders; the app in a git repository of its own ----
        self.seed = work / "seed"
        shutil.copytree(SEED / "common", self.seed / "common")
        if self.suite != "bullseye":  # the harness has no bullseye base: the seed's Debian is the harness's
            for rel in ("tools/golang/Dockerfile", "runtime/golang/Dockerfile", "tools/golang/build.sh",
                        "runtime/golang/build.sh"):
                path = self.seed / "common" / rel
                path.write_text(path.read_text().replace("debian:bullseye-slim", f"debian:{self.suite}-slim")
                                .replace("debian11", f"debian{self.debian}"))
            self.seed_changes.append(f"common/*: debian:bullseye-slim -> debian:{self.suite}-slim, the tag "
                                     f"debian11 -> debian{self.debian} (the harness's only Debian base)")
        self.seed_app = self.seed_repo(work / "seed-apps" / "ci-demo-go")
        self.seed_env = {**env, **{k: facts[k] for k in ("GO_VERSION", "GO_DOWNLOAD_URL", "GO_SHA256_LINUX_AMD64",
                                                          "GO_SHA256_LINUX_ARM64")}}

        # ---- the bakegen side: a base-images repository, as init writes it ----
        self.changes: list[str] = []
        self.base = self.base_repo(work / "base-images", self.namespace)
        # the service of the warm and CI rows, on its feature branch
        self.svc = self.service(work / "ci-demo-go", "ci-demo-go")
        git(self.svc, "checkout", "-q", "-b", CI_BRANCH)

    def setup(self, sides: list[str]) -> None:
        """Before the rounds: the bases pushed by each side (bakegen: main's CI job, which writes their
        registry caches); the service's main pipeline and a first job on its branch."""
        print("set-up (not timed as a scenario): the bases, pushed by each side; the service's main pipeline and "
              "a first job on its branch (bakegen: the CI recipe's command, which writes the caches)")
        self.prune()
        if "seed" in sides:
            t = self.seed_tools(self.logs / "seed-setup.log") + self.seed_runtime(self.logs / "seed-setup.log")
            print(f"  seed     {t:7.2f} s  bases")
        job = self.ci_main(self.base, self.logs / "bakegen-setup.log")  # its registry caches too
        check(job, "set-up, bases", built={"golang-tools", "golang-build", "golang-runtime", "golang-runtime-static"})
        print(f"  bakegen  {job.seconds:7.2f} s  bases")
        if "seed" in sides:
            print(f"  seed     {self.seed_app_build(self.logs / 'seed-setup.log'):7.2f} s  service")
        job = self.ci_main(self.svc, self.logs / "bakegen-setup.log")
        check(job, "set-up, the service's main", built={f"ci-demo-go-{env}" for env in ENVS})
        edit(self.svc / "main.go", "set-up")
        job2 = self.ci(self.svc, self.logs / "bakegen-setup.log")
        check(job2, "set-up, the service's branch", built={"ci-demo-go-dev"}, imported=["cache-ci-demo-go-main"])
        print(f"  bakegen  {job.seconds:7.2f} s  service (main), {job2.seconds:.2f} s (its branch)")

    # -- repositories --
    def base_repo(self, path: Path, namespace: str) -> Path:
        """The base-images repository as `bakegen init` writes it, adapted to the harness, on main."""
        path.mkdir(parents=True)
        git(path, "init", "-q", "-b", "main")
        self.init(path, "init", "--registry", namespace)
        self.changes = harness.adapt_definitions(path / "bake", self.facts, registry=namespace,
                                                 platforms=["linux/amd64"])
        # The same mirror, spelled with its port: every RUN of the toolchain is keyed by it, so none
        # matches a record another process's build left held on the shared builder (a prune cannot
        # free what is held), and an emptied builder builds and pulls the toolchain as the seed's does.
        mirror = self.facts["DEBIAN_MIRROR"].rstrip("/")
        if re.fullmatch(r"https?://[^/:]+", mirror):
            mirror += ":443" if mirror.startswith("https") else ":80"
            settings = path / "bake" / "bakegen.hcl"
            settings.write_text(harness.set_attribute(settings.read_text(), "debian_mirror", harness.hcl_string(mirror)))
            self.changes.append(f"bakegen.hcl: debian_mirror = {mirror} (the same server: no RUN step matches "
                                "another build's records on the shared builder)")
        for image in (path / "bake").glob("*/image.hcl"):  # the seed's Debian (or the harness's)
            image.write_text(re.sub(r'variants( *)= \[[^]]*\]', rf'variants\1= ["{self.suite}"]', image.read_text()))
        self.changes.append(f"*/image.hcl: variants = [\"{self.suite}\"]")
        self.init(path, "-o", "docker-bake.hcl")
        commit(path, "base images")
        return path

    def seed_repo(self, path: Path, worker: str = "") -> Path:
        """The seed's app repository: the example service with the seed's Dockerfile and script (and,
        with a worker, cmd/worker and the seed's variant for it)."""
        shutil.copytree(EXAMPLE, path, ignore=shutil.ignore_patterns("bake", "docker-bake.hcl", ".gitignore",
                                                                     ".dockerignore"))
        names = ["Dockerfile", "build-app.sh"] + (["Dockerfile.worker", "build-worker.sh"] if worker else [])
        for name in names:
            shutil.copy2(SEED / "ci-demo-go" / name, path / name)
            if name.startswith("Dockerfile"):
                dockerfile = path / name
                text = re.sub(r"(/seed/common/tools/golang:)[0-9.]+ ", rf"\g<1>{self.minor} ", dockerfile.read_text())
                dockerfile.write_text(text.replace("runtime/golang:debian11", f"runtime/golang:debian{self.debian}"))
        if worker:
            (path / "cmd/worker").mkdir(parents=True)
            (path / "cmd/worker/main.go").write_text(WORKER_GO.format(label=worker))
        git(path, "init", "-q", "-b", "main")
        commit(path, "bench: initial")
        return path

    def service(self, path: Path, app: str, *, env_branches: str = "", worker: str = "",
                namespace: str = "", toolchain: bool = False) -> Path:
        """A service repository as `bakegen init --app` writes it (the example's source; linux/amd64,
        the harness's Debian runtime; FROM the compile image, or with ``toolchain`` FROM the full
        toolchain as the seed's app is), with a worker app beside it when asked, on main."""
        shutil.copytree(EXAMPLE, path, ignore=shutil.ignore_patterns("bake", "docker-bake.hcl", ".gitignore"))
        git(path, "init", "-q", "-b", "main")
        self.init(path, "init", "--app", app, "--registry", namespace or self.namespace, "--go-version", self.minor)
        settings = path / "bake" / "bakegen.hcl"
        settings.write_text(settings.read_text().replace('["linux/amd64", "linux/arm64"]', '["linux/amd64"]'))
        images = [path / "bake" / app / "image.hcl"]
        if env_branches:
            images[0].write_text(harness.set_attribute(images[0].read_text(), "env_branches", env_branches,
                                                       add_to_block=True))
        if worker:
            (path / "cmd/worker").mkdir(parents=True)
            (path / "cmd/worker/main.go").write_text(WORKER_GO.format(label=worker))
            self.init(path, "init", "--app", "worker", "--env", "dev", "--go-version", self.minor)
            images.append(path / "bake" / "worker" / "image.hcl")
        for image in images:
            text = re.sub(r"golang:debian[0-9]+", f"golang:debian{self.debian}", image.read_text())
            image.write_text(text.replace("common/tools/golang-build:", "common/tools/golang:") if toolchain else text)
        self.init(path, "-o", "docker-bake.hcl")
        commit(path, f"{app}, built by bakegen")
        return path

    def init(self, cwd: Path, *args: str) -> None:
        run([self.bakegen, *args], cwd, self.env, self.logs / "setup.log")

    # -- what each side runs --
    def prune(self, before: str = "") -> None:
        """Empty the builder's cache, as a runner starts. The builder is shared: what another build
        running on it holds cannot be pruned; that is noted (the figure after it may be too fast)."""
        run(["docker", "buildx", "prune", "-af", "--builder", self.builder], self.work, self.env,
            self.logs / "prune.log")
        du = subprocess.run(["docker", "buildx", "du", "--builder", self.builder], capture_output=True, text=True,
                            env=self.env, check=False).stdout
        m = re.search(r"^Total:\s*([0-9.]+)\s*([kMG]?B)", du, re.M)
        size = float(m[1]) * {"B": 1e-6, "kB": 1e-3, "MB": 1, "GB": 1e3}[m[2]] if m else 0.0
        if self.held is None:  # the first prune: what no prune frees (records another process left held)
            self.held = size
            if size > 10:
                print(f"bench_build: the builder holds {size:.0f} MB that a prune cannot free (records in use, or "
                      "left held by another process's build; `scripts/buildkit-harness down` and `up` free them)")
        elif size > self.held + 10:
            self.warnings.append(f"{before or 'a job'}: the builder still held {size - self.held:.0f} MB more "
                                 "after the prune (another build was running on it)")

    def seed_tools(self, log: Path) -> float:
        return run(["./build.sh"], self.seed / "common/tools/golang", self.seed_env, log)

    def seed_runtime(self, log: Path) -> float:
        return run(["./build.sh"], self.seed / "common/runtime/golang", self.seed_env, log)

    def seed_app_build(self, log: Path, *, env: str = "dev", app: str = "ci-demo-go", repo: Path | None = None,
                       ci: bool = False, script: str = "build-app.sh") -> float:
        """The seed's script; in CI on a detached HEAD, as a runner checks out (its tags then say HEAD)."""
        repo = repo or self.seed_app
        if ci:
            git(repo, "checkout", "-q", "--detach")
        try:
            return run([f"./{script}", env, app], repo, self.seed_env, log)
        finally:
            if ci:
                git(repo, "checkout", "-q", "-")

    def ci_env(self, branch: str) -> dict[str, str]:
        return {**self.env, "CI": "true", "GITLAB_CI": "true", "CI_COMMIT_REF_NAME": branch,
                "CI_COMMIT_BRANCH": branch, "CI_DEFAULT_BRANCH": "main", "CI_PIPELINE_SOURCE": "push"}

    def bakegen_run(self, repo: Path, log: Path, *args: str, ci: bool = False) -> Job:
        """`bakegen bake ARGS` in REPO (with --ci: on the branch checked out, as GitLab says it),
        its metadata read back."""
        self.meta_file.unlink(missing_ok=True)
        env = self.ci_env(git(repo, "branch", "--show-current")) if ci else self.env
        seconds, out = run_capture([self.bakegen, "bake", *args, "--metadata-file", str(self.meta_file)], repo,
                                   env, log)
        doc = json.loads(self.meta_file.read_text()) if self.meta_file.exists() else {}
        return Job(seconds, out, doc)

    def laptop(self, repo: Path, log: Path, *names: str, extra: tuple[str, ...] = ()) -> Job:
        return self.bakegen_run(repo, log, "--push", *extra, *names)

    def ci(self, repo: Path, log: Path) -> Job:
        """What examples/ci/gitlab-ci.yml runs (its --metadata-file aside: the benchmark's own)."""
        return self.bakegen_run(repo, log, "--ci", "--cache", "--push", ci=True)

    def ci_main(self, repo: Path, log: Path) -> Job:
        back = git(repo, "branch", "--show-current")
        git(repo, "checkout", "-q", "main")
        try:
            return self.ci(repo, log)
        finally:
            git(repo, "checkout", "-q", back)

    def label(self, side: str, rnd: int, what: str) -> str:
        self.edits += 1
        return f"{side}-{rnd}-{what}-{self.edits}"

    def change_base(self, side: str) -> None:
        """One line more in the runtime's Dockerfile, committed where the side keeps it."""
        self.edits += 1
        folder = self.seed / "common/runtime/golang" if side == "seed" else self.base / "bake/golang-runtime"
        dockerfile = folder / "Dockerfile"
        dockerfile.write_text(dockerfile.read_text() + f"\nLABEL bench.change={self.edits}\n")
        if side == "bakegen":
            self.init(self.base, "-o", "docker-bake.hcl")
            commit(self.base, "bench: the runtime changes")

    def cache_tags(self, repo: str) -> list[str]:
        return [t for t in registry_tags(self.namespace, repo) if t.startswith("cache-")]

    def delete_cache_tags(self, app: str) -> int:
        """What a retention rule does: the app's cache-* tags deleted from its -bakegen
        repositories through the registry API (manifests by digest), the images kept."""
        host, _, path = self.namespace.partition("/")
        deleted = 0
        for env in ENVS:
            repo = f"{env}/{app}-bakegen"
            for tag in self.cache_tags(repo):
                head = urllib.request.Request(f"http://{host}/v2/{path}/{repo}/manifests/{tag}", method="HEAD",
                                              headers={"Accept": harness.MANIFEST_TYPES})
                with urllib.request.urlopen(head, timeout=10) as r:
                    digest = r.headers["Docker-Content-Digest"]
                urllib.request.urlopen(urllib.request.Request(
                    f"http://{host}/v2/{path}/{repo}/manifests/{digest}", method="DELETE"), timeout=10).close()
                deleted += 1
        return deleted

    # -- one side's round --
    def round(self, side: str, rnd: int, results: dict[str, list[float]], parts: list[str]) -> None:
        r = Round(self, side, rnd, results)
        for part in parts:
            getattr(r, PARTS[part])()


class Round:
    """One side's round: every scenario, in order, each recorded or printed aside."""

    def __init__(self, bench: Bench, side: str, rnd: int, results: dict[str, list[float]]) -> None:
        self.b, self.side, self.rnd, self.results = bench, side, rnd, results
        self.seed = side == "seed"
        self.log = bench.logs / f"{side}-round{rnd + 1}.log"

    def record(self, name: str, seconds: float) -> None:
        self.results[f"{self.side}:{name}"].append(seconds)
        print(f"  round {self.rnd + 1} {self.side:8s} {name:12s} {seconds:7.2f} s", flush=True)

    def aside(self, name: str, seconds: float) -> None:
        print(f"  round {self.rnd + 1} {self.side:8s} {'':12s} {seconds:7.2f} s  ({name}, not timed)", flush=True)

    def label(self, what: str) -> str:
        return self.b.label(self.side, self.rnd, what)

    def at(self, what: str) -> str:
        return f"round {self.rnd + 1} {self.side} {what}"

    def app(self, what: str) -> str:
        """A new service's name, this round's and this side's own (its repositories start empty)."""
        return f"seq{self.rnd + 1}-{self.side[:1]}{what}"

    def seed_build(self, env: str = "dev", app: str = "ci-demo-go", **kw: Any) -> float:
        return self.b.seed_app_build(self.log, env=env, app=app, **kw)

    def first_and_warm(self) -> None:
        """First build ever (an emptied builder, no registry cache: the bases and the app), then the
        warm builder's daily path."""
        b, log = self.b, self.log
        if self.seed:
            b.prune(self.at("first"))
            self.record("first", b.seed_tools(log) + b.seed_runtime(log) + self.seed_build())
            commit(b.seed_app, "bench: nothing changed")
            self.record("nothing", self.seed_build())
            edit(b.seed_app / "main.go", self.label("warm"))
            self.record("change", self.seed_build())
            return
        # repositories of their own: rebuilt from nothing, a toolchain gets another digest, and every
        # registry cache made on the old one would miss
        namespace = f"{b.namespace}-first{self.rnd + 1}"
        base = b.base_repo(b.work / f"first{self.rnd + 1}" / "base-images", namespace)
        # the same images as the seed's: the toolchain, the Debian runtime, the app FROM the toolchain
        svc = b.service(b.work / f"first{self.rnd + 1}" / "ci-demo-go", "ci-demo-go", namespace=namespace,
                        toolchain=True)
        b.prune(self.at("first"))
        bases = b.laptop(base, log, "golang-tools", "golang-runtime", extra=("--rebuild", "--no-cache-read"))
        check(bases, "first build ever, bases", built={"golang-tools", "golang-runtime"}, imported=[])
        job = b.laptop(svc, log, "apps-dev", extra=("--rebuild", "--no-cache-read"))
        check(job, "first build ever, app", built={"ci-demo-go-dev"}, imported=[])
        if cached := bases.cached_runs() + job.cached_runs():
            b.warnings.append(f"{self.at('first')}: {cached} RUN steps were CACHED on the emptied builder (records a "
                              "prune did not free: its figure is too fast by their time)")
        self.record("first", bases.seconds + job.seconds)
        edit(b.svc / "main.go", self.label("warm-up"))  # the builder warm for this service, as the seed's is
        self.aside("warm-up: bakegen bake --push apps-dev", b.laptop(b.svc, log, "apps-dev").seconds)
        commit(b.svc, "bench: nothing changed")
        job = b.laptop(b.svc, log, "apps-dev")
        check(job, "warm, nothing changed", built=set(), reused={"ci-demo-go-dev"})
        self.record("nothing", job.seconds)
        edit(b.svc / "main.go", self.label("warm"))
        job = b.laptop(b.svc, log, "apps-dev")
        check(job, "warm, one-line change", built={"ci-demo-go-dev"},
              imported=["cache-ci-demo-go-feature-bench", "cache-ci-demo-go-main"])
        self.record("change", job.seconds)

    def ci_runner(self) -> None:
        """The CI runner: an emptied builder every job, the registry kept."""
        b, log = self.b, self.log
        b.prune(self.at("ci-nothing"))
        if self.seed:
            commit(b.seed_app, "bench: nothing changed (CI)")
            self.record("ci-nothing", self.seed_build(ci=True))
            b.prune(self.at("ci-change"))
            edit(b.seed_app / "main.go", self.label("ci"))
            self.record("ci-change", self.seed_build(ci=True))
            b.prune(self.at("ci-base"))
            b.change_base(self.side)
            t = b.seed_runtime(log)
            b.prune(self.at("ci-base"))  # the service's pipeline runs on another empty runner
            self.record("ci-base", t + self.seed_build(ci=True))
            return
        commit(b.svc, "bench: nothing changed (CI)")
        job = b.ci(b.svc, log)
        check(job, "CI, nothing changed", built=set(), reused={"ci-demo-go-dev"}, restored=set())
        self.record("ci-nothing", job.seconds)
        b.prune(self.at("ci-change"))
        edit(b.svc / "main.go", self.label("ci"))
        job = b.ci(b.svc, log)
        check(job, "CI, one-line change", built={"ci-demo-go-dev"},
              imported=["cache-ci-demo-go-feature-bench", "cache-ci-demo-go-main"], compiled_only=True)
        self.record("ci-change", job.seconds)
        b.prune(self.at("ci-base"))
        b.change_base(self.side)
        bases = b.ci_main(b.base, log)
        check(bases, "CI, base changed: the bases", built={"golang-runtime"},
              reused={"golang-tools", "golang-build", "golang-runtime-static"}, restored=set())
        b.prune(self.at("ci-base"))
        job = b.ci(b.svc, log)
        check(job, "CI, base changed: the app", built={"ci-demo-go-dev"})
        self.record("ci-base", bases.seconds + job.seconds)

    def sequences_1_2(self) -> None:
        """(1) a new service: a laptop's first push, main's CI job, a feature branch's first job;
        (2) the same service after a retention rule deleted its cache tags (images kept)."""
        b, log, app = self.b, self.log, self.app("")
        if self.seed:
            for env in ENVS:
                self.aside(f"(1) laptop push, build-app.sh {env}", self.seed_build(env, app))
            b.prune(self.at("(1) main"))
            self.aside("(1) main's CI job, every env", sum(self.seed_build(env, app, ci=True) for env in ENVS))
            b.prune(self.at("seq1"))
            git(b.seed_app, "checkout", "-q", "-b", f"feature/{app}")
            edit(b.seed_app / "handler.go", self.label("seq1"))
            self.record("seq1", self.seed_build("dev", app, ci=True))
            git(b.seed_app, "checkout", "-q", "main")
            commit(b.seed_app, "bench: docs only")
            b.prune(self.at("(2) main"))
            self.aside("(2) main's CI job, every env", sum(self.seed_build(env, app, ci=True) for env in ENVS))
            b.prune(self.at("seq2"))
            git(b.seed_app, "checkout", "-q", "-b", f"fix/{app}")
            edit(b.seed_app / "main.go", self.label("seq2"))
            self.record("seq2", self.seed_build("dev", app, ci=True))
            git(b.seed_app, "checkout", "-q", "main")
            return
        svc = b.service(b.work / f"svc-{app}", app)
        targets = {f"{app}-{env}" for env in ENVS}
        job = b.laptop(svc, log)
        check(job, "(1) laptop push", built=targets, restored=set())
        if b.cache_tags(f"dev/{app}-bakegen"):
            raise SequenceBroken(f"(1) a push without --cache wrote {b.cache_tags(f'dev/{app}-bakegen')}")
        self.aside("(1) laptop push, bakegen bake --push", job.seconds)
        b.prune(self.at("(1) main"))
        job = b.ci_main(svc, log)
        check(job, "(1) main's CI job", built=set(), reused=targets, restored={f"{app}-dev"})
        if f"cache-{app}-main" not in b.cache_tags(f"dev/{app}-bakegen"):
            raise SequenceBroken(f"(1) main's CI job did not write cache-{app}-main")
        self.aside("(1) main's CI job (a cache-only build)", job.seconds)
        b.prune(self.at("seq1"))
        git(svc, "checkout", "-q", "-b", "feature/one")
        edit(svc / "handler.go", self.label("seq1"))
        job = b.ci(svc, log)
        check(job, "(1) the feature branch's job", built={f"{app}-dev"}, imported=[f"cache-{app}-main"],
              compiled_only=True)
        self.record("seq1", job.seconds)

        if not b.delete_cache_tags(app) or b.cache_tags(f"dev/{app}-bakegen"):
            raise SequenceBroken(f"(2) the cache tags of {app} were not deleted")
        git(svc, "checkout", "-q", "main")
        commit(svc, "bench: docs only")
        b.prune(self.at("(2) main"))
        job = b.ci(svc, log)
        check(job, "(2) main's CI job", built=set(), reused=targets, restored={f"{app}-dev"})
        self.aside("(2) main's CI job (a cache-only build)", job.seconds)
        b.prune(self.at("seq2"))
        git(svc, "checkout", "-q", "-b", "fix/two")
        edit(svc / "main.go", self.label("seq2"))
        job = b.ci(svc, log)
        check(job, "(2) the branch's job", built={f"{app}-dev"}, imported=[f"cache-{app}-main"], compiled_only=True)
        self.record("seq2", job.seconds)

    def sequence_3(self) -> None:
        """(3) a branch building an env main never built (test, from release/* only)."""
        b, log, app = self.b, self.log, self.app("-qa")
        b.prune(self.at("(3) main"))
        if self.seed:
            self.aside("(3) main's CI job, dev and prd", sum(self.seed_build(env, app, ci=True) for env in ("dev", "prd")))
            b.prune(self.at("seq3"))
            git(b.seed_app, "checkout", "-q", "-b", f"release/{app}")
            edit(b.seed_app / "handler.go", self.label("seq3"))
            self.record("seq3", self.seed_build("test", app, ci=True))
            git(b.seed_app, "checkout", "-q", "main")
            return
        svc = b.service(b.work / f"svc-{app}", app,
                        env_branches='{ dev = ["main", "feature/*"], prd = ["main"], test = ["release/*"] }')
        job = b.ci(svc, log)
        check(job, "(3) main's CI job", built={f"{app}-dev", f"{app}-prd"}, imported=[])
        self.aside("(3) main's CI job, dev and prd", job.seconds)
        b.prune(self.at("seq3"))
        git(svc, "checkout", "-q", "-b", "release/1.0")
        edit(svc / "handler.go", self.label("seq3"))
        job = b.ci(svc, log)
        check(job, "(3) release/1.0's job", built={f"{app}-test"}, imported=[f"cache-{app}-main"], compiled_only=True)
        self.record("seq3", job.seconds)

    def sequence_4(self) -> None:
        """(4) two apps in one repository (the service, cmd/worker), after main's CI job: the worker
        changed, on a warm builder, then on an emptied one."""
        b, log, app = self.b, self.log, self.app("-two")
        worker = self.label("worker")  # this round's worker is new to the registry
        b.prune(self.at("(4) main"))
        if self.seed:
            repo = b.seed_repo(b.work / "seed-apps" / app, worker=worker)
            self.aside("(4) main's CI job, both apps", self.seed_build("dev", app, repo=repo, ci=True)
                       + self.seed_build("dev", "worker", repo=repo, ci=True, script="build-worker.sh"))
            edit(repo / "cmd/worker/main.go", self.label("seq4-warm"))
            self.record("seq4-warm", self.seed_build("dev", "worker", repo=repo, script="build-worker.sh"))
            b.prune(self.at("seq4-empty"))
            edit(repo / "cmd/worker/main.go", self.label("seq4-empty"))
            self.record("seq4-empty", self.seed_build("dev", "worker", repo=repo, ci=True, script="build-worker.sh"))
            return
        svc = b.service(b.work / f"svc-{app}", app, worker=worker)
        job = b.ci(svc, log)
        check(job, "(4) main's CI job", built={f"{app}-{env}" for env in ENVS} | {"worker"})
        self.aside("(4) main's CI job, both apps", job.seconds)
        git(svc, "checkout", "-q", "-b", f"feature/worker-{self.rnd + 1}")  # the worker is shared by the rounds
        edit(svc / "cmd/worker/main.go", self.label("seq4-warm"))
        job = b.laptop(svc, log, "apps-dev")
        check(job, "(4) warm, the worker changed", built={"worker"}, reused={f"{app}-dev"},
              imported=["cache-worker-main"])
        self.record("seq4-warm", job.seconds)
        b.prune(self.at("seq4-empty"))
        edit(svc / "cmd/worker/main.go", self.label("seq4-empty"))
        job = b.ci(svc, log)
        check(job, "(4) CI, the worker changed", built={"worker"}, reused={f"{app}-dev"},
              imported=["cache-worker-main"], compiled_only=True)
        self.record("seq4-empty", job.seconds)


def run_capture(cmd: list[str], cwd: Path, env: dict[str, str], log: Path) -> tuple[float, str]:
    """Run CMD, its output appended to LOG; (the wall time in seconds, the output)."""
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          stdin=subprocess.DEVNULL)
    elapsed = time.monotonic() - start
    out = proc.stdout.decode(errors="replace")
    with log.open("a") as f:
        f.write(f"\n$ (cd {cwd} && {' '.join(cmd)})\n{out}# {elapsed:.2f} s, exit {proc.returncode}\n")
    if proc.returncode != 0:
        tail = "\n".join(out.splitlines()[-30:])
        raise BuildFailed(f"{' '.join(cmd)} (in {cwd}) exited {proc.returncode}; log {log}:\n{tail}")
    return elapsed, out


def run(cmd: list[str], cwd: Path, env: dict[str, str], log: Path) -> float:
    return run_capture(cmd, cwd, env, log)[0]


def registry_tags(namespace: str, repo: str) -> list[str]:
    host, _, path = namespace.partition("/")
    try:
        with urllib.request.urlopen(f"http://{host}/v2/{path}/{repo}/tags/list", timeout=10) as r:
            return sorted(json.loads(r.read()).get("tags") or [])
    except OSError:
        return []


# ------------------------------------------------------------------------------ the warm one-line change, taken apart
DOCKER_WRAPPER = """#!/bin/sh
# bench_build: times `docker buildx bake` (and keeps its files and arguments), runs every docker command as it is.
if [ "$1" = buildx ] && [ "$2" = bake ]; then
  n=$(date +%s%N)
  mkdir -p "$BENCH_CAPTURE/$n"
  prev=
  for a in "$@"; do
    if [ "$prev" = -f ]; then cp "$a" "$BENCH_CAPTURE/$n/"; fi
    prev=$a
  done
  printf '%s\\n' "$@" > "$BENCH_CAPTURE/$n/args"
  {real} "$@"
  rc=$?
  echo "$n $(date +%s%N)" > "$BENCH_CAPTURE/$n/times"
  exit $rc
fi
exec {real} "$@"
"""


def build_args_of(target: dict[str, Any], dockerfile: Path, *, tags: list[str]) -> list[str]:
    """`docker buildx build` arguments for one target of `docker buildx bake --print`."""
    args = ["docker", "buildx", "build", "--progress", "plain", "-f", str(dockerfile)]
    for key, value in sorted(target.get("args", {}).items()):
        args += ["--build-arg", f"{key}={value}"]
    for key, value in sorted(target.get("labels", {}).items()):
        args += ["--label", f"{key}={value}"]
    for name, value in sorted(target.get("contexts", {}).items()):
        args += ["--build-context", f"{name}={value}"]
    for tag in tags:
        args += ["-t", tag]
    if target.get("target"):
        args += ["--target", target["target"]]
    if target.get("platforms"):
        args += ["--platform", ",".join(target["platforms"])]
    for attest in target.get("attest", []):  # {"type": "provenance", "disabled": true}
        args += ["--attest", attest if isinstance(attest, str) else
                 ",".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in attest.items())]
    if target.get("pull"):
        args.append("--pull")
    return [*args, "--push", target.get("context", ".")]


@dataclass
class Timed:
    """A command's wall clock (epoch seconds) and its output lines, each with when it arrived."""

    start: float
    end: float
    lines: list[tuple[float, str]]


def run_timed(cmd: list[str], cwd: Path, env: dict[str, str], log: Path) -> Timed:
    start = time.time()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    assert proc.stdout is not None
    lines = [(time.time(), raw.decode(errors="replace").rstrip("\n")) for raw in proc.stdout]
    code = proc.wait()
    end = time.time()
    with log.open("a") as f:
        f.write(f"\n$ (cd {cwd} && {shlex.join(cmd)})\n")
        f.writelines(f"[{t - start:6.3f}] {line}\n" for t, line in lines)
        f.write(f"# {end - start:.2f} s, exit {code}\n")
    if code != 0:
        raise BuildFailed(f"{' '.join(cmd)} (in {cwd}) exited {code}; log {log}")
    return Timed(start, end, lines)


PHASES = ("own", "front", "solve", "compile", "to-export", "export", "exit")


def phases(t: Timed, bake: tuple[float, float] | None = None) -> dict[str, float]:
    """Where one build's seconds went, from its output's arrival times: bakegen's own part (before
    and after bake), the front (process start to BuildKit's first line), the solve up to the app's
    compile (contexts, base metadata, cache manifests, the build context), the compile (`go build`),
    from it to the export, the export and push, and the exit."""
    begin, end = bake or (t.start, t.end)
    docker = [(s, line) for s, line in t.lines if line.startswith("#")]
    first = docker[0][0]
    step = next(m[1] for _, line in docker if (m := re.match(r"#(\d+) \[builder \d+/\d+\] RUN .*go build", line)))
    header = next(s for s, line in docker if line.startswith(f"#{step} ["))
    done = next(s for s, line in docker if line.startswith(f"#{step} DONE"))
    export = next(s for s, line in docker if re.match(r"#\d+ exporting to image", line))
    last = docker[-1][0]
    return {"own": (begin - t.start) + (t.end - end), "front": first - begin, "solve": header - first,
            "compile": done - header, "to-export": export - done, "export": last - export, "exit": end - last}


def take_apart(bench: Bench, reps: int) -> dict[str, list[float]]:
    """The warm one-line change, N interleaved runs of each way to build it (see the docstring):
    {way: totals, "way:phase": that phase's seconds}."""
    log = bench.logs / "take-apart.log"
    svc, seed_app = bench.svc, bench.seed_app
    git(svc, "checkout", "-q", CI_BRANCH)
    git(seed_app, "checkout", "-q", "main")
    real = shutil.which("docker", path=bench.env.get("PATH")) or "docker"
    wrap = bench.work / "wrap"
    wrap.mkdir(exist_ok=True)
    (wrap / "docker").write_text(DOCKER_WRAPPER.format(real=shlex.quote(real)))
    (wrap / "docker").chmod(0o755)
    capture = bench.work / "bake-capture"
    capture.mkdir(exist_ok=True)
    wrapped = {**bench.env, "PATH": f"{wrap}:{bench.env.get('PATH', '')}", "BENCH_CAPTURE": str(capture)}

    def bakegen_once() -> tuple[Timed, tuple[float, float], Path]:
        edit(svc / "main.go", bench.label("bakegen", 0, "apart"))
        before = set(capture.iterdir())
        timed = run_timed([bench.bakegen, "bake", "apps-dev", "--push"], svc, wrapped, log)
        (new,) = set(capture.iterdir()) - before
        bake_start, bake_end = (int(x) / 1e9 for x in (new / "times").read_text().split())
        return timed, (bake_start, bake_end), new

    _, _, captured = bakegen_once()  # the bake command bakegen runs, its files, and its target resolved
    argv = (captured / "args").read_text().splitlines()
    files = [a for prev, a in itertools.pairwise(argv) if prev == "-f"]
    bake_argv = ["docker"] + [str(captured / Path(a).name) if prev == "-f" else a
                              for prev, a in zip([None, *argv[:-1]], argv, strict=True)]
    (target_name,) = [a for a in argv[2:] if not a.startswith("-") and a not in files]
    options = bake_argv[:-1]
    printed = subprocess.run([*options, "--print", target_name], cwd=svc, env=bench.env, check=True,
                             capture_output=True, text=True).stdout
    target = json.loads(printed)["target"][target_name]
    dockerfile = bench.work / "generated.Dockerfile"
    dockerfile.write_text(target["dockerfile-inline"].replace("$${", "${"))  # --print keeps HCL's escape
    deployable = [t for t in target["tags"] if "-bakegen:" not in t]
    no_cache = ["--set", f"{target_name}.cache-from="]
    one_repo = ["--set", f"{target_name}.tags={','.join(deployable)}"]
    shutil.copy2(dockerfile, seed_app / "Dockerfile.generated")
    commit(seed_app, "bench: the generated Dockerfile beside the seed's")
    seed_generated = ["docker", "buildx", "build", "-t", f"{bench.facts['REGISTRY']}/seed/dev/ci-demo-go:apart",
                      "-f", "Dockerfile.generated", "--target", target.get("target", "env-dev"),
                      *[a for k, v in sorted(target.get("args", {}).items()) for a in ("--build-arg", f"{k}={v}")],
                      "--progress", "plain", "--push", "."]

    def svc_edit() -> None:
        edit(svc / "main.go", bench.label("bakegen", 0, "apart"))

    def seed_edit() -> None:
        edit(seed_app / "main.go", bench.label("seed", 0, "apart"))

    commands: dict[str, tuple[Callable[[], None], list[str], Path, dict[str, str]]] = {
        "seed": (seed_edit, ["./build-app.sh", "dev", "ci-demo-go"], seed_app, bench.seed_env),
        "bake": (svc_edit, bake_argv, svc, bench.env),
        "bake-nocache": (svc_edit, [*options, *no_cache, target_name], svc, bench.env),
        "bake-onerepo": (svc_edit, [*options, *no_cache, *one_repo, target_name], svc, bench.env),
        "build": (svc_edit, build_args_of(target, dockerfile, tags=deployable), svc, bench.env),
        "seed-generated": (seed_edit, seed_generated, seed_app, bench.seed_env),
    }
    results: dict[str, list[float]] = {}

    def once(way: str) -> tuple[float, dict[str, float]]:
        if way == "bakegen":
            timed, bake, _ = bakegen_once()
            return timed.end - timed.start, phases(timed, bake)
        change, cmd, cwd, env = commands[way]
        change()
        timed = run_timed(cmd, cwd, env, log)
        return timed.end - timed.start, phases(timed)

    ways = ["seed", "bakegen", *list(commands)[1:]]
    for way in ways:  # once each, not recorded: every way's layers are in the builder before the timed runs
        once(way)
    for i in range(reps):
        for way in ways if i % 2 == 0 else list(reversed(ways)):
            total, parts = once(way)
            results.setdefault(way, []).append(total)
            for phase, seconds in parts.items():
                results.setdefault(f"{way}:{phase}", []).append(seconds)
    print(f"  the bake command bakegen ran: {shlex.join(bake_argv)}")
    print(f"  its target's cache-from: {target.get('cache-from') or 'none'}; its tags: {target['tags']}")
    return results


def fmt(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):7.2f} ({min(values):.2f}-{max(values):.2f})"


ROWS = [
    ("(1) laptop push, main CI, branch: one line", "seq1", 0.25),
    ("(2) (1) after the cache tags were deleted", "seq2", 0.25),
    ("(3) a branch building an env main never built", "seq3", 0.25),
    ("(4) two apps, one changed: warm builder", "seq4-warm", 0.25),
    ("(4) two apps, one changed: emptied builder", "seq4-empty", 0.25),
    ("CI runner: one line, the branch's own cache", "ci-change", 0.2),
    ("CI runner: nothing changed", "ci-nothing", 0.1),
    ("CI runner: base changed (base + app)", "ci-base", None),
    ("warm builder: one-line change", "change", 1.0),
    ("warm builder: nothing changed", "nothing", 0.25),
    ("first build ever (toolchain, runtime, app)", "first", 1.0),
]

PARTS = {"warm": "first_and_warm", "ci": "ci_runner", "seq12": "sequences_1_2", "seq3": "sequence_3",
         "seq4": "sequence_4"}

APART = [
    ("the seed: build-app.sh dev", "seed"),
    ("bakegen bake --push apps-dev", "bakegen"),
    ("the docker buildx bake it ran, alone", "bake"),
    ("  without the registry cache import", "bake-nocache"),
    ("  and without the key tag (one repository)", "bake-onerepo"),
    ("that as docker buildx build", "build"),
    ("the seed's build, the generated Dockerfile", "seed-generated"),
]


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def report(rounds: int, reps: int, results: dict[str, list[float]], apart: dict[str, list[float]],
           started: float) -> None:
    print(f"\nBuild time, seconds: median (min-max) of {rounds} rounds; total run "
          f"{time.monotonic() - started:.0f} s; load average {loadavg()} at the end")
    print(f"{'scenario':46s} {'seed scripts':>22s} {'bakegen':>22s} {'bakegen/seed':>12s} {'goal':>6s}")
    for label, key, goal in ROWS:
        s, b = results[f"seed:{key}"], results[f"bakegen:{key}"]
        ratio = f"{statistics.median(b) / statistics.median(s):.2f}x" if s and b else "-"
        print(f"{label:46s} {fmt(s):>22s} {fmt(b):>22s} {ratio:>12s} {f'{goal}x' if goal else '':>6s}")
    if apart:
        print(f"\nThe warm one-line change taken apart, seconds: median (min-max) of {reps} runs")
        print(f"{'':44s} {'total':>22s} " + " ".join(f"{p:>9s}" for p in PHASES))
        for label, key in APART:
            print(f"{label:44s} {fmt(apart[key]):>22s} "
                  + " ".join(f"{statistics.median(apart[f'{key}:{p}']):9.2f}" for p in PHASES))
        print("(phases, medians, from when each output line arrived (buildx prints in bursts: front and solve "
              "blur): own = bakegen's own part, before and after bake, timed to the moment bake starts; front = "
              "to the builder's first line; solve = to the app's compile; compile = go build; to-export; export "
              "= export and push; exit)")
        m = {key: statistics.median(values) for key, values in apart.items()}
        steps = [("bakegen's own part (bakegen bake - the bake it ran)", m["bakegen"] - m["bake"]),
                 ("the registry cache import (bake - bake without it)", m["bake"] - m["bake-nocache"]),
                 ("the key tag's second repository", m["bake-nocache"] - m["bake-onerepo"]),
                 ("bake's front against docker buildx build", m["bake-onerepo"] - m["build"]),
                 ("bake's target against the seed's flags (labels, pins, no provenance)", m["build"]
                  - m["seed-generated"]),
                 ("the generated Dockerfile against the seed's", m["seed-generated"] - m["seed"])]
        print("\nWhere bakegen's extra seconds go (differences of the medians above):")
        for label, seconds in steps:
            print(f"  {label:70s} {seconds:+6.2f} s")
        print(f"  {'sum: bakegen - the seed':70s} {m['bakegen'] - m['seed']:+6.2f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--take-apart", type=int, default=5, metavar="N",
                        help="runs of each way to build the warm one-line change (0: skip)")
    parser.add_argument("--parts", default=",".join(PARTS),
                        help=f"the parts of a round to run, in order (default: {','.join(PARTS)})")
    parser.add_argument("--sides", default="seed,bakegen", help="the sides to run (default: seed,bakegen)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, repositories)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    parts = [p for p in args.parts.split(",") if p]
    if unknown := [p for p in parts if p not in PARTS]:
        parser.error(f"--parts: no part {unknown[0]} (parts: {', '.join(PARTS)})")
    facts = harness.load_facts()
    if facts is None:
        print("bench_build: the harness is not up: run scripts/buildkit-harness up", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="bench-build-"))
    started = time.monotonic()
    print(f"bench_build: load average {loadavg()} at the start")
    bench = Bench(facts, work)
    print(f"bench_build: builder {bench.builder}, {args.rounds} rounds, linux/amd64, Debian {bench.suite}, "
          f"registry {bench.namespace}, work {work}")
    print("bakegen's base-images definitions, adapted to the harness:")
    for change in bench.changes:
        print(f"  - {change}")
    for change in bench.seed_changes:
        print(f"the seed's copy: {change}")
    results: dict[str, list[float]] = {f"{side}:{key}": [] for side in ("seed", "bakegen") for _, key, _ in ROWS}
    apart: dict[str, list[float]] = {}
    try:
        sides = [side for side in ("seed", "bakegen") if side in args.sides.split(",")]
        bench.setup(sides)
        for rnd in range(args.rounds):
            for side in sides if rnd % 2 == 0 else reversed(sides):
                bench.round(side, rnd, results, parts)
        if args.take_apart:
            print(f"\nthe warm one-line change taken apart ({args.take_apart} runs of each, interleaved):")
            apart = take_apart(bench, args.take_apart)
    except (BuildFailed, SequenceBroken) as exc:
        print(f"bench_build: {'build failed' if isinstance(exc, BuildFailed) else 'a sequence broke'}: {exc}\n"
              f"work folder kept: {work}", file=sys.stderr)
        return 1
    report(args.rounds, args.take_apart, results, apart, started)
    for warning in bench.warnings:
        print(f"warning: {warning}")
    if args.json:
        args.json.write_text(json.dumps({"results": results, "take_apart": apart, "warnings": bench.warnings,
                                         "changes": bench.changes,
                                         "seed_changes": bench.seed_changes}, indent=2))
    if args.keep:
        print(f"work folder kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
