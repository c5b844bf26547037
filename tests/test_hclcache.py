"""The parse cache: shipped parsed forms equal a fresh python-hcl2 parse; the cache is keyed by
content; python-hcl2's grammar cache never goes to site-packages."""

import json

from bakegen import hclcache

from conftest import ROOT, run_bakegen


def test_shipped_parsed_forms_equal_a_fresh_parse_of_every_definition():
    files = sorted((ROOT / "bake").rglob("*.hcl"))
    shipped = hclcache.shipped_dir()
    keys = set()
    for path in files:
        text = path.read_text()
        key = hclcache.cache_key(text)
        keys.add(f"{key}.json")
        entry = shipped / f"{key}.json"
        assert entry.is_file(), f"{path} has no shipped parse: run `make generate`"
        assert json.loads(entry.read_text()) == hclcache.parse_uncached(text, str(path)), path
    assert {p.name for p in shipped.glob("*.json")} == keys, "stale shipped entries: run `make generate`"


def test_a_changed_file_gets_a_new_key():
    assert hclcache.cache_key('a = "1"\n') != hclcache.cache_key('a = "2"\n')


def test_user_cache_is_written_once_and_read_back(tmp_path, monkeypatch):
    monkeypatch.setenv("BAKEGEN_CACHE_DIR", str(tmp_path / "c"))
    text = 'registry = "r.example.com"\n'
    assert hclcache.parse(text, "x.hcl") == {"registry": "r.example.com"}
    entry = tmp_path / "c" / "hcl" / f"{hclcache.cache_key(text)}.json"
    assert json.loads(entry.read_text()) == {"registry": "r.example.com"}
    entry.write_text(json.dumps({"registry": "from-cache"}))  # proves the second read is the cache
    assert hclcache.parse(text, "x.hcl") == {"registry": "from-cache"}


def test_grammar_cache_goes_to_the_user_cache(tmp_path, project):
    (project / "bake/bakegen.hcl").write_text((project / "bake/bakegen.hcl").read_text() + "\n# changed\n")
    r = run_bakegen(cwd=project, env={"BAKEGEN_CACHE_DIR": str(tmp_path / "c")})
    assert r.code == 0, r
    assert list((tmp_path / "c" / "lark").glob("python-hcl2-*.lark_cache.bin"))
    assert len(list((tmp_path / "c" / "hcl").glob("*.json"))) == 1  # only the changed file was parsed


def test_unwritable_cache_is_only_slower(tmp_path, project):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    (project / "bake/bakegen.hcl").write_text((project / "bake/bakegen.hcl").read_text() + "\n# x\n")
    r = run_bakegen(cwd=project, env={"BAKEGEN_CACHE_DIR": str(blocker)})
    assert r.code == 0, r
