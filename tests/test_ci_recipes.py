"""The recipes that run bakegen elsewhere: the pre-commit hooks (.pre-commit-hooks.yaml) and the CI
examples (examples/ci/). Their structure is checked against the documented schemas, and every
bakegen command line in them is parsed with bakegen's own click commands: a misspelt command or
option, a missing file or a `make` target that does not exist fails here, not in someone's CI.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml
from conftest import ROOT

from bakegen.cli import cli

PRE_COMMIT = ROOT / ".pre-commit-hooks.yaml"
GITHUB = ROOT / "examples" / "ci" / "github-actions.yml"
GITLAB = ROOT / "examples" / "ci" / "gitlab-ci.yml"
RECIPES = (PRE_COMMIT, GITHUB, GITLAB)

COMMITTED = "docker-bake.hcl"
META = "meta.hcl"

# pre-commit's manifest schema (pre_commit/clientlib.py, MANIFEST_HOOK_DICT).
MANIFEST_REQUIRED = {"id", "name", "entry", "language"}
MANIFEST_KEYS = MANIFEST_REQUIRED | {
    "alias", "files", "exclude", "types", "types_or", "exclude_types", "additional_dependencies",
    "args", "always_run", "fail_fast", "pass_filenames", "description", "language_version",
    "log_file", "minimum_pre_commit_version", "require_serial", "stages", "verbose",
}

# GitLab's CI/CD YAML reference: global keywords and job keywords.
GITLAB_GLOBAL = {"default", "include", "stages", "variables", "workflow", "spec",
                 "image", "services", "cache", "before_script", "after_script"}
GITLAB_JOB_KEYWORDS = {
    "after_script", "allow_failure", "artifacts", "before_script", "cache", "coverage",
    "dast_configuration", "dependencies", "environment", "extends", "hooks", "identity",
    "id_tokens", "image", "inherit", "interruptible", "manual_confirmation", "needs", "pages",
    "parallel", "release", "resource_group", "retry", "rules", "run", "script", "secrets",
    "services", "stage", "tags", "timeout", "trigger", "variables", "when",
}

# Options whose value changes the committed file (cli.OUTPUT_OPTIONS): a CI job that exports one
# of these as BAKEGEN_* makes `bakegen --check` compare the committed file with a different one.
# Every command, each module imported (the root command loads them only when one is named).
COMMANDS = {name: cli.get_command(click.Context(cli), name) for name in cli.list_commands(click.Context(cli))}
OUTPUT_ENVVARS = {p.envvar for p in cli.params
                  if isinstance(p, click.Option) and p.envvar and p.name in
                  ("registry", "go_version", "app", "env", "cache", "definitions")}


def load(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def norm(expr: str) -> str:
    """A GitHub expression without ${{ }} and with single spaces."""
    expr = str(expr).strip()
    if expr.startswith("${{") and expr.endswith("}}"):
        expr = expr[3:-2]
    return " ".join(expr.split())


# --- shell command lines ---------------------------------------------------------------------

def shell_lines(script: str) -> list[str]:
    """The command lines of a shell snippet: continuation lines joined, blank lines dropped."""
    return [l for l in script.replace("\\\n", " ").splitlines() if l.strip()]


def words(line: str) -> list[str]:
    lex = shlex.shlex(line, posix=True, punctuation_chars=True)
    lex.whitespace_split = True
    lex.commenters = "#"
    return list(lex)


def is_operator(word: str) -> bool:
    return bool(word) and set(word) <= set("();<>|&")


def commands(line: str) -> list[list[str]]:
    """Simple commands of a line (split at ; && || | and parentheses), leading VAR=value
    assignments dropped; a redirection ends the command's arguments."""
    out, current, redirected = [], [], False
    for w in words(line):
        if is_operator(w):
            if set(w) <= set("<>"):
                redirected = True
                continue
            if current:
                out.append(current)
            current, redirected = [], False
        elif not redirected:
            if not current and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", w):
                continue
            current.append(w)
    if current:
        out.append(current)
    return out


def substitutions(line: str) -> tuple[str, list[str]]:
    """The line with each command substitution, ``$(...)``, replaced by ``$_``, and the command
    lines inside them."""
    outer, inner, depth, start = "", [], 0, 0
    i = 0
    while i < len(line):
        if line.startswith("$(", i):
            if depth == 0:
                start, outer = i + 2, outer + "$_"
            depth += 1
            i += 2
            continue
        if depth and line[i] in "()":
            depth += 1 if line[i] == "(" else -1
            if depth == 0:
                inner.append(line[start:i])
        elif not depth:
            outer += line[i]
        i += 1
    return outer, inner


def bakegen_args(line: str) -> list[list[str]]:
    """The arguments of each bakegen invocation on a command line (bakegen, path/to/bakegen,
    python -m bakegen), those in its command substitutions too."""
    outer, inner = substitutions(line)
    found = []
    for cmd in commands(outer):
        if Path(cmd[0]).name == "bakegen":
            found.append(cmd[1:])
        elif Path(cmd[0]).name.startswith("python") and cmd[1:3] == ["-m", "bakegen"]:
            found.append(cmd[3:])
    return found + [args for text in inner for args in bakegen_args(text)]


def option_names(cmd: click.Command) -> dict[str, click.Parameter]:
    return {o: p for p in cmd.params if isinstance(p, click.Option) for o in p.opts + p.secondary_opts}


def takes_value(p: click.Parameter) -> bool:
    return isinstance(p, click.Option) and not p.is_flag and not p.count


