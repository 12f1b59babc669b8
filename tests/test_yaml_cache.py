"""The parsed-YAML cache (chipex.datafiles.read_yaml): same documents as a parse, dates as dates,
only authentic files read back, and a changed file is never answered from the cache."""

from __future__ import annotations

import datetime as dt

import pytest

from chipex import datafiles
from chipex.datafiles import _parse_yaml, read_yaml
from chipex.rules import RULES_DIR

DOC = b"""\
versions:
  - id: v1
    effective: 2023-11-17
    at: 2024-01-02 03:04:05
    ratio: 0.5
    flags: [true, null, 3]
name: caf\xc3\xa9
"""


@pytest.fixture(autouse=True)
def _fresh_secret(monkeypatch):
    monkeypatch.delenv("CHIPEX_YAML_CACHE", raising=False)


def _cache_files():
    return sorted(datafiles._cache()[0].glob("v*.marshal"))


def test_a_hit_gives_the_same_document_with_dates_and_does_not_parse(tmp_path, monkeypatch):
    f = tmp_path / "a.yaml"
    f.write_bytes(DOC)
    first = read_yaml(f)
    assert len(_cache_files()) == 1
    monkeypatch.setattr(datafiles, "_parse_yaml", lambda *a: pytest.fail("parsed on a cache hit"))
    again = read_yaml(f)
    assert again == first == _parse_yaml(f, DOC)
    v = again["versions"][0]
    assert v["effective"] == dt.date(2023, 11, 17) and type(v["effective"]) is dt.date
    assert v["at"] == dt.datetime(2024, 1, 2, 3, 4, 5) and again["name"] == "café"


def test_a_changed_file_is_parsed_again(tmp_path):
    f = tmp_path / "a.yaml"
    f.write_bytes(DOC)
    read_yaml(f)
    f.write_bytes(DOC.replace(b"v1", b"v2"))
    assert read_yaml(f)["versions"][0]["id"] == "v2"


def _forge(cache, secret: bytes, doc) -> None:
    import marshal

    from chipex.cachefiles import write_authentic

    write_authentic(cache, secret, marshal.dumps((doc, [])))


def test_only_a_file_under_this_folder_s_secret_is_read_back(tmp_path):
    f = tmp_path / "a.yaml"
    f.write_bytes(DOC)
    read_yaml(f)
    (cache,) = _cache_files()
    _, secret = datafiles._cache()
    _forge(cache, secret, {"name": "from the cache"})  # control: an authentic file is what is read
    assert read_yaml(f) == {"name": "from the cache"}
    _forge(cache, b"another secret" * 3, {"name": "forged"})  # same body, wrong key: a miss
    assert read_yaml(f)["name"] == "café"
    cache.write_bytes(cache.read_bytes()[:40])  # truncated: a miss
    assert read_yaml(f)["versions"][0]["id"] == "v1"


def test_every_shipped_rule_file_reads_back_identically(tmp_path):
    files = sorted(RULES_DIR.rglob("*.yaml"))
    parsed = [read_yaml(p) for p in files]  # parse and store
    assert [read_yaml(p) for p in files] == parsed == [_parse_yaml(p, p.read_bytes()) for p in files]


def test_errors_still_name_the_file_and_nothing_is_cached(tmp_path):
    from chipex.errors import ChipexError

    f = tmp_path / "bad.yaml"
    f.write_bytes(b"a: [1, 2\n")
    with pytest.raises(ChipexError, match="not valid YAML"):
        read_yaml(f)
    assert _cache_files() == []


def test_off_switch(tmp_path, monkeypatch):
    monkeypatch.setenv("CHIPEX_YAML_CACHE", "0")
    f = tmp_path / "a.yaml"
    f.write_bytes(DOC)
    assert read_yaml(f)["name"] == "café"
    assert datafiles._cache() is None
