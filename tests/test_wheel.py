"""The wheel carries templates/, bake/ and data/: unpacked (nothing installed, no network) and
run from an empty folder, it prints the built-in example and names it as such."""

import subprocess
import sys
import zipfile

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    # hatchling comes with the test dependencies: no isolated build environment to download
    proc = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    (whl,) = out.glob("bakegen-*.whl")
    return whl


def test_wheel_contents(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("bakegen/templates/docker-bake.hcl.j2", "bakegen/templates/meta.hcl.j2",
                   "bakegen/templates/init/app.hcl.j2", "bakegen/bake/bakegen.hcl", "bakegen/bake/lib/apt-mirror",
                   "bakegen/bake/golang-tools/Dockerfile", "bakegen/bake/golang-tools/image.hcl",
                   "bakegen/bake/ci-demo-go/image.hcl", "bakegen/templates/app.Dockerfile.j2",
                   "bakegen/data/go-sha256.json",
                   "bakegen/data/protoc-sha256.json"):
        assert needed in names, needed
    assert not [n for n in names if n.endswith((".pyc", ".pickle"))]


def test_the_unpacked_wheel_runs_from_an_empty_folder(wheel, tmp_path):
    unpacked = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(unpacked)
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {"PYTHONPATH": str(unpacked), "BAKEGEN_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    where = subprocess.run([sys.executable, "-c", "import bakegen; print(bakegen.__file__)"], cwd=empty, env=env,
                           capture_output=True, text=True)
    assert where.stdout.startswith(str(unpacked)), where
    proc = subprocess.run([sys.executable, "-m", "bakegen"], cwd=empty, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (ROOT / "docker-bake.hcl").read_text()
    assert "built-in example" in proc.stderr
    assert list(empty.iterdir()) == []
    init = subprocess.run([sys.executable, "-m", "bakegen", "init"], cwd=empty, env=env, capture_output=True, text=True)
    assert init.returncode == 0, init.stderr
    assert (empty / "bake" / "golang-tools" / "Dockerfile").read_text() == (ROOT / "bake/golang-tools/Dockerfile").read_text()