def check_invocation(args: list[str]) -> tuple[list[str], dict]:
    """Problems with one bakegen invocation, and what it reads and writes:
    {"command": None | name, "check": file, "output": file}."""
    problems: list[str] = []
    info: dict = {"command": None, "check": None, "output": None}
    command: click.Command = cli
    opts = option_names(cli)
    parsed: dict[click.Command, list[str]] = {cli: []}
    i = 0
    while i < len(args):
        a = args[i]
        if a.startswith("-") and a != "-":
            name, eq, value = a.partition("=")
            p = opts.get(name)
            if p is None:
                where = f"bakegen {info['command']}" if info["command"] else "bakegen"
                problems.append(f"{where} has no option {name}; it has: {', '.join(sorted(opts))}")
                i += 1
                continue
            parsed[command].append(a)
            if takes_value(p) and not eq:
                if i + 1 >= len(args):
                    problems.append(f"{name} needs a value")
                    break
                value = args[i + 1]
                parsed[command].append(value)
                i += 1
            if p.name == "check_file":
                info["check"] = value
            elif p.name == "output":
                info["output"] = value
        elif command is cli and a in COMMANDS:
            command = COMMANDS[a]
            info["command"] = a
            opts = option_names(command)
            parsed[command] = []
        elif command is cli:
            problems.append(f'bakegen has no command "{a}"; its commands: {", ".join(sorted(COMMANDS))}')
        else:
            parsed[command].append(a)
        i += 1
    if problems:
        return problems, info
    # The same arguments through click's own parser: values of choices, missing arguments...
    try:
        ctx = cli.make_context("bakegen", list(parsed[cli]))
        if command is not cli:
            command.make_context(info["command"], list(parsed[command]), parent=ctx)
    except click.ClickException as e:
        problems.append(f"click rejects {shlex.join(['bakegen', *args])}: {e.format_message()}")
    fmt = next((v for a, v in zip(parsed[command], parsed[command][1:] + [""], strict=True) if a == "--format"), None)
    fmt = fmt or next((a.split("=", 1)[1] for a in parsed[command] if a.startswith("--format=")), None)
    target = info["output"] or info["check"]
    if target and fmt in ("hcl", "json") and Path(target).suffix != "." + fmt:
        problems.append(f"--format {fmt} writes {target}: bake reads a file by its extension")
    if info["command"] is None and info["check"] and info["output"]:
        problems.append("-o and --check exclude each other")
    # The committed file it checks or writes must be the repository's.
    for key in ("check",) + (("output",) if info["command"] is None else ()):
        if info[key] and not (ROOT / info[key]).is_file():
            problems.append(f"{info[key]} does not exist in the repository")
    return problems, info


# --- GitLab's rules:if and GitHub's expressions, evaluated -----------------------------------

class Expression:
    """Reads an expression's tokens (tuples of regular expression groups; ``op`` is the group of
    operators) by recursive descent: && binds before ||, both operands always read."""

    def __init__(self, pattern: re.Pattern, expr: str, op: int):
        self.tokens, self.expr, self.op, self.at = [], expr, op, 0
        i = 0
        while expr[i:].strip():
            m = pattern.match(expr, i)
            assert m, f"cannot read {expr[i:]!r} in {expr!r}"
            self.tokens.append(m.groups())
            i = m.end()

    def take(self, *ops: str) -> str | None:
        """The next token's operator when it is one of ``ops`` (then it is read), else None."""
        if self.at < len(self.tokens) and self.tokens[self.at][self.op] in ops:
            self.at += 1
            return self.tokens[self.at - 1][self.op]
        return None

    def next(self) -> tuple:
        self.at += 1
        return self.tokens[self.at - 1]

    def chain(self, operand, op: str, combine):
        value = operand()
        while self.take(op):
            value = combine(value, operand())
        return value

    def read(self, either):
        value = either()
        assert self.at == len(self.tokens), f"cannot read the end of {self.expr!r}"
        return value


_GITLAB_TOKEN = re.compile(r'\s*(?:\$([A-Za-z_][A-Za-z0-9_]*)|"((?:[^"\\]|\\.)*)"|\'((?:[^\'\\]|\\.)*)\'|'
                           r'(==|!=|&&|\|\||\(|\))|(null)\b)')


def gitlab_if(expr: str, variables: dict[str, str]) -> bool:
    """A rules:if expression as GitLab reads it (CI/CD variable expressions: $VAR, "string",
    null, == and != between them, && before ||, parentheses): a variable alone is true when it is
    set and not empty; an unset one compares as null."""
    r = Expression(_GITLAB_TOKEN, expr, 3)

    def operand():
        var, dq, sq, op, null = r.next()
        if op == "(":
            value = either()
            assert r.take(")"), expr
            return value
        assert not op, f"unexpected {op} in {expr!r}"
        return variables.get(var) if var else None if null else dq if dq is not None else sq

    def comparison() -> bool:
        left = operand()
        op = r.take("==", "!=")
        return bool(left) if op is None else (left == operand()) == (op == "==")

    def either() -> bool:
        return r.chain(lambda: r.chain(comparison, "&&", lambda a, b: a and b), "||", lambda a, b: a or b)

    return r.read(either)


def gitlab_decision(job: dict, predefined: dict[str, str]) -> dict[str, str] | None:
    """The job's variables in a pipeline with these predefined variables (its first matching
    rule's over the job's and the file's), or None: the job is not in the pipeline."""
    own = {**gitlab_config().get("variables", {}), **job.get("variables", {})}
    for rule in job.get("rules", [{}]):
        if "if" not in rule or gitlab_if(rule["if"], {**own, **predefined}):
            if rule.get("when") == "never":
                return None
            return {**own, **rule.get("variables", {})}
    return None


_GITHUB_TOKEN = re.compile(r"\s*(?:'((?:[^']|'')*)'|(==|!=|&&|\|\||!|\(|\))|(true|false|null)\b|"
                           r"([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*))")


