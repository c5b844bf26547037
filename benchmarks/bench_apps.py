"""bakegen's own work in a service repository with many apps (`make bench`, issue 23).

  python benchmarks/bench_apps.py [--apps 10 50 200] [--runs 5]

A generated Go repository (one module) with N apps, each `cmd/app-<i>` with a package of its own
and two shared ones, two envs (dev, prd) and its own config files: N definitions written the way
`bakegen init --app` writes them, on published bases. For each N, medians of:

- `bakegen bake --push --print`: everything `bakegen bake --push` does before and around bake (the
  committed file checked, git, every target's content key, the registry asked about every key tag,
  cache and base, the plan), then bake's `--print`;
- `docker buildx bake --print` of the committed file alone, which is part of the line above;
- the difference: bakegen's own work (goal: at most 1 s with 200 apps).

The registry: the BuildKit harness's (Debian's docker-registry on 127.0.0.1:5000) when it is up,
in a namespace of this run's own with the two published bases put there (a tiny manifest each),
else a small server in this process (real HTTP on 127.0.0.1) that has the bases and nothing else.
Either way every image is to be built and no question is skipped. Needs docker buildx (for
--print); nothing is built.
"""

from __future__ import annotations

import argparse
import hashlib
import http.server
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PY = sys.executable
GIT_ENV = {"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.com", "GIT_COMMITTER_NAME": "b",
           "GIT_COMMITTER_EMAIL": "b@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
CONFIG = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Labels": {}}}).encode()
CONFIG_DIGEST = "sha256:" + hashlib.sha256(CONFIG).hexdigest()
MANIFEST = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": CONFIG_DIGEST,
                                  "size": len(CONFIG)}, "layers": []}).encode()


class Registry(http.server.BaseHTTPRequestHandler):
    """Has the published bases (any tag of common/...), and nothing else."""

    def do_GET(self) -> None:
        if "/common/" in self.path and "/manifests/" in self.path:
            body, kind = MANIFEST, "application/vnd.oci.image.manifest.v1+json"
        elif self.path.endswith(f"/blobs/{CONFIG_DIGEST}"):
            body, kind = CONFIG, "application/json"
        else:
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            body = b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}'
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Docker-Content-Digest", "sha256:" + hashlib.sha256(body).hexdigest())
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, *args: object) -> None:
        pass


