"""bakegen.dockerignore: the reading and the matching, pinned with hand-written expectations
(each found so against BuildKit)."""

from __future__ import annotations

import pytest

from bakegen.dockerignore import excluded, parse, prunable_dir, visible
from bakegen.errors import BakegenError

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

