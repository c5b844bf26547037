"""The template cache cannot be used against its user: compiled templates (marshaled code) planted
in a cache folder that group or others can write, or that another user owns, never run and never
reach the output; a tampered entry is recompiled. A control shows the planted code is real: in a
private folder with the right checksum, it would run."""

import os
import pickle
import sys

import jinja2
import pytest
from conftest import ROOT, run_bakegen

TEMPLATE = "docker-bake.hcl.j2"
COMMITTED = (ROOT / "docker-bake.hcl").read_text()


def folder_for(cache):
    return cache / f"jinja-{jinja2.__version__}-py{sys.version_info[0]}.{sys.version_info[1]}"


def plant(cache, marker, *, right_checksum=True):
    """A compiled docker-bake.hcl.j2 whose module code writes ``marker``, where bakegen's
    cache would look for it; and a pickle beside it for good measure."""
    env = jinja2.Environment()
    bcc = jinja2.FileSystemBytecodeCache()
    filename = str(ROOT / "templates" / TEMPLATE)
    source = (ROOT / "templates" / TEMPLATE).read_text()
    key = bcc.get_cache_key(TEMPLATE, filename)
    checksum = bcc.get_source_checksum(source if right_checksum else source + "tampered")
    bucket = jinja2.bccache.Bucket(env, key, checksum)
    bucket.code = compile(f"open({str(marker)!r}, 'w').write('ran')", "<planted>", "exec")
    folder = folder_for(cache)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{key}.cache", "wb") as f:
        bucket.write_bytecode(f)
    (folder / "evil.pickle").write_bytes(pickle.dumps(os.system))
    return folder


def run(cache):
    return run_bakegen(cwd=ROOT, env={"BAKEGEN_CACHE_DIR": str(cache)})


def test_control_the_planted_code_runs_from_a_private_folder(tmp_path):
    cache, marker = tmp_path / "cache", tmp_path / "marker"
    cache.mkdir(mode=0o700)
    plant(cache, marker).chmod(0o700)
    run(cache)
    assert marker.exists()  # so the tests below can fail


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o757])
def test_nothing_runs_from_a_folder_others_can_write(tmp_path, mode):
    cache, marker = tmp_path / "cache", tmp_path / "marker"
    cache.mkdir()
    plant(cache, marker).chmod(mode)
    r = run(cache)
    assert r.code == 0 and r.stdout == COMMITTED and not marker.exists()
    warnings = [line for line in r.stderr.splitlines() if "cache folder" in line]
    assert len(warnings) == 1 and "writable by group or others" in warnings[0] and "uncached" in warnings[0]


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
def test_nothing_runs_from_a_folder_another_user_owns(tmp_path):
    cache, marker = tmp_path / "cache", tmp_path / "marker"
    cache.mkdir()
    folder = plant(cache, marker)
    folder.chmod(0o700)
    os.chown(folder, 65534, 65534)
    r = run(cache)
    assert r.code == 0 and r.stdout == COMMITTED and not marker.exists()
    assert "owned by uid 65534" in r.stderr


def test_a_tampered_entry_is_recompiled(tmp_path):
    cache, marker = tmp_path / "cache", tmp_path / "marker"
    cache.mkdir(mode=0o700)
    plant(cache, marker, right_checksum=False).chmod(0o700)
    r = run(cache)
    assert r.code == 0 and r.stdout == COMMITTED and not marker.exists()


def test_a_symlinked_folder_is_not_trusted(tmp_path):
    cache, marker = tmp_path / "cache", tmp_path / "marker"
    cache.mkdir(mode=0o700)
    real = plant(tmp_path / "elsewhere", marker)
    real.chmod(0o700)
    folder_for(cache).symlink_to(real)
    r = run(cache)
    assert r.code == 0 and r.stdout == COMMITTED and not marker.exists() and "not a directory" in r.stderr


def test_an_empty_cache_variable_turns_the_cache_off(tmp_path):
    r = run_bakegen(cwd=ROOT, env={"BAKEGEN_CACHE_DIR": ""})
    assert r.code == 0 and r.stdout == COMMITTED and "cache" not in r.stderr
