"""bakegen.dockerignore against the real BuildKit: the files a build context sends are the ones
the module calls visible.

The pure tests pin the reading and the matching with hand-written expectations. The BuildKit tests
build `FROM scratch` + `COPY . /` (the built-in frontend: no `# syntax=` line) with a local output
and compare the files that arrive with those expectations and with the module: one build for a
tree of awkward names, one for the hand-written cases (each a named build context with its own
.dockerignore), one per pattern that fails the build, two for seeded random cases. They
skip when the harness (scripts/buildkit-harness) is not up or `docker buildx` is missing.
"""

from __future__ import annotations

import os
import random
import subprocess
from pathlib import Path

import pytest
from conftest import BUILDX
from harness import load_facts

from bakegen.dockerignore import excluded, parse, prunable_dir, visible
from bakegen.errors import BakegenError

ENV_BUILDER = os.environ.get("BAKEGEN_TEST_BUILDER")
DI = ".dockerignore"


# ------------------------------------------------------------------------------ reading
PARSE_CASES = [
    ("# comment\n\n   \na\n", ["a"]),
    ("\ufeff# a comment after the BOM\nb\r\nc\r\n", ["b", "c"]),
    ("  # not a comment\n", ["# not a comment"]),
    ("\t x \t\n!  y\n", ["x", "!y"]),
    ("/abs/path\n/\n./rel/\na//b/../c\n**/\n", ["abs/path", "/", "rel", "a/c", "**"]),
    ("/ foo\n! / foo\n", ["foo", "! foo"]),  # trimmed again, and not again after '!'
    ("!../../a\n!../b\n..\n!x/..\n", ["a", "!../b", "..", "!."]),  # the second Clean eats '!..'
    ("a\u00a0\u3000\n\u200bb\n", ["a", "\u200bb"]),  # Go's spaces, not zero-width ones
    ("a\x1c\r\né\n", ["a\x1c", "é"]),  # \x1c is space to Python, not to Go
    ("\ufeffa\n\ufeffb\n", ["a", "\ufeffb"]),
    ("#x\n!#x\na\\ b\nlast", ["!#x", "a\\ b", "last"]),
    ("/ /\n", []),  # cleaned to " ", then blank
]


@pytest.mark.parametrize(("text", "expected"), PARSE_CASES)
def test_parse_reads_as_ignorefile_and_patternmatcher_do(text, expected):
    assert [("!" if p.exclusion else "") + p.text for p in parse(text)] == expected


def test_parse_names_the_line():
    assert [p.where for p in parse("a\n\n# c\n!b\n", "sub/Dockerfile.dockerignore")] == [
        "sub/Dockerfile.dockerignore:1", "sub/Dockerfile.dockerignore:4"]


