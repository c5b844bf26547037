"""Placeholders in definition strings (``schema.fill``): ``{name}`` filled in, ``{{`` and ``}}`` a
literal brace, ``${...}`` and ``%{...}`` never placeholders; and the literal text survives the
generated file, read back by Go's HCL and by ``docker buildx bake --print``."""

import re

import pytest
from conftest import bake_print, run_bakegen, strict_parse
from hypothesis import given
from hypothesis import strategies as st

from bakegen.errors import BakegenError
from bakegen.schema import fill

# Every key fill() handles, with the fields it fills there (apps.py, bases.py, targets.py, loader.py).
KEYS = {
    "description (toolchain)": ("description", {"version": "1.24.2", "variant": "debian12"}),
    "description (runtime)": ("description", {"variant": "debian12"}),
    "description (app)": ("description", {"app": "svc", "env": "dev"}),
    "repository": ("repository", {"app": "svc", "env": "dev"}),
    "config": ("config", {"app": "svc", "env": "dev"}),
    "binary": ("binary", {"app": "svc"}),
    "command": ("command", {"app": "svc", "env": "dev", "config": "etc/app_dev.yaml"}),
    "healthcheck": ("healthcheck", {"app": "svc", "env": "dev", "config": "etc/app_dev.yaml"}),
    "base_image": ("base_image", {"suite": "bookworm"}),
}
# What a definition string says once read (the HCL source in the comment), and what fill() gives.
HOSTILE = [
    ("HOME is ${HOME}", "HOME is ${HOME}"),  # "HOME is $${HOME}"
    ("100%{x}", "100%{x}"),  # "100%%{x}"
    ("%{ if x }y%{ endif }", "%{ if x }y%{ endif }"),
    ("${{x}}", "${x}"),  # "$${{x}}": the escape wins over ${
    ("{{x}}", "{x}"),
    ("{{", "{"),
    ("}}", "}"),
    ("{{{{}}}}", "{{}}"),
    ("a { b } c", "a { b } c"),  # a brace that is neither stays
    ('{"json": [1]}', '{"json": [1]}'),
    ("{", "{"),
    ("}", "}"),
    ("{1x}", "{1x}"),  # not a name: not a placeholder
    ("{ x }", "{ x }"),
    ("$", "$"),
    ("${", "${"),
    ("%{unclosed", "%{unclosed"),
    ("é{{ü}}", "é{ü}"),
]


def old_fill(text, **fields):
    """fill() before the escape: every {name} a placeholder."""
    return re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: fields[m[1]], text)


def escape(text):
    return text.replace("{", "{{").replace("}", "}}")


@pytest.mark.parametrize("case", sorted(KEYS))
@pytest.mark.parametrize("text, expected", HOSTILE)
def test_each_key_reads_escapes_and_hcl_templates_literally(case, text, expected):
    key, fields = KEYS[case]
    assert fill(text, key, "f:1", **fields) == expected


@pytest.mark.parametrize("case", sorted(KEYS))
def test_each_key_fills_its_fields_next_to_escapes(case):
    key, fields = KEYS[case]
    for name, value in fields.items():
        assert fill(f"{{{{{{{name}}}}}}} {{{{{name}}}}} ${{{name}}}", key, None, **fields) == \
            f"{{{value}}} {{{name}}} ${{{name}}}"


@pytest.mark.parametrize("case", sorted(KEYS))
def test_each_key_refuses_an_unknown_placeholder_and_names_the_escape(case):
    key, fields = KEYS[case]
    with pytest.raises(BakegenError) as e:
        fill("a {HOME} b", key, "bake/x/image.hcl:3", **fields)
    known = ", ".join(f"{{{f}}}" for f in fields)
    assert str(e.value) == (f'bake/x/image.hcl:3: {key} "a {{HOME}} b": unknown placeholder {{HOME}}; '
                            f"known here: {known} (write {{{{HOME}}}} for the text {{HOME}})")


TEXT = st.text(st.sampled_from("{}$%ab_ \\\"é"), max_size=24)


@given(TEXT)
def test_an_escaped_text_reads_back_as_itself(text):
    assert fill(escape(text), "description", None, app="svc") == text


@given(TEXT.filter(lambda t: not any(s in t for s in ("{{", "}}", "${", "%{"))),
       st.sampled_from(["", "{app}", "{env}"]))
def test_a_text_without_the_new_escapes_means_what_it_meant(text, placeholder):
    """No valid definition changes meaning: only "{{", "}}", "${" and "%{" read differently."""
    text = text + placeholder
    if not any(s in text for s in ("{{", "}}", "${", "%{")):
        try:
            before = old_fill(text, app="svc", env="dev")
        except KeyError:
            with pytest.raises(BakegenError, match="unknown placeholder"):
                fill(text, "description", None, app="svc", env="dev")
        else:
            assert fill(text, "description", None, app="svc", env="dev") == before


@given(TEXT.filter(lambda t: not t.endswith(("$", "%"))), TEXT)
def test_a_placeholder_between_escaped_texts(before, after):
    assert fill(escape(before) + "{app}" + escape(after), "command", None, app="s{v}c") == before + "s{v}c" + after


# ---------------------------------------------------------------- the round trip
APP = "bake/ci-demo-go/image.hcl"
DESCRIPTION = "HOME is $${HOME}, 100%%{x}, {{app}} is {app}, a {{{env}}} b }} c, a { lone"
COMMAND = r'["-f", "/app/{config}", "--format={{.State}}", "$${PORT}", "%%{x}", "\"{{q}}\""]'


def edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_literal_braces_reach_the_bake_file_and_buildx_reads_them(project):
    edit(project / APP, '"ci-demo-go sample Go service ({env})"', f'"{DESCRIPTION}"')
    edit(project / APP, 'command     = ["-f", "/app/{config}"]', f"command     = {COMMAND}")
    edit(project / "bake/golang-runtime/image.hcl", '({variant})"', '({variant}, $${SUITE} {{variant}})"')
    r = run_bakegen("-o", "docker-bake.hcl", cwd=project)
    assert r.code == 0, r
    want = "HOME is ${HOME}, 100%{x}, {app} is ci-demo-go, a {prd} b } c, a { lone"
    cmd = '["-f", "/app/etc/app_prd.yaml", "--format={.State}", "${PORT}", "%{x}", "\\"{q}\\""]'
    printed = bake_print(project, "docker-bake.hcl")["target"]
    for targets, literal in ((strict_parse((project / "docker-bake.hcl").read_text())["target"], str),
                             (printed, from_print)):
        prd = targets["ci-demo-go-prd"]
        assert prd["description"] == want
        assert literal(prd["labels"]["org.opencontainers.image.description"]) == want
        dockerfile = literal(prd.get("dockerfile-inline") or targets["_ci-demo-go"]["dockerfile-inline"])
        assert "FROM app AS env-prd\nENV APP=ci-demo-go APP_ENV=prd APP_CONFIG=/app/etc/app_prd.yaml\n" in dockerfile
        assert f"CMD {cmd}\n" in dockerfile
        assert targets["golang-runtime"]["description"].endswith("(debian13, ${SUITE} {variant})")


def from_print(text):
    """A string of ``bake --print``'s args, labels or dockerfile-inline as bake reads it: buildx
    prints them escaped again ("$${", "%%{"), so that the printed JSON is itself a bake file."""
    return text.replace("$${", "${").replace("%%{", "%{")
