"""The one escaping function: Go's HCL parser must read back exactly what went in."""

import json
import unicodedata

import pygohcl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bakegen import render
from bakegen.loader import templates
from bakegen.model import BakeFile, Context, Ref, Target, Value, Variable
from bakegen.render import hcl_escape, hcl_key, hcl_string, render_json

HOSTILE = [
    "", "plain", 'quote " inside', "back\\slash", "\\\"", "trailing\\", "${REGISTRY}", "$${x}", "$$${x}",
    "%{ if true }x%{ endif }", "%%{", "$", "%", "${", "}", "new\nline", "cr\rlf\r\n", "tab\t",
    "\x00nul", "\x1bescape", "\x7fdel", "\u0085nel", "\u2028sep", "ünïcödé ✓ 中文 🐳", "\"}\ntarget \"evil\" {",
    "a\" = \"b", "${file(\"/etc/passwd\")}", "\\${x}", "\ud800lone",
]


def roundtrip(value: str) -> str:
    return pygohcl.loads(f"x = {hcl_string(value)}\n")["x"]


def nfc(value: str) -> str:
    """Go's HCL normalizes every string to NFC, escaped or not; bakegen writes that form."""
    return unicodedata.normalize("NFC", value)


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_strings_read_back_exactly(value):
    expected = value.replace("\ud800", "\ufffd")
    assert roundtrip(value) == expected


def test_non_nfc_text_is_written_in_the_form_buildx_reads():
    assert roundtrip("\u1f71") == "\u03ac" == nfc("\u1f71")
    assert hcl_escape("e\u0301") == "\u00e9"


def test_escape_output_has_no_raw_newline_or_open_template():
    for value in HOSTILE:
        out = hcl_escape(value)
        assert "\n" not in out and "\r" not in out
        assert "${" not in out.replace("$${", "") and "%{" not in out.replace("%%{", "")


def test_map_keys():
    assert hcl_key("BASE_IMAGE") == "BASE_IMAGE"
    assert hcl_key("org.opencontainers.image.title") == '"org.opencontainers.image.title"'
    assert pygohcl.loads(f'm = {{ {hcl_key("a.b/c:d")} = "v" }}\n')["m"] == {"a.b/c:d": "v"}


# Bounded: 500 arbitrary strings (every Unicode category hypothesis draws, control characters included).
@settings(max_examples=500, deadline=None)
@given(st.text())
def test_any_string_reads_back_exactly(value):
    assert roundtrip(value) == nfc(value)


def hostile_bake(text: str) -> BakeFile:
    t = Target(name="t", image="t", kind="toolchain", description=text, context=text, dockerfile=text,
               platforms=["linux/amd64"], tags=[Ref("a/b", "c", why="why")],
               args={"A": Value(text, "")}, labels={text or "k": Value(text, "")},
               contexts=[Context(Ref(text, registry=False), None, "", path=text),
                         Context(Ref("x/" + text, registry=True), "other", "")],
               refs={"B": Ref(text, registry=True), "C": Ref(text, registry=False)},
               pull=True, provenance=False, network="host", extra_hosts={text or "h": text})
    return BakeFile([Variable("REGISTRY", text or "r", text, pattern="^.*$", error_message=text or "m")],
                    {"default": ["t"]}, [t])


# Bounded: 200 whole bake files with one hostile string in every place a string can go.
@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_hostile_text_cannot_add_or_change_blocks(text):
    parsed = pygohcl.loads(render_hcl(hostile_bake(text), command=text))
    text = nfc(text)
    assert list(parsed["target"]) == ["t"]
    t = parsed["target"]["t"]
    assert t["description"] == text and t["context"] == text and t["dockerfile"] == text
    assert t["args"] == {"A": text, "B": "REGISTRY/" + text, "C": text}
    assert t["contexts"] == {text: text, "REGISTRY/x/" + text: "target:other"}
    assert t["labels"] == {text or "k": text}
    assert t["extra-hosts"] == {text or "h": text}
    assert t["tags"] == ["REGISTRY/a/b:c"]  # the registry variable, decoded by name
    assert list(parsed["group"]) == ["default"] and list(parsed["variable"]) == ["REGISTRY"]


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=60))
def test_json_output_escapes_templates(text):
    doc = json.loads(render_json(templates(), hostile_bake(text)))
    t = doc["target"]["t"]
    assert t["description"] == nfc(text).replace("${", "$${").replace("%{", "%%{")
    assert t["tags"] == ["${REGISTRY}/a/b:c"]
    escaped = nfc(text).replace("${", "$${").replace("%{", "%%{")
    assert t["args"] == {"A": escaped, "B": "${REGISTRY}/" + escaped, "C": escaped}


@pytest.mark.parametrize("key", ["null", "true", "false", "for", "in", "if"])
def test_keywords_as_map_keys_are_quoted(key):
    """Found by the hostile-text test (`null`, then `for`, which starts a for-expression)."""
    assert hcl_key(key) == f'"{key}"'
    assert pygohcl.loads(f"m = {{ {hcl_key(key)} = 1 }}\n")["m"] == {key: 1}


def test_header_comment_cannot_break_out():
    text = render_hcl(hostile_bake("x"), command="bakegen\ntarget \"evil\" {}")
    assert "evil" not in pygohcl.loads(text).get("target", {})


def test_json_output_is_valid_utf8_even_for_undecodable_input():
    text = render_json(templates(), hostile_bake("branch\udcff"))  # surrogateescape of a non-UTF-8 byte
    text.encode("utf-8")
    assert json.loads(text)["target"]["t"]["description"] == "branch\ufffd"


def render_hcl(bake: BakeFile, command: str) -> str:
    return render.render_hcl(templates(), bake, command)