def github_expr(expr: str, context: dict):
    """A GitHub Actions expression (${{ }} optional): 'strings', true/false/null, context paths
    (a missing property is null), ! == != && || and parentheses; && and || give one of their
    operands, as in JavaScript; strings compare ignoring case."""
    r = Expression(_GITHUB_TOKEN, norm(expr), 1)

    def primary():
        string, op, literal, path = r.next()
        if op == "(":
            value = either()
            assert r.take(")"), expr
            return value
        if op == "!":
            return not primary()
        assert not op, f"unexpected {op} in {expr!r}"
        if string is not None:
            return string.replace("''", "'")
        if literal:
            return {"true": True, "false": False, "null": None}[literal]
        value = context
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def comparison():
        left = primary()
        op = r.take("==", "!=")
        if op is None:
            return left
        right = primary()
        same = left.casefold() == right.casefold() if isinstance(left, str) and isinstance(right, str) else \
            left == right
        return same == (op == "==")

    def either():
        return r.chain(lambda: r.chain(comparison, "&&", lambda a, b: b if a else a), "||", lambda a, b: a or b)

    return r.read(either)


def github_value(text, context: dict) -> str:
    """A workflow value with its ${{ }} expressions substituted (null as "")."""
    def value(m: re.Match) -> str:
        v = github_expr(m.group(1), context)
        return "" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
    return re.sub(r"\$\{\{(.*?)\}\}", value, str(text))


def github_decision(wf: dict, context: dict) -> list[tuple[dict, dict[str, str]]] | None:
    """The steps of the images job that run in a run with this context, each with its environment
    (the workflow's, the job's and its own, evaluated), or None: the job is skipped."""
    (job,) = wf["jobs"].values()
    if "if" in job and not github_expr(job["if"], context):
        return None
    out = []
    for step in job["steps"]:
        if "if" in step and not github_expr(step["if"], context):
            continue
        env = {k: github_value(v, context) for k, v in {**wf.get("env", {}), **job.get("env", {}),
                                                     **step.get("env", {})}.items()}
        out.append((step, env))
    return out


def github_context(env: dict[str, str], steps: dict | None = None, variables: dict | None = None) -> dict:
    """The expression context of a run, from a runner's environment: GITHUB_* and the event's
    payload (the file GITHUB_EVENT_PATH names)."""
    payload = json.loads(Path(env["GITHUB_EVENT_PATH"]).read_text()) if env.get("GITHUB_EVENT_PATH") else {}
    return {"github": {"event_name": env.get("GITHUB_EVENT_NAME"), "repository": env.get("GITHUB_REPOSITORY"),
                       "ref_name": env.get("GITHUB_REF_NAME"), "head_ref": env.get("GITHUB_HEAD_REF"),
                       "event": payload},
            "vars": variables or {}, "secrets": {}, "steps": steps or {}}


# --- what the recipes run --------------------------------------------------------------------

def pre_commit_hooks() -> list[dict]:
    return load(PRE_COMMIT)


def github_workflow() -> dict:
    return load(GITHUB)


def github_on(wf: dict):
    # YAML 1.1 (PyYAML) reads the key `on` as the boolean true.
    return wf.get("on", wf.get(True))


def github_steps(wf: dict) -> list[tuple[str, dict]]:
    return [(job_id, step) for job_id, job in wf["jobs"].items() for step in job.get("steps", [])]


def gitlab_config() -> dict:
    return load(GITLAB)


def deep_merge(base: dict, over: dict) -> dict:
    """GitLab's `extends`: hashes merge deeply, everything else is replaced."""
    out = dict(base)
    for k, v in over.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def gitlab_resolve(config: dict, name: str, seen=()) -> dict:
    job = config[name]
    assert name not in seen, f"extends loop at {name}"
    parents = job.get("extends", [])
    parents = [parents] if isinstance(parents, str) else parents
    merged: dict = {}
    for parent in parents:
        assert parent in config, f"{name} extends {parent}, which is not defined"
        merged = deep_merge(merged, gitlab_resolve(config, parent, seen + (name,)))
    return deep_merge(merged, {k: v for k, v in job.items() if k != "extends"})


def gitlab_jobs() -> dict[str, dict]:
    config = gitlab_config()
    return {name: gitlab_resolve(config, name) for name in config
            if name not in GITLAB_GLOBAL and not name.startswith(".")}


def gitlab_lines(job: dict) -> list[str]:
    return [l for item in job.get("before_script", []) + job.get("script", []) for l in shell_lines(item)]


def recipe_lines() -> list[tuple[str, str]]:
    """(where, command line) for every command the recipes run."""
    out = [(f"{PRE_COMMIT.name} hook {h['id']}", h["entry"]) for h in pre_commit_hooks()]
    for job_id, step in github_steps(github_workflow()):
        for line in shell_lines(step.get("run", "")):
            out.append((f"{GITHUB.name} {job_id}: {step.get('name', '')}", line))
    for name, job in gitlab_jobs().items():
        out += [(f"{GITLAB.name} {name}", line) for line in gitlab_lines(job)]
    return out


# --- every bakegen command line is valid -----------------------------------------------------

def test_recipes_parse_and_run_bakegen():
    for path in RECIPES:
        assert load(path), f"{path} is empty"
    invocations = [(where, args) for where, line in recipe_lines() for args in bakegen_args(line)]
    per_file = {p.name: sum(where.startswith(p.name) for where, _ in invocations) for p in RECIPES}
    # The extractor must find them, or the next test would check nothing: the hooks, and in each
    # CI recipe the platforms to emulate and the build.
    assert per_file[PRE_COMMIT.name] == 2 and per_file[GITHUB.name] == 2 and per_file[GITLAB.name] == 2, per_file