# ------------------------------------------------------------------------------ matching
# (.dockerignore text, files in the context besides .dockerignore, the files the build sees)
MATCH_CASES = [
    ("*.md\n!README*.md\nREADME-secret.md\n", ["README.md", "README-secret.md", "CHANGES.md", "docs/x.md"],
     [DI, "README.md", "docs/x.md"]),
    ("build\n", ["build/a", "build/sub/b", "builder/c", "src/build"], [DI, "builder/c", "src/build"]),
    ("build/\n!build/keep\n", ["build/a", "build/keep", "build/keep2"], [DI, "build/keep"]),
    ("D/*\n!D\n", ["D/f", "D/sub/g", "top"], [DI, "top"]),  # inherited per pattern: !D does not undo D/*
    ("D\n!D/sub\nD/sub/x\n", ["D/f", "D/sub/g", "D/sub/x/y"], [DI, "D/sub/g"]),
    ("x\n!x/**/keep\n", ["x/keep", "x/a/keep", "x/a/other"], [DI, "x/a/keep", "x/keep"]),
    ("**foo\n", ["foo", "xfoo", "d/xfoo", "foox"], [DI, "foox"]),  # a suffix, not (.*/)?foo
    ("**/foo\n", ["foo", "xfoo", "d/foo", "d/xfoo", "e/foo/bar"], [DI, "d/xfoo", "xfoo"]),
    ("a**b\n", ["ab", "axb", "ax/b", "a/b", "a/x/b"], [DI, "axb"]),
    ("a/**\n", ["a/x", "a/y/z", "ab"], [DI, "ab"]),
    ("a**\n", ["a", "abc", "a0/x", "ba"], [DI, "ba"]),
    ("**\n", ["a", "b/c"], []),
    (".\n", ["a", "b/c"], [DI, "a", "b/c"]),
    ("[!a]x\n", ["ax", "bx", "!x"], [DI, "bx"]),  # '!' is a member, not a negation
    ("[^a]x\n", ["ax", "bx", "!x"], [DI, "ax"]),
    ("[a-c]?\n", ["a1", "d1", "b1/x", "c"], [DI, "c", "d1"]),
    ("[*]\n", ["*", "]", "[]", "^]", "x]"], [DI, "*", "x]"]),  # the regexp [[^/]*]
    ("[?]\n", ["?", "x", "[]", "^]"], [DI, "?", "x"]),
    ("\\*\nq\\?\n", ["*", "x", "q?", "qx"], [DI, "qx", "x"]),
    ("^a*\n^b\n", ["a", "ab", "^ab", "^b", "b"], [DI, "^ab", "b"]),  # ^ anchors a regexp only
    ("?\n", ["a", "ab", "c/d"], [DI, "ab"]),
    ("*/x\n", ["x", "a/x", "a/b/x"], [DI, "a/b/x", "x"]),
    ("/ foo\n", ["foo", " foo"], [DI, " foo"]),
    ("!../../a\n", ["a", "b"], [DI, "b"]),
    ("#a\n #b\n", ["#a", " #b", "#b"], [DI, " #b", "#a"]),
    ("a\r\nb\r\n", ["a", "b", "c"], [DI, "c"]),
    ("a\\.b\na.c\n(x)+\n", ["a.b", "axb", "a.c", "axc", "(x)+", "xx"], [DI, "axb", "axc", "xx"]),
    ("a?b\n", ["a\nb", "axb", "a/b"], [DI, "a/b"]),  # ? takes a newline
    ("**/x*\n", ["a\nb/x", "c/x"], [DI, "a\nb/x"]),  # ** (a regexp's .*) does not
    ("caf?\n", ["café", "cafe", "cafés"], [DI, "cafés"]),  # one character, not one byte
    ("a\tb\né\n", ["a\tb", "é", "x"], [DI, "x"]),  # a control character is fine beside non-ASCII
    ("!\\y\n", ["a"], [DI, "a"]),  # never consulted, so its bad regexp does no harm
    ("*\n!a\n", ["a", "b", "c/d"], ["a"]),
    ("*\n!.dockerignore\n", ["a"], [DI]),
    ("a*[]x]\n", ["a]", "ax", "a]x", "abx", "ay"], [DI, "ay"]),  # [] is no class to Go's glob check; ] is a member
    ("ab*c\\\n", ["abc$", "abxc$zz", "abc", "abc\\"], [DI, "abc", "abc\\"]),  # the trailing \ escapes the $
    ("a\u00a0\u3000\n\u200bb\n", ["a", "a\u00a0\u3000", "b", "\u200bb"], [DI, "a\u00a0\u3000", "b"]),  # Go's spaces
    ("a\x1c\né\n", ["a", "a\x1c", "é"], [DI, "a"]),  # \x1c is no space to Go
    ("a\udcff\n", ["a\udcff", "a\ufffd", "b"], [DI, "a\udcff", "b"]),  # a byte not UTF-8 becomes U+FFFD
    ("a\udcff*\nb?\n", ["a\udcff", "a\udcfe", "a\ufffd", "b\udcfe", "c"], [DI, "c"]),  # a regexp reads bad bytes so
]


