"""The edge that runs docker buildx: the only module besides ``gitmeta`` that starts a program.
Registry questions (``Registry``) go through the registry's HTTP API (``registry``), in parallel,
all of one run within one time budget; through ``docker buildx imagetools`` (the user's credential
helpers, as a build uses them) only where that client cannot ask. An answer that is not a clear
yes or no is ``unsure``: the image is built."""

from __future__ import annotations

import json
import os
import queue
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from . import registry
from .errors import BakegenError
from .model import Answer

REGISTRY_BUDGET = 5.0  # seconds all the registry questions of one run may take together
RETAG_TIMEOUT = 120.0  # seconds pointing one image's new tags may take
WORKERS = 8  # questions asked at once
GRACE = 0.2  # seconds the questions still open at the deadline have to say where they were
NO_BUILDX = "docker buildx is not available here (https://docs.docker.com/build/install-buildx/)"


def run_each(cmds: list[list[str]], dry_run: bool, echo: Callable[[str], object]) -> None:
    """Echo each command line, and run it unless ``dry_run``; the first failure stops."""
    for cmd in cmds:
        echo(shlex.join(cmd))
        if dry_run:
            continue
        try:
            proc = subprocess.run(cmd, check=False)
        except FileNotFoundError:
            raise BakegenError(f"{cmd[0]} is not installed; use --dry-run to print the commands") from None
        if proc.returncode != 0:
            raise BakegenError(f"command failed with exit code {proc.returncode}: {shlex.join(cmd)}")