@pytest.mark.parametrize("where,line", [(w, l) for w, l in recipe_lines() if bakegen_args(l)],
                         ids=lambda v: v if len(v) < 60 else v[:57] + "...")
def test_every_bakegen_command_line_is_valid(where, line):
    for args in bakegen_args(line):
        problems, _ = check_invocation(args)
        assert not problems, f"{where}: {line}\n" + "\n".join(problems)


@pytest.mark.parametrize("line,expected", [
    ("bakegen --check docker-bake.hcl", None),
    ("bakegen meta --env prd -o meta.hcl", None),
    ("X=1 /opt/venv/bin/bakegen --registry=r.io -o docker-bake.hcl", None),
    ("bakegen --chek docker-bake.hcl", "has no option --chek"),
    ("bakegen meta --enviroment prd -o meta.hcl", "has no option --enviroment"),
    ("bakegen metaa -o meta.hcl", 'no command "metaa"'),
    ("bakegen meta --check docker-bake.hcl", "bakegen meta has no option --check"),
    ("bakegen --check missing.hcl", "missing.hcl does not exist"),
    ("bakegen --format yaml -o docker-bake.hcl", "click rejects"),
    ("bakegen -o docker-bake.hcl --check docker-bake.hcl", "exclude each other"),
    ("bakegen meta -o", "needs a value"),
    ("bakegen meta --format json -o meta.hcl", "bake reads a file by its extension"),
    ("bakegen --format=json -o docker-bake.hcl", "bake reads a file by its extension"),
    ('P="$(bakegen platforms --emulatd)"', "has no option --emulatd"),
    ('echo "p=$(X=1 bakegen platfroms)" >> "$GITHUB_OUTPUT"', 'no command "platfroms"'),
    ("p=$(bakegen platforms --emulated --x)", "has no option --x"),
    ("p=$(echo $(bakegen --chek f))", "has no option --chek"),
])
def test_the_command_line_check_can_fail(line, expected):
    (args,) = bakegen_args(line)
    problems, _ = check_invocation(args)
    if expected is None:
        assert problems == []
    else:
        assert any(expected in p for p in problems), problems


def test_shell_variables_in_bakegen_lines_are_defined():
    """`--env "$APP_ENV"` needs APP_ENV from the workflow or job, not from thin air."""
    wf = github_workflow()
    for job_id, job in wf["jobs"].items():
        scope = set(wf.get("env", {})) | set(job.get("env", {}))
        for step in job["steps"]:
            for line in shell_lines(step.get("run", "")):
                if bakegen_args(line):
                    for var in re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", line):
                        assert var in scope | set(step.get("env", {})) or var.startswith(("GITHUB_", "RUNNER_")), \
                            f"{GITHUB.name} {job_id}: ${var} is not set: {line}"
    config = gitlab_config()
    for name, job in gitlab_jobs().items():
        scope = set(config.get("variables", {})) | set(job.get("variables", {}))
        for line in gitlab_lines(job):
            if bakegen_args(line):
                for var in re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", line):
                    assert var in scope or var.startswith("CI_"), f"{GITLAB.name} {name}: ${var} is not set: {line}"


def test_no_output_changing_bakegen_variable_reaches_the_check():
    """BAKEGEN_ENV=prd in a job's environment would make `bakegen --check` fail on the default
    branch: the committed file is generated without it."""
    bakegen_envvars = {v for c in [cli, *COMMANDS.values()] for p in c.params
                       for v in ([p.envvar] if isinstance(getattr(p, "envvar", None), str) else getattr(p, "envvar", None) or [])}
    source_names = set(re.findall(r"BAKEGEN_[A-Z_]+", "".join(
        p.read_text(encoding="utf-8") for p in (ROOT / "bakegen").rglob("*.py"))))
    own = set(github_workflow().get("env", {})) | set(gitlab_config().get("variables", {}))  # the pinned release
    for path in RECIPES:
        for name in set(re.findall(r"BAKEGEN_[A-Z_]+", path.read_text(encoding="utf-8"))) - own:
            assert name in bakegen_envvars | source_names, f"{path.name} names {name}, which bakegen does not read"
    wf = github_workflow()
    for job_id, job in wf["jobs"].items():
        for step in job["steps"]:
            if any(check_invocation(a)[1]["check"] for l in shell_lines(step.get("run", "")) for a in bakegen_args(l)):
                env = {**wf.get("env", {}), **job.get("env", {}), **step.get("env", {})}
                assert not OUTPUT_ENVVARS & set(env), f"{GITHUB.name} {job_id}: {OUTPUT_ENVVARS & set(env)}"
    config = gitlab_config()
    for name, job in gitlab_jobs().items():
        variables = set(config.get("variables", {})) | set(job.get("variables", {}))
        for rule in job.get("rules", []):
            variables |= set(rule.get("variables", {}))
        assert not OUTPUT_ENVVARS & variables, f"{GITLAB.name} {name}: {OUTPUT_ENVVARS & variables}"


# --- pre-commit ------------------------------------------------------------------------------

def test_pre_commit_manifest_follows_the_schema():
    hooks = pre_commit_hooks()
    assert isinstance(hooks, list) and hooks
    ids = [h["id"] for h in hooks]
    assert len(ids) == len(set(ids))
    assert {"bakegen-check", "bakegen"} <= set(ids)
    for h in hooks:
        assert isinstance(h, dict)
        assert set(h) >= MANIFEST_REQUIRED, h
        assert set(h) <= MANIFEST_KEYS, f"unknown keys {set(h) - MANIFEST_KEYS}"
        assert all(isinstance(h[k], str) and h[k] for k in MANIFEST_REQUIRED)
        assert h["language"] == "python"  # pre-commit pip-installs this repository: bakegen is on PATH
        assert shlex.split(h["entry"])[0] == "bakegen"
        # The entry names its file: pre-commit must not append the staged files to it.
        assert h["pass_filenames"] is False