@pytest.mark.parametrize(("text", "files", "expected"), MATCH_CASES)
def test_visible_matches_the_hand_written_cases(text, files, expected):
    assert visible(parse(text), [*files, DI]) == sorted(expected)


def test_excluded_and_prunable_dir():
    patterns = parse("build\n!build/keep\nnode_modules\n")
    assert excluded(patterns, "build/a") and not excluded(patterns, "build/keep")
    assert prunable_dir(patterns, "node_modules") and prunable_dir(patterns, "node_modules/x")
    assert not prunable_dir(patterns, "build")  # !build/keep may re-include something inside
    assert not prunable_dir(parse("build\n!*/keep\n"), "build")  # a glob exception: walk everything
    assert not prunable_dir(patterns, "src")
    with pytest.raises(ValueError):
        excluded(patterns, "./a")


# ------------------------------------------------------------------------------ failures
# (.dockerignore text, files, whether BuildKit fails the build)
FAILURES = [
    ("!\n", ["a"], True),
    ("! /\n", ["a"], True),
    ("a\\\n", ["a"], True),
    ("[a\n", ["a"], True),
    ("[]a\n", ["a"], True),
    ("[a-]\n", ["a"], True),
    ("ok\na\tb\n", ["a"], True),  # a control character in an all-ASCII list breaks the gRPC header
    ("x\x7f\n", ["a"], True),
    ("a" * 65536 + "\n", ["a"], True),
    ("a" * 65535 + "\r\n", ["a"], True),  # the \r counts
    ("a" * 65535 + "\n", ["a"], False),
    ("[z-a]\n", ["a"], True),  # a Go regexp error, consulted for the first file
    ("a\n!\\y\n", ["a"], True),
    ("!\\y\n", ["a"], False),
    ("!x*[a\n", ["a"], False),  # Go's glob check stops at the first * when "x" does not match "."
    ("!?*[a\n", ["a"], True),  # "?" matches ".", so the check reads on
    ("x*[a\n", ["a"], True),  # the regexp x[^/]*[a has no ], and is consulted
]


def module_fails(text: str, files: list[str]) -> bool:
    try:
        visible(parse(text), [*files, DI])
    except BakegenError:
        return True
    return False


@pytest.mark.parametrize(("text", "files", "fails"), FAILURES, ids=lambda v: repr(v)[:24])
def test_module_refuses_what_fails_the_build(text, files, fails):
    assert module_fails(text, files) is fails


def test_refusals_are_one_line_and_name_the_line():
    with pytest.raises(BakegenError) as e:
        parse("ok\n\n[a\n")
    assert e.value.where == ".dockerignore:3" and "\n" not in str(e.value)
    with pytest.raises(BakegenError) as e:
        visible(parse("a\n\\d\n"), ["b"])  # valid to Go (a digit), not reproduced here
    assert e.value.where == ".dockerignore:2"


# ------------------------------------------------------------------------------ BuildKit
@pytest.fixture(scope="module")
def builder() -> str:
    facts = load_facts()
    if facts is None:
        pytest.skip("the BuildKit harness is not up (scripts/buildkit-harness up)")
    if not BUILDX:
        pytest.skip("`docker buildx version` fails: no buildx")
    return ENV_BUILDER or facts["BUILDER"]


def write_context(root: Path, files: list[str], ignore: str | None) -> None:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(name.encode("utf-8", "surrogateescape"))
    if ignore is not None:
        (root / DI).write_bytes(ignore.encode("utf-8", "surrogateescape"))


def build(builder: str, out: Path, context: Path, dockerfile: Path, named: dict[str, Path] | None = None):
    """`docker buildx build` with a local output; the finished process."""
    cmd = ["docker", "buildx", "build", "--builder", builder, "--progress=quiet", "-f", str(dockerfile),
           "--output", f"type=local,dest={out}"]
    for name, path in (named or {}).items():
        cmd += ["--build-context", f"{name}={path}"]
    return subprocess.run([*cmd, str(context)], capture_output=True, text=True, timeout=600)