def harness_registry() -> str | None:
    """A namespace of this run's own on the harness's registry, holding the two bases; None when
    the harness is not up."""
    import urllib.request
    import uuid

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    import harness

    facts = harness.load_facts()
    if facts is None:
        return None
    namespace = f"{facts['REGISTRY']}/bench-apps-{uuid.uuid4().hex[:8]}"
    host, _, path = namespace.partition("/")
    for repo, tag in (("common/tools/golang", "1.27"), ("common/runtime/golang", "debian12")):
        post = urllib.request.Request(f"http://{host}/v2/{path}/{repo}/blobs/uploads/", method="POST", data=b"")
        with urllib.request.urlopen(post, timeout=10) as r:
            location = r.headers["Location"]
        put = urllib.request.Request(f"{location}{'&' if '?' in location else '?'}digest={CONFIG_DIGEST}",
                                     method="PUT", data=CONFIG, headers={"Content-Type": "application/octet-stream"})
        urllib.request.urlopen(put, timeout=10).close()
        urllib.request.urlopen(urllib.request.Request(
            f"http://{host}/v2/{path}/{repo}/manifests/{tag}", method="PUT", data=MANIFEST,
            headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"}), timeout=10).close()
    return namespace


def make_repository(folder: Path, apps: int) -> None:
    """One Go module with ``apps`` apps (definitions as `bakegen init --app` writes them)."""
    (folder / "internal/shared").mkdir(parents=True)
    (folder / "internal/log").mkdir(parents=True)
    (folder / "go.mod").write_text("module example.com/big\n\ngo 1.24\n")
    (folder / "internal/log/log.go").write_text('package log\n\nimport "log/slog"\n\nvar L = slog.Default()\n')
    (folder / "internal/shared/shared.go").write_text(
        'package shared\n\nimport (\n\t"fmt"\n\n\t"example.com/big/internal/log"\n)\n\n'
        'func Hello(n string) string { log.L.Info(n); return fmt.Sprint("hello ", n) }\n')
    bake = folder / "bake"
    bake.mkdir()
    (bake / "bakegen.hcl").write_text('registry = "registry.example.com/team"\nplatforms = ["linux/amd64"]\n')
    for i in range(apps):
        name = f"app-{i:03d}"
        (folder / "cmd" / name).mkdir(parents=True)
        (folder / "internal" / name).mkdir(parents=True)
        (folder / "etc" / name).mkdir(parents=True)
        (folder / "cmd" / name / "main.go").write_text(
            f'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/big/internal/{name}"\n'
            f'\t"example.com/big/internal/shared"\n)\n\nfunc main() {{ fmt.Println(shared.Hello(app.Name)) }}\n')
        (folder / "internal" / name / "app.go").write_text(f'package app\n\nconst Name = "{name}"\n')
        for env in ("dev", "prd"):
            (folder / "etc" / name / f"app_{env}.yaml").write_text(f"env: {env}\n")
        (bake / name).mkdir()
        (bake / name / "image.hcl").write_text(f'''image "{name}" {{
  kind        = "app"
  repository  = "{{env}}/{{app}}"
  description = "{name} ({{env}})"
  context     = "../.."
  envs        = ["dev", "prd"]
  config      = "etc/{name}/app_{{env}}.yaml"
  toolchain   = "{{registry}}/common/tools/golang:1.27"
  runtime     = "{{registry}}/common/runtime/golang:debian12"
  main_package = "cmd/{name}"
}}
''')
    (folder / ".dockerignore").write_text(".bakegen\n")
    run(["git", "init", "-q", "-b", "main"], folder)
    run([PY, "-m", "bakegen", "-o", "docker-bake.hcl"], folder)
    run(["git", "add", "-A"], folder)
    run(["git", "commit", "-qm", "apps"], folder)


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env={**os.environ, **GIT_ENV, **(env or {})}, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--apps", type=int, nargs="+", default=[10, 50, 200])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    if subprocess.run(["docker", "buildx", "version"], capture_output=True).returncode != 0:
        sys.exit("docker buildx is needed (for bake --print)")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Registry)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    namespace = harness_registry()
    env = {"REGISTRY": namespace or f"127.0.0.1:{server.server_address[1]}/team"}
    print(f"registry: {'the harness registry, ' + namespace if namespace else 'a server in this process'}")
    tmp = Path(tempfile.mkdtemp(prefix="bakegen-apps-"))
    print(f"bakegen bake --push --print in a repository of N apps x 2 envs (median of {args.runs}; seconds)")
    print(f"{'apps':>6} {'files':>6} {'bakegen bake':>13} {'bake --print':>13} {'bakegen own':>12}")
    try:
        own = {}
        for n in args.apps:
            repo = tmp / f"apps-{n}"
            make_repository(repo, n)
            files = len(subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, text=True).stdout.split())
            total, printed = [], []
            for _ in range(args.runs):
                total.append(run([PY, "-m", "bakegen", "bake", "--push", "--print"], repo, env))
                printed.append(run(["docker", "buildx", "bake", "-f", "docker-bake.hcl", "--print"], repo, env))
            t, p = statistics.median(total), statistics.median(printed)
            own[n] = t - p
            print(f"{n:>6} {files:>6} {t:>13.2f} {p:>13.2f} {t - p:>12.2f}")
        if len(own) > 1:
            lo, hi = min(own), max(own)
            print(f"growth of bakegen's own work from {lo} to {hi} apps: {own[hi] / own[lo]:.1f}x "
                  f"({(own[hi] - own[lo]) / (hi - lo) * 1000:.1f} ms per app)")
    finally:
        server.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