def test_pre_commit_hooks_run_whatever_input_of_the_output_changes():
    """The bake file depends on files outside bake/ (an app's config files, go.mod and main
    package) that no `files:` pattern can name for every repository: the hooks always run."""
    for h in pre_commit_hooks():
        assert h["always_run"] is True and "files" not in h, h["id"]


def test_the_rev_in_the_hooks_example_is_the_released_version():
    """`rev: vX.Y.Z` must be a tag that exists: the version bakegen says it is, tagged in git."""
    import bakegen

    assert f"rev: v{bakegen.__version__}" in PRE_COMMIT.read_text()
    for path in (GITHUB, GITLAB):
        assert f'BAKEGEN_VERSION: "{bakegen.__version__}"' in path.read_text(), path.name
    tags = subprocess.run(["git", "tag", "--list", "v*"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    if tags:  # a clone without tags (a CI checkout of one commit) cannot show them
        assert f"v{bakegen.__version__}" in tags or subprocess.run(
            ["git", "describe", "--tags", "--abbrev=0"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip() <= f"v{bakegen.__version__}"


def test_pre_commit_check_hook_entry_passes_on_this_repository():
    (hook,) = [h for h in pre_commit_hooks() if h["id"] == "bakegen-check"]
    argv = shlex.split(hook["entry"])
    assert argv == ["bakegen", "--check", COMMITTED]
    r = subprocess.run([sys.executable, "-m", "bakegen", *argv[1:]], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"{hook['entry']} failed:\n{r.stdout}\n{r.stderr}"


def test_pre_commit_check_hook_fails_when_an_app_loses_a_config_file(tmp_path):
    """Removing etc/app_dev.yaml changes nothing under bake/, yet the committed file can no longer
    be generated: the check hook (which always runs) fails, as CI's check would."""
    (hook,) = [h for h in pre_commit_hooks() if h["id"] == "bakegen-check"]
    shutil.copytree(ROOT / "examples" / "repos" / "ci-demo-go", tmp_path / "svc")
    (tmp_path / "svc" / "etc" / "app_dev.yaml").unlink()
    r = subprocess.run([sys.executable, "-m", "bakegen", *shlex.split(hook["entry"])[1:]], cwd=tmp_path / "svc",
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "etc/app_dev.yaml does not exist" in r.stderr


def test_pre_commit_regenerate_hook_leaves_an_up_to_date_file_unchanged(tmp_path):
    (hook,) = [h for h in pre_commit_hooks() if h["id"] == "bakegen"]
    argv = shlex.split(hook["entry"])
    assert argv == ["bakegen", "-o", COMMITTED]
    shutil.copytree(ROOT / "bake", tmp_path / "bake")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    shutil.copy2(ROOT / COMMITTED, tmp_path / COMMITTED)
    before = (tmp_path / COMMITTED).stat().st_mtime_ns
    r = subprocess.run([sys.executable, "-m", "bakegen", *argv[1:]], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / COMMITTED).read_bytes() == (ROOT / COMMITTED).read_bytes()
    assert (tmp_path / COMMITTED).stat().st_mtime_ns == before


# --- GitHub Actions --------------------------------------------------------------------------

def test_github_workflow_triggers_and_job():
    wf = github_workflow()
    on = github_on(wf)
    assert isinstance(on, dict) and {"push", "pull_request"} <= set(on), on
    assert on["push"]["tags"] == ["v*"] and on["push"]["branches"] == ["**"]  # release tags too
    assert wf["jobs"] and all(isinstance(j.get("steps"), list) and j["steps"] for j in wf["jobs"].values())
    for _, step in github_steps(wf):
        assert ("uses" in step) != ("run" in step), step
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+(/[\w./-]+)?@v\d+", step["uses"]), \
                f"pin {step['uses']} to a major version (@vN)"


def test_github_workflow_installs_the_release_and_builds_what_the_ref_owns():
    wf = github_workflow()
    steps = [s for _, s in github_steps(wf)]
    uses = [s.get("uses", "").split("@")[0] for s in steps]
    (checkout,) = [s for s in steps if s.get("uses", "").startswith("actions/checkout@")]
    assert checkout["with"]["fetch-depth"] == 0  # stamps and release aliases need the history
    (install,) = [s for s in steps if re.search(r"\bpip install\b", s.get("run", ""))]
    assert 'bakegen==$BAKEGEN_VERSION' in install["run"] and "pip install ." not in install["run"]
    # the team's index only: with an extra index pip would take a "bakegen" from pypi.org as readily
    assert norm(install["env"]["PIP_INDEX_URL"]) == "vars.PIP_INDEX_URL"
    assert "PIP_EXTRA_INDEX_URL" not in json.dumps(wf)
    (build,) = [s for s in steps if any(a[0] == "bake" for a in bakegen_args(s.get("run", "")))]
    (args,) = bakegen_args(build["run"])
    assert args[:3] == ["bake", "--ci", "--cache"] and "$PUSH" in args and "--metadata-file" in args
    assert norm(build["env"]["PUSH"]) == "github.event_name == 'push' && '--push' || ''"
    assert norm(build["env"]["BAKEGEN_DEFAULT_BRANCH"]) == "github.event.repository.default_branch"
    (login,) = [s for s in steps if s.get("uses", "").startswith("docker/login-action@")]
    assert norm(login["if"]) == "github.event_name == 'push'" and "secrets." in login["with"]["password"]
    for name in ("actions/checkout", "actions/setup-python", "docker/setup-qemu-action",
                 "docker/setup-buildx-action", "docker/login-action"):
        assert uses.index(name) < steps.index(build), name
    # bakegen first: it says which platforms need QEMU
    assert steps.index(install) < uses.index("docker/setup-qemu-action") < steps.index(build)


# --- who builds and who pushes: the recipes' rules evaluated, for one team's runs -------------

PROJECT, FORK = "team/svc", "someone/svc"


def gitlab_event(ref: str, *, tag: bool = False, merge_request: bool = False, fork: bool = False,
                 open_merge_request: bool = False) -> dict[str, str]:
    """GitLab's predefined variables of a pipeline (project 7; a fork is project 8, where a
    merge request pipeline from it runs): a push of a branch or tag, or a merge request."""
    event = {"CI": "true", "GITLAB_CI": "true", "CI_PROJECT_ID": "8" if fork else "7", "CI_COMMIT_REF_NAME": ref,
             "CI_DEFAULT_BRANCH": "main"}
    if merge_request:  # no CI_COMMIT_BRANCH in a merge request pipeline
        event.update(CI_PIPELINE_SOURCE="merge_request_event", CI_MERGE_REQUEST_IID="12",
                     CI_MERGE_REQUEST_PROJECT_ID="7", CI_MERGE_REQUEST_SOURCE_PROJECT_ID="8" if fork else "7",
                     CI_MERGE_REQUEST_SOURCE_BRANCH_NAME=ref, CI_MERGE_REQUEST_TARGET_BRANCH_NAME="main")
    else:
        event.update({"CI_PIPELINE_SOURCE": "push", ("CI_COMMIT_TAG" if tag else "CI_COMMIT_BRANCH"): ref})
        if open_merge_request:
            event["CI_OPEN_MERGE_REQUESTS"] = f"{PROJECT}!12"
    return event


def github_event(ref: str, folder: Path, *, tag: bool = False, pull_request: bool = False,
                 fork: bool = False) -> dict[str, str]:
    """A runner's GITHUB_* variables, and the event's payload written to a file in ``folder``
    (GITHUB_EVENT_PATH): a push of a branch or tag, or a pull request."""
    payload: dict = {"repository": {"full_name": PROJECT, "default_branch": "main"}}
    env = {"CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": PROJECT,
           "GITHUB_EVENT_NAME": "pull_request" if pull_request else "push"}
    if pull_request:
        payload["pull_request"] = {"number": 12, "head": {"ref": ref, "repo": {"full_name": FORK if fork else PROJECT}},
                                   "base": {"ref": "main"}}
        env.update(GITHUB_REF_NAME="12/merge", GITHUB_HEAD_REF=ref, GITHUB_BASE_REF="main")
    else:
        env.update(GITHUB_REF_NAME=ref, GITHUB_REF=f"refs/{'tags' if tag else 'heads'}/{ref}")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"event-{len(list(folder.glob('event-*.json')))}.json"
    path.write_text(json.dumps(payload))
    return {**env, "GITHUB_EVENT_PATH": str(path)}


# (the run, what both recipes do: "push" builds and pushes, "build" builds to test and pushes
# nothing, None runs no job)
RUNS = [
    ("a push to main", {}, "push"),
    ("a push to a branch", {}, "push"),
    ("a push to a branch whose merge request is open", {"open_merge_request": True}, "push"),
    ("a release tag", {"tag": True}, "push"),
    ("a merge request", {"merge_request": True}, None),
    ("a merge request from a fork", {"merge_request": True, "fork": True}, "build"),
]
REFS = {"a push to main": "main", "a release tag": "v1.2.3"}


def gitlab_does(ref: str, **kw) -> str | None:
    (job,) = gitlab_jobs().values()
    variables = gitlab_decision(job, gitlab_event(ref, **kw))
    return None if variables is None else "push" if variables["PUSH"] == "--push" else "build"


def github_does(folder: Path, ref: str, **kw) -> tuple[str | None, list[dict]]:
    merge_request = kw.pop("merge_request", False)
    kw.pop("open_merge_request", None)  # a push is a push, a pull request open or not
    context = github_context(github_event(ref, folder, pull_request=merge_request, **kw))
    steps = github_decision(github_workflow(), context)
    if steps is None:
        return None, []
    (push,) = [env["PUSH"] for step, env in steps if any(a[0] == "bake" for a in bakegen_args(step.get("run", "")))]
    assert push in ("--push", "")
    return ("push" if push else "build"), [step for step, _ in steps]


@pytest.mark.parametrize("run,kw,expected", RUNS, ids=[r[0] for r in RUNS])
def test_both_recipes_build_and_push_the_same_runs(run, kw, expected, tmp_path):
    """A branch pushes its images whether or not its merge request is open; a merge request of
    the project runs nothing (its branch's pipeline built and pushed that commit); one from a
    fork builds to test, without pushing, logging in or writing a cache."""
    ref = REFS.get(run, "feature/x")
    assert gitlab_does(ref, **kw) == expected
    does, steps = github_does(tmp_path, ref, **kw)
    assert does == expected
    names = {s.get("uses", "").split("@")[0] for s in steps}
    assert ("docker/login-action" in names) == (expected == "push")  # credentials only to push
    assert ("actions/upload-artifact" in names) == (expected == "push")


def test_gitlab_logs_in_only_to_push():
    (job,) = gitlab_jobs().values()
    (login,) = [l for l in gitlab_lines(job) if re.search(r"\bdocker login\b", l)]
    assert login.startswith('if [ -n "$PUSH" ]')
    assert job["variables"]["PUSH"] == "--push"  # the rules unset it, never the other way round
    assert all(r.get("variables", {}).get("PUSH", "") == "" for r in job["rules"])


@pytest.mark.parametrize("expr,variables,expected", [
    ('$A == "x"', {"A": "x"}, True),
    ("$A", {"A": ""}, False),
    ("$A == null", {}, True),
    ("$A != $B", {}, False),  # both unset: null and null
    ("$A != $B", {"A": "7", "B": "8"}, True),
    ("$A || $B && $C", {"A": "1"}, True),
    ("($A || $B) && $C", {"A": "1"}, False),
    ("$A == 'x' && $B", {"A": "x", "B": "y"}, True),
])
def test_gitlab_expression_reading(expr, variables, expected):
    assert gitlab_if(expr, variables) is expected


@pytest.mark.parametrize("expr,expected", [
    ("github.event_name == 'push' && '--push' || ''", "--push"),
    ("github.event_name == 'PUSH'", True),  # strings compare ignoring case
    ("github.event_name != 'push' && '--push' || ''", ""),
    ("github.event.pull_request.head.repo.full_name != github.repository", True),  # null on a push
    ("!(github.event_name == 'push')", False),
    ("${{ 'it''s' }}", "it's"),
])
def test_github_expression_reading(expr, expected):
    context = {"github": {"event_name": "push", "repository": PROJECT, "event": {}}}
    assert github_expr(expr, context) == expected


# --- QEMU only where it is needed ------------------------------------------------------------

def shim(folder: Path, name: str) -> Path:
    """A ``name`` program on PATH that only records its arguments in ``folder``/``name``.log."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f'#!/bin/sh\necho "$*" >> "{folder}/{name}.log"\n')
    path.chmod(0o755)
    return folder / f"{name}.log"


@pytest.mark.parametrize("repo,build_platform,expected", [
    ("base-images", "linux/amd64", "linux/arm64"),  # bases for amd64 and arm64, on an amd64 runner
    ("base-images", "linux/arm64", "linux/amd64"),
    ("ci-demo-go", "linux/amd64", None),  # a service on published bases: it cross-compiles
    ("amd64-only", "linux/amd64", None),
])
def test_the_gitlab_job_installs_qemu_only_for_what_needs_it(repo, build_platform, expected, tmp_path):
    """The job's own QEMU lines, run: binfmt is asked for exactly the platforms bakegen names."""
    (job,) = gitlab_jobs().values()
    lines = gitlab_lines(job)
    qemu = [l for l in lines if "platforms --emulated" in l or "tonistiigi/binfmt" in l]
    assert len(qemu) == 2 and all("--install all" not in l for l in lines), qemu
    first_docker = min(i for i, l in enumerate(lines) if re.search(r"\bdocker\b", l))
    assert lines.index(qemu[0]) < first_docker  # bakegen is installed before: it answers
    assert max(i for i, l in enumerate(lines) if "pip install" in l or "export PATH" in l) < lines.index(qemu[0])
    folder = tmp_path / repo
    shutil.copytree(ROOT / "examples/repos" / ("base-images" if repo == "amd64-only" else repo), folder)
    if repo == "amd64-only":
        settings = folder / "bake/bakegen.hcl"
        settings.write_text(settings.read_text().replace('["linux/amd64", "linux/arm64"]', '["linux/amd64"]'))
    log = shim(tmp_path / "bin", "docker")
    bakegen = shim(tmp_path / "bin", "bakegen").parent / "bakegen"
    bakegen.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m bakegen "$@"\n')
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}", "BAKEGEN_BUILD_PLATFORM": build_platform}
    r = subprocess.run(["sh", "-ec", "\n".join(qemu)], cwd=folder, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    ran = log.read_text().splitlines() if log.exists() else []
    assert ran == ([f"run --privileged --rm tonistiigi/binfmt --install {expected}"] if expected else []), ran


@pytest.mark.parametrize("output,expected", [("linux/arm64", "linux/arm64"), ("", None)])
def test_the_github_job_sets_up_qemu_only_for_what_needs_it(output, expected, tmp_path):
    """setup-qemu-action without platforms installs every one: it runs only when bakegen names
    some, and gets those."""
    (step,) = [s for _, s in github_steps(github_workflow()) if "platforms --emulated" in s.get("run", "")]
    out = tmp_path / "out"
    out.write_text("")
    folder = tmp_path / "repo"
    shutil.copytree(ROOT / "examples/repos/ci-demo-go", folder)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "bakegen").write_text(f"#!/bin/sh\necho '{output}'\n" if output else "#!/bin/sh\n")
    (bin_dir / "bakegen").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "GITHUB_OUTPUT": str(out)}
    subprocess.run(["sh", "-ec", step["run"]], cwd=folder, env=env, check=True, timeout=60)
    outputs = dict(line.split("=", 1) for line in out.read_text().splitlines())
    context = github_context(github_event("main", tmp_path), steps={step["id"]: {"outputs": outputs}})
    steps = [s for s, _ in github_decision(github_workflow(), context)]
    qemu = [s for s in steps if s.get("uses", "").startswith("docker/setup-qemu-action@")]
    assert [github_value(s["with"]["platforms"], context) for s in qemu] == ([expected] if expected else [])


def test_github_platforms_step_runs_the_real_bakegen(tmp_path):
    (step,) = [s for _, s in github_steps(github_workflow()) if "platforms --emulated" in s.get("run", "")]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "bakegen").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m bakegen "$@"\n')
    (bin_dir / "bakegen").chmod(0o755)
    out = tmp_path / "out"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "GITHUB_OUTPUT": str(out),
           "BAKEGEN_BUILD_PLATFORM": "linux/amd64"}
    subprocess.run(["sh", "-ec", step["run"]], cwd=ROOT / "examples/repos/base-images", env=env, check=True,
                   timeout=120, capture_output=True)
    assert out.read_text() == "platforms=linux/arm64\n"


# --- GitLab CI -------------------------------------------------------------------------------

def test_gitlab_job_uses_documented_keywords_and_dind():
    config = gitlab_config()
    for name, job in config.items():
        if name not in GITLAB_GLOBAL:
            assert set(job) <= GITLAB_JOB_KEYWORDS, f"{name}: unknown keywords {set(job) - GITLAB_JOB_KEYWORDS}"
    (job,) = gitlab_jobs().values()
    assert job["image"] == "docker:27" and "docker:27-dind" in job["services"]
    assert job["variables"]["DOCKER_TLS_CERTDIR"] == "/certs"
    assert config["variables"]["GIT_DEPTH"] == "0"
    # every tag, and GitLab's default flags kept (--prune --quiet): the variable replaces them
    assert config["variables"]["GIT_FETCH_EXTRA_FLAGS"].split() == ["--prune", "--quiet", "--tags"]
    lines = gitlab_lines(job)
    assert any(re.search(r"\bdocker buildx create\b.*--use", l) for l in lines)
    (install,) = [l for l in lines if re.search(r"\bpip install\b", l)]
    assert '"bakegen==$BAKEGEN_VERSION"' in install
    (args,) = [a for l in lines for a in bakegen_args(l) if a[0] == "bake"]
    assert args[:3] == ["bake", "--ci", "--cache"] and "$PUSH" in args
    text = GITLAB.read_text()
    assert "PIP_INDEX_URL" in text and not re.search(r"^#\s+PIP_EXTRA_INDEX_URL|or PIP_EXTRA_INDEX_URL", text, re.M)


# --- make targets ----------------------------------------------------------------------------

def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set()
    for m in re.finditer(r"^([^\s#:=][^:=#]*?)\s*::?(?!=)", text, re.M):
        targets.update(m.group(1).split())
    return targets


def make_targets_named(snippet: str) -> list[str]:
    """Targets of every `make ...` command in a snippet of shell or prose-free text."""
    named = []
    # Words separated by single spaces: two spaces start a comment column ("make print    what
    # bake would build"). The lookahead lets "make generate / make check" yield both.
    for m in re.finditer(r"(?<![\w.$/-])make(?=((?: [^\s;&|`'\"#)]+)+))", snippet):
        args = m.group(1).split()
        i = 0
        while i < len(args):
            a = args[i]
            if a in ("-C", "-f", "-j", "-I", "-o", "-W"):
                i += 2
                continue
            if a.startswith("-") or re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", a):
                i += 1
                continue
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", a):
                break
            named.append(a)
            i += 1
    return named


def make_snippets() -> list[tuple[str, str]]:
    """Command-like text that may name make targets: code in README.md, the Makefile's comments,
    messages and assignments, the generated file's header, help text in bakegen/, the recipes."""
    out = []
    readme = ROOT / "README.md"
    if readme.exists():
        text = readme.read_text(encoding="utf-8")
        blocks = re.findall(r"^(```|~~~)[^\n]*\n(.*?)^\1", text, re.M | re.S)
        out += [("README.md", b) for _, b in blocks]
        prose = re.sub(r"^(```|~~~)[^\n]*\n.*?^\1", "", text, flags=re.M | re.S)
        out += [("README.md", s) for s in re.findall(r"`([^`\n]+)`", prose)]
        out += [("README.md", l) for l in prose.splitlines() if l.startswith(("    ", "\t"))]
    for line in (ROOT / "Makefile").read_text(encoding="utf-8").splitlines():
        out.append(("Makefile", line.lstrip("#").strip()) if line.startswith("#") else ("Makefile", line))
    out += [(COMMITTED, l) for l in (ROOT / COMMITTED).read_text(encoding="utf-8").splitlines() if l.startswith("#")]
    for py in sorted((ROOT / "bakegen").glob("*.py")):
        for line in py.read_text(encoding="utf-8").splitlines():
            if line.strip().startswith("make ") or "``make " in line or "`make " in line:
                out.append((f"bakegen/{py.name}", line.strip().replace("``", "`")))
    for path in RECIPES + (ROOT / ".ci" / "run",):
        if path.exists():
            out += [(path.name, l) for l in path.read_text(encoding="utf-8").splitlines()]
    return out


def test_every_make_target_named_exists():
    targets = makefile_targets()
    assert {"generate", "check", "meta", "bake", "bake-apps", "print", "load", "test"} <= targets
    missing = []
    for where, snippet in make_snippets():
        for line in snippet.splitlines():
            for t in make_targets_named(line):
                if t not in targets:
                    missing.append(f"{where}: make {t}    ({line.strip()})")
    assert not missing, "make targets that the Makefile does not define:\n" + "\n".join(missing)


def test_phony_names_are_targets():
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    text = text.replace("\\\n", " ")
    phony = {t for m in re.finditer(r"^\.PHONY\s*:(.*)$", text, re.M) for t in m.group(1).split()}
    assert phony and phony <= makefile_targets(), phony - makefile_targets()


@pytest.mark.parametrize("text,expected", [
    ("make generate / make check", ["generate", "check"]),
    ("make bake BAKE_ARGS=--push", ["bake"]),
    ("'make generate meta' and read", ["generate", "meta"]),
    ("Regenerate with: make generate", ["generate"]),
    ("run `make genrate`", ["genrate"]),
    ("make -C sub print", ["print"]),
    ("cmake ..; make.bash", []),
])
def test_make_target_extraction(text, expected):
    assert make_targets_named(text) == expected