def files_in(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() or p.is_symlink())


def seen_by_buildkit(builder: str, tmp: Path, cases: list[tuple[str, list[str]]]) -> list[list[str]]:
    """The files each (ignore text, files) context sends: one build, a named context per case."""
    lines, named = ["FROM scratch"], {}
    for n, (text, files) in enumerate(cases):
        named[f"c{n}"] = tmp / f"c{n}"
        write_context(named[f"c{n}"], files, text)
        lines.append(f"COPY --from=c{n} . /c{n}/")
    (tmp / "Dockerfile").write_text("\n".join(lines) + "\n")
    (tmp / "main").mkdir()
    proc = build(builder, tmp / "out", tmp / "main", tmp / "Dockerfile", named)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [files_in(tmp / "out" / f"c{n}") for n in range(len(cases))]


TREE = [
    "Dockerfile", "README.md", "main.go", ".env", "app/.env", ".git/HEAD", ".git/objects/ab/cdef",
    "with space.txt", " lead", "trail ", "tab\tname", "new\nline", "br[a]ck", "st*r", "q?mark", "back\\slash",
    "car^et", "ex!clam", "#hash", "# not a comment", "dollar$", "plus+", "paren(x)", "brace{y}", "pipe|x",
    "dot.file.txt", "café/menu.txt", "日本/ファイル.txt", "deep/a/b/c/d/e/f/g.txt", "deep/a/b/keep.txt",
    "deep/a/other.txt", "node_modules/x/index.js", "pkg/node_modules/y.js", "pkg/src/z.js", "build/out.bin",
    "build/keep.txt", "build/sub/keep.txt", "docs/README.md", "docs/api/v1.md", "docs/api/v2.txt",
    "logs/2024/app.log", "x.log", "sub/y.log", "sub/z.log", "foo", "foobar", "xfoo", "sub/foo/z", "D/f",
    "D/sub/g", "tmp/.keep", "tmp/cache/a", "vendor/m/LICENSE", "vendor/m/x.go", ".github/workflows/ci.yml",
    "bake/app/Dockerfile", "bake/app/image.hcl",
]
TREE_IGNORE = (
    "\ufeff# the usual and the odd\r\nDockerfile\n.dockerignore\n.git\n**/.env\n*.log\n!sub/y.log\n"
    "node_modules\n**/node_modules\nbuild/\n!build/keep.txt\ndocs/**\n!docs/api/*.md\ndeep/a/b\n"
    "!deep/a/b/c/d\nbr\\[a\\]ck\nst\\*r\nq?mark\nback\\\\slash\ncar^et\n  # not a comment\n**foo\n!foo\n"
    "caf[é]/*\n日本\n/ lead\ntrail \nwith space.txt\ntab?name\nnew?line\nD/*\n!D\ntmp/*\n!tmp/.keep\n"
    "vendor\n!vendor/*/LICENSE\n.github/\nbake/*/Dockerfile\nparen(x)\nbrace{y}\ndollar$\npipe|x\nplus+\n"
)


@pytest.mark.slow
def test_buildkit_sends_what_visible_says_for_a_tree_of_awkward_names(builder, tmp_path):
    context = tmp_path / "context"
    write_context(context, TREE, TREE_IGNORE)
    (context / "Dockerfile").write_text("FROM scratch\nCOPY . /\n")
    proc = build(builder, tmp_path / "out", context, context / "Dockerfile")
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = files_in(tmp_path / "out")
    assert got == visible(parse(TREE_IGNORE), [*TREE, DI])
    assert "Dockerfile" not in got and DI not in got  # excluded means not sent, these two as well
    assert 10 < len(got) < len(TREE) - 30


