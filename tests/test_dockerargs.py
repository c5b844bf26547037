"""bakegen's ARG reader against BuildKit's own Dockerfile parser (the `dockerfile` package), on
every Dockerfile bakegen ships and on the cases a line-based reader gets wrong."""

from pathlib import Path

import dockerfile
import pytest
from conftest import ROOT

from bakegen.dockerargs import AUTOMATIC, declared_args

SHIPPED = sorted({*ROOT.glob("bake/*/Dockerfile"), *ROOT.glob("examples/**/Dockerfile")})

CASES = {
    "continuations": "ARG A=1 \\\n    B \\\n    C=\"x y\"\nFROM scratch\n",
    "comment inside a continuation": "FROM scratch\nRUN echo \\\n# ARG NOT_ME\n    done\nARG X\n",
    "heredoc body": "FROM scratch\nCOPY <<EOF /f\nARG NOT_ME=1\nEOF\nARG AFTER=2\n",
    "indented heredoc": "FROM scratch\nRUN <<-EOT sh\n\tARG NOT_ME\n\tEOT\nARG Y\n",
    "quoted heredoc word": "FROM scratch\nRUN <<'END'\nARG NOT_ME\nEND\nARG Z=\n",
    "escape directive": "# escape=`\nARG W=1 `\n    V\nFROM scratch\n",
    "lower case and spaces": "  arg   lower=1\nFROM scratch\n",
    "automatic args": "FROM scratch\nARG TARGETARCH\nARG BUILDPLATFORM\nARG MINE\n",
    "default in a later stage": "ARG R\nFROM scratch\nARG R=now\n",
}


def buildkit(text: str, tmp_path: Path) -> tuple[frozenset[str], frozenset[str]]:
    path = tmp_path / "Dockerfile"
    path.write_text(text)
    declared, defaulted = set(), set()
    for c in dockerfile.parse_file(str(path)):
        if c.cmd.upper() == "ARG":
            for item in c.value:
                name, eq, _ = item.partition("=")
                declared.add(name)
                if eq:
                    defaulted.add(name)
    return frozenset(declared - AUTOMATIC), frozenset(declared - defaulted - AUTOMATIC)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_dockerfile_reads_as_buildkit_reads_it(path, tmp_path):
    text = path.read_text()
    assert declared_args(text) == buildkit(text, tmp_path)
    assert declared_args(text)[0]  # each declares something: the comparison is not empty


@pytest.mark.parametrize("name", sorted(CASES))
def test_hard_cases_read_as_buildkit_reads_them(name, tmp_path):
    assert declared_args(CASES[name]) == buildkit(CASES[name], tmp_path)
    assert "NOT_ME" not in declared_args(CASES[name])[0]
