"""The wheel carries templates/ and bake/: installed into a fresh venv, bakegen run from an empty
folder prints the golden file."""

import subprocess
import sys
import venv
import zipfile

import pytest

from conftest import GOLDEN, ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True, text=True)
    (whl,) = out.glob("bakegen-*.whl")
    return whl


def test_wheel_contents(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("bakegen/templates/docker-bake.hcl.j2", "bakegen/templates/meta.hcl.j2",
                   "bakegen/bake/bakegen.hcl", "bakegen/bake/golang-tools/Dockerfile",
                   "bakegen/bake/golang-tools/image.hcl", "bakegen/bake/ci-demo-go/Dockerfile",
                   "bakegen/data/go-sha256.json", "bakegen/data/protoc-sha256.json"):
        assert needed in names, needed


def test_installed_wheel_reproduces_the_golden_file(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    subprocess.run([env_dir / "bin" / "pip", "install", "--quiet", str(wheel)], check=True,
                   capture_output=True, text=True)
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = subprocess.run([env_dir / "bin" / "bakegen"], cwd=empty, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (GOLDEN / "default.hcl").read_text()
    assert list(empty.iterdir()) == []