@pytest.mark.slow
def test_buildkit_sends_what_the_hand_written_cases_say(builder, tmp_path):
    got = seen_by_buildkit(builder, tmp_path, [(text, files) for text, files, _ in MATCH_CASES])
    assert [(text, seen) for (text, _, _), seen in zip(MATCH_CASES, got, strict=True)] == [
        (text, sorted(expected)) for text, _, expected in MATCH_CASES]


@pytest.mark.slow
def test_a_dockerfile_s_own_ignore_file_replaces_the_context_s(builder, tmp_path):
    context, files = tmp_path / "context", ["a", "b", "c", "sub/Dockerfile", "sub/Dockerfile.dockerignore"]
    write_context(context, files, "a\n")
    own = "b\nsub\n"
    (context / "sub/Dockerfile").write_text("FROM scratch\nCOPY . /\n")
    (context / "sub/Dockerfile.dockerignore").write_text(own)
    proc = build(builder, tmp_path / "out", context, context / "sub/Dockerfile")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert files_in(tmp_path / "out") == visible(parse(own), [*files, DI]) == [DI, "a", "c"]


@pytest.mark.slow
@pytest.mark.parametrize(("text", "files", "fails"), FAILURES, ids=lambda v: repr(v)[:24])
def test_buildkit_fails_where_the_module_refuses(builder, tmp_path, text, files, fails):
    write_context(tmp_path / "context", files, text)
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY . /\n")
    proc = build(builder, tmp_path / "out", tmp_path / "context", tmp_path / "Dockerfile")
    assert (proc.returncode != 0) is fails, proc.stderr[-3000:]


# ------------------------------------------------------------------------------ random cases
NAMES = ["a", "b", "ab", ".h", "x y", "é", "[a]", "a*", "!n", "q?"]  # few, so that directories are shared
GLOBS = ["*", "**", "?", "[ab]", "[^a]", "[!a]", "\\*", "..", "."]


def random_case(rng: random.Random) -> tuple[str, list[str]]:
    """A small tree of NAMES, and patterns made from its paths, parts blurred into globs."""
    paths = {"/".join(rng.choice(NAMES) for _ in range(rng.randint(1, 4))) for _ in range(rng.randint(4, 12))}
    files = sorted(p for p in paths if not any(q.startswith(p + "/") for q in paths))  # a file or a directory
    return "\n".join(random_pattern(rng, rng.choice(files)) for _ in range(rng.randint(3, 8))) + "\n", files


def random_pattern(rng: random.Random, path: str) -> str:
    """A pattern for the file at ``path`` or one of its directories."""
    parts = path.split("/")[: rng.randint(1, path.count("/") + 1)]
    parts = [blur(rng, part) if rng.random() < 0.4 else "".join("\\" * (c in "*?[]\\") + c for c in part)
             for part in parts]
    line = "/".join(parts) + rng.choice(["", "", "", "", "/", "/*", "/**"])
    return rng.choice(["", "", "", "!", "!", "/", " ", "**/"]) + line


def blur(rng: random.Random, part: str) -> str:
    c = part[0] if part[0].isalnum() else "a"
    return rng.choice(["*", "**", "?" * len(part), c + "*", "*" + part[-1], f"[{c}x]{part[1:]}", f"[!{c}]{part[1:]}",
                       f"[^{c}]{part[1:]}", f"[{c}-z]*", rng.choice(GLOBS)])


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_buildkit_agrees_on_random_cases(builder, tmp_path, seed):
    rng = random.Random(seed)
    cases = [case for case in (random_case(rng) for _ in range(100)) if not module_fails(*case)]
    assert len(cases) > 80
    got = seen_by_buildkit(builder, tmp_path, cases)
    wrong = [(text, files, seen) for (text, files), seen in zip(cases, got, strict=True)
             if seen != visible(parse(text), [*files, DI])]
    assert not wrong