def _bounded(cmd: list[str], seconds: float) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` for at most ``seconds``: then it is killed with everything it started (docker
    runs buildx as a program of its own), and ``subprocess.TimeoutExpired`` raised."""
    with subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, start_new_session=True) as proc:
        try:
            out, err = proc.communicate(timeout=seconds)
        except BaseException:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][-300:] if lines else "no message"


def _host(ref: str) -> str:
    return ref.partition("/")[0]


def _imagetools_image(doc: Any, platforms: Sequence[str]) -> Answer | None:
    """``docker buildx imagetools inspect --format '{{json .}}'``'s output as an answer."""
    if not isinstance(doc, dict) or not isinstance(doc.get("manifest"), dict):
        return None
    digest, image = doc["manifest"].get("digest"), doc.get("image")
    if isinstance(image, dict) and "config" in image:  # one platform: the config itself
        platform = "/".join(str(image.get(k)) for k in ("os", "architecture", "variant") if image.get(k))
        image = {platform: image}
    if not isinstance(digest, str) or not isinstance(image, dict):
        return None
    have = {registry.platform_key(p): c for p, c in image.items() if isinstance(c, dict)}
    return Answer("found", digest, {p: have[registry.platform_key(p)] for p in platforms
                                    if registry.platform_key(p) in have})


def _docker(args: list[str], deadline: registry.Deadline) -> subprocess.CompletedProcess[str]:
    """``docker ARGS`` within what is left of ``deadline``; ``registry.Unsure`` (one line) when it
    cannot run or runs out of time."""
    name = " ".join(args[:4])
    try:
        proc = _bounded(args, deadline.left(name))
    except subprocess.TimeoutExpired:
        raise registry.Unsure(f"{name}: {deadline.why}") from None
    except FileNotFoundError:
        raise registry.Unsure(NO_BUILDX) from None
    except OSError as e:
        raise registry.Unsure(f"docker could not be run ({e.strerror})") from None
    if proc.returncode != 0 and "is not a docker command" in proc.stderr:
        raise registry.Unsure(NO_BUILDX)
    return proc


def _imagetools(ref: str, platforms: Sequence[str], deadline: registry.Deadline, because: str) -> Answer:
    """The answer of ``docker buildx imagetools inspect`` (``because``: why the HTTP client did not
    ask), within what is left of ``deadline``."""
    try:
        proc = _docker(["docker", "buildx", "imagetools", "inspect", ref, "--format", "{{json .}}"], deadline)
    except registry.Unsure as e:
        return Answer("unsure", why=f"{because}; {e}")
    if proc.returncode != 0:
        if f"{ref}: not found" in proc.stderr:
            return Answer("missing", why=f"{because}; docker buildx imagetools inspect: {ref}: not found")
        return Answer("unsure", why=f"{because}; docker buildx imagetools inspect: {_last_line(proc.stderr)}")
    try:
        answer = _imagetools_image(json.loads(proc.stdout), platforms)
    except ValueError:
        answer = None
    return answer or Answer("unsure", why=f"{because}; docker buildx imagetools inspect answered something unexpected")


def _ask_all(refs: Mapping[str, Sequence[str]], ask: Callable[[str, Sequence[str]], Answer],
             deadline: registry.Deadline) -> dict[str, Answer]:
    """``ask`` each ref, ``WORKERS`` at once, until ``deadline`` (and ``GRACE`` for the questions
    its end interrupts): a ref not answered by then is unsure. The threads are daemons: one the
    deadline could not end (a name being resolved) holds neither the answer nor the process."""
    todo: queue.SimpleQueue[tuple[str, Sequence[str]]] = queue.SimpleQueue()
    for item in refs.items():
        todo.put(item)
    answers: dict[str, Answer] = {}
    lock, done = threading.Lock(), threading.Event()

    def work() -> None:
        while True:
            try:
                ref, platforms = todo.get_nowait()
            except queue.Empty:
                return
            answer = ask(ref, platforms)
            with lock:
                answers[ref] = answer
                if len(answers) == len(refs):
                    done.set()

    for _ in range(min(WORKERS, len(refs))):
        threading.Thread(target=work, name="bakegen-registry", daemon=True).start()
    if refs and not done.wait(deadline.remaining()):
        deadline.cancel()  # their connections shut: each says what it was waiting for
        done.wait(GRACE)
    with lock:
        return {ref: answers.get(ref) or Answer("unsure", why=f"{_host(ref)}: {deadline.why}") for ref in refs}


class Registry:
    """One run's registry conversations. ``config``: the docker config file (``docker login``'s
    credentials); ``budget``: the seconds all the questions asked of this object may take together
    in its life; ``plain_http``: which hosts are spoken to over HTTP (this machine's by default).
    Tokens are kept per (host, repository) across calls."""

    def __init__(self, config: Mapping[str, Any], *, budget: float = REGISTRY_BUDGET,
                 plain_http: Callable[[str], bool] = registry.is_local) -> None:
        self.client = registry.Client(config, plain_http=plain_http)
        self.budget = budget
        self.spent = 0.0
        self.why = f"timed out (all registry questions together may take {budget:g} s: BAKEGEN_REGISTRY_TIMEOUT)"

    def _one(self, ref: str, platforms: Sequence[str], deadline: registry.Deadline) -> Answer:
        try:
            return self.client.answer(ref, platforms, deadline)
        except registry.CannotAsk as e:
            return _imagetools(ref, platforms, deadline, str(e))
        except registry.Unsure as e:
            return Answer("unsure", why=str(e))
        except Exception as e:  # a flaw in reading an answer costs a build, never the run
            return Answer("unsure", why=f"{_host(ref)}: bakegen could not read the answer ({type(e).__name__}: {e})")

    def inspect(self, refs: Mapping[str, Sequence[str]]) -> dict[str, Answer]:
        """For each ref (``host/path:tag`` or ``host/path@sha256:...``), asked in parallel: is
        it there, its digest, and the image config of each of its platforms (the platforms
        asked for, ``()`` for none) it has. ``found``, ``missing`` (the registry said there is no
        such manifest) or ``unsure`` (anything else, ``why`` says what); never raises."""
        start = time.monotonic()
        deadline = registry.Deadline(self.budget - self.spent, self.why)
        try:
            return _ask_all(refs, lambda ref, platforms: self._one(ref, platforms, deadline), deadline)
        finally:
            deadline.cancel()
            self.spent += time.monotonic() - start

    def retag(self, source: str, tags: Sequence[str]) -> None:
        """Point ``tags`` at the image ``source`` (``host/repo@sha256:...``): through the
        registry's API for those in its repository, through ``docker buildx imagetools create``
        for the others (or all, where the API client cannot ask), within ``RETAG_TIMEOUT``.
        ``BakegenError`` (one line) when it cannot."""
        deadline = registry.Deadline(RETAG_TIMEOUT, f"timed out after {RETAG_TIMEOUT:g} s")
        same = [t for t in tags if registry.same_repository(source, t)]
        others = [t for t in tags if t not in same]
        try:
            if same:
                self.client.tag(source, same, deadline)
        except registry.CannotAsk:
            others = list(tags)
        except registry.Unsure as e:
            raise BakegenError(f"could not tag {source} as {', '.join(same)}: {e}") from None
        if others:
            _imagetools_create(source, others, deadline)


def _imagetools_create(source: str, tags: Sequence[str], deadline: registry.Deadline) -> None:
    cmd = ["docker", "buildx", "imagetools", "create", "--progress", "quiet"]
    for tag in tags:
        cmd += ["--tag", tag]
    fail = f"could not tag {source} as {', '.join(tags)}"
    try:
        proc = _docker([*cmd, source], deadline)
    except registry.Unsure as e:
        raise BakegenError(f"{fail}: {e}") from None
    if proc.returncode != 0:
        raise BakegenError(f"{fail}: {_last_line(proc.stderr)}")


MISSING = ("docker buildx is not available here: install Docker with the buildx plugin "
           "(https://docs.docker.com/build/install-buildx/); without it, bakegen -o docker-bake.hcl and "
           "bakegen meta -o .bakegen/meta.hcl write the files, for docker buildx bake elsewhere")


def bake(args: Sequence[str]) -> int:
    """Run ``docker buildx bake ARGS`` with this process's output; its exit code. No docker, or no
    buildx plugin, is an error saying so (not a shell's "not found")."""
    try:
        code = subprocess.run(["docker", "buildx", "bake", *args], check=False).returncode
        if code != 0 and subprocess.run(["docker", "buildx", "version"], capture_output=True,
                                        check=False).returncode != 0:
            raise BakegenError(MISSING)
    except FileNotFoundError:
        raise BakegenError(MISSING) from None
    return code


def daemon() -> str:
    """"" when a Docker daemon answers here (what ``--load`` loads into), else what docker said."""
    try:
        proc = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"], capture_output=True,
                              text=True, timeout=20, check=False)
    except FileNotFoundError:
        return "docker is not installed"
    except subprocess.TimeoutExpired:
        return "docker version did not answer in 20 s"
    if proc.returncode == 0 and proc.stdout.strip():
        return ""
    return (proc.stderr.strip().splitlines() or ["docker version failed"])[-1][:200]
