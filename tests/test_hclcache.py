"""The parse cache: shipped parsed forms equal a fresh python-hcl2 parse; the cache is keyed by
content; python-hcl2's grammar cache never goes to site-packages."""

import json

from bakegen import hclcache

from conftest import ROOT, run_bakegen


def test_shipped_parsed_forms_equal_a_fresh_parse_of_every_definition():
    shipped = json.loads(hclcache.shipped_file().read_text())
    assert shipped["format"] == hclcache.FORMAT
    keys = set()
    for path in sorted((ROOT / "bake").rglob("*.hcl")):
        text = path.read_text()
        key = hclcache.cache_key(text)
        keys.add(key)
        assert key in shipped["entries"], f"{path} has no shipped parse: run `make generate`"
        assert shipped["entries"][key] == hclcache.parse_uncached(text, str(path)), path
    assert set(shipped["entries"]) == keys, "stale shipped entries: run `make generate`"


def test_a_changed_file_gets_a_new_key():
    assert hclcache.cache_key('a = "1"\n') != hclcache.cache_key('a = "2"\n')


def test_user_cache_is_written_once_and_read_back(tmp_path, monkeypatch):
    monkeypatch.setenv("BAKEGEN_CACHE_DIR", str(tmp_path / "c"))
    text = 'registry = "r.example.com"\n'
    assert hclcache.parse(text, "x.hcl") == {"registry": "r.example.com"}
    store = tmp_path / "c" / f"parsed-{hclcache.FORMAT}.json"
    key = hclcache.cache_key(text)
    data = json.loads(store.read_text())
    assert data["entries"] == {key: {"registry": "r.example.com"}}
    data["entries"][key] = {"registry": "from-cache"}  # proves the second read is the cache
    store.write_text(json.dumps(data))
    assert hclcache.parse(text, "x.hcl") == {"registry": "from-cache"}


def test_many_new_files_are_parsed_in_parallel_in_order(tmp_path, monkeypatch):
    monkeypatch.setenv("BAKEGEN_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.setattr(hclcache, "PARALLEL_FROM", 5)
    files = [(f'n = {i}\nname = "f{i}"\n', f"f{i}.hcl") for i in range(23)]
    assert hclcache.parse_all(files) == [{"n": i, "name": f"f{i}"} for i in range(23)]


def test_a_syntax_error_in_a_worker_names_its_file(tmp_path, monkeypatch):
    import pytest

    from bakegen.errors import BakegenError

    monkeypatch.setenv("BAKEGEN_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.setattr(hclcache, "PARALLEL_FROM", 5)
    files = [(f"n = {i}\n", f"f{i}.hcl") for i in range(12)] + [("n = [\n", "bad.hcl")]
    with pytest.raises(BakegenError) as e:
        hclcache.parse_all(files)
    assert e.value.where.startswith("bad.hcl")


def test_grammar_cache_goes_to_the_user_cache(tmp_path, project):
    (project / "bake/bakegen.hcl").write_text((project / "bake/bakegen.hcl").read_text() + "\n# changed\n")
    r = run_bakegen(cwd=project, env={"BAKEGEN_CACHE_DIR": str(tmp_path / "c")})
    assert r.code == 0, r
    assert list((tmp_path / "c" / "lark").glob("python-hcl2-*.lark_cache.bin"))
    store = json.loads((tmp_path / "c" / f"parsed-{hclcache.FORMAT}.json").read_text())
    assert len(store["entries"]) == 1  # only the changed file was parsed


def test_unwritable_cache_is_only_slower(tmp_path, project):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    (project / "bake/bakegen.hcl").write_text((project / "bake/bakegen.hcl").read_text() + "\n# x\n")
    r = run_bakegen(cwd=project, env={"BAKEGEN_CACHE_DIR": str(blocker)})
    assert r.code == 0, r


def _fresh(monkeypatch, folder):
    monkeypatch.setenv("BAKEGEN_CACHE_DIR", str(folder))
    monkeypatch.setattr(hclcache, "_parser_obj", None)


def test_parser_snapshot_parses_every_definition_as_python_hcl2_does(tmp_path, monkeypatch):
    import hcl2

    _fresh(monkeypatch, tmp_path / "c")
    hclcache._parser()  # builds and stores the snapshot
    snapshot = hclcache._snapshot_path()
    assert snapshot.is_file() and snapshot.parent == tmp_path / "c" / "lark"
    _fresh(monkeypatch, tmp_path / "c")  # a new process would load it
    options = hcl2.SerializationOptions(strip_string_quotes=True, with_comments=False)
    texts = [p.read_text() for p in sorted((ROOT / "bake").rglob("*.hcl"))] + [hclcache._CANARY]
    for text in texts:
        assert hclcache.parse_uncached(text, "x.hcl") == hcl2.loads(text, serialization_options=options)
    assert hclcache._parser_obj is not None and hclcache._parser_obj is not hcl2.parser.parser()


def test_a_broken_snapshot_falls_back_to_python_hcl2(tmp_path, monkeypatch):
    _fresh(monkeypatch, tmp_path / "c")
    hclcache._parser()
    snapshot = hclcache._snapshot_path()
    snapshot.write_bytes(b"not a pickle")
    _fresh(monkeypatch, tmp_path / "c")
    assert hclcache.parse_uncached('a = "b"\n', "x.hcl") == {"a": "b"}
    assert snapshot.read_bytes() != b"not a pickle"  # rebuilt


def test_syntax_errors_are_the_same_through_the_snapshot(tmp_path, monkeypatch):
    import pytest

    from bakegen.errors import BakegenError

    _fresh(monkeypatch, tmp_path / "c")
    hclcache._parser()
    _fresh(monkeypatch, tmp_path / "c")
    with pytest.raises(BakegenError) as e:
        hclcache.parse_uncached('a = "b"\nc = [\n', "x.hcl")
    assert e.value.where.startswith("x.hcl:")
