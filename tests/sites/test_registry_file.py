"""Reading registry files: a key given twice is an error, not a silent last-one-wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.registry import RegistryError, load_registry

SITE = """sites:
  - key: a
    name: A
    base_url: http://www.a.gov.cn/
    family: trs_wcm
    columns:
      - url: http://www.a.gov.cn/x/
        name: X
"""


def test_a_duplicate_key_names_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "sites.yaml"
    path.write_text(SITE + "    columns:\n      - url: http://www.a.gov.cn/y/\n        name: Y\n", encoding="utf-8")
    with pytest.raises(RegistryError) as err:
        load_registry([path])
    message = str(err.value)
    assert str(path) in message and "line 9" in message
    assert "duplicate key 'columns' (first on line 6)" in message


def test_the_same_key_in_two_sites_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "sites.yaml"
    second = SITE.split("sites:\n", 1)[1].replace("key: a", "key: b").replace("www.a.", "www.b.")
    path.write_text(SITE + second, encoding="utf-8")
    assert [s.key for s in load_registry([path]).select(None)] == ["a", "b"]


def test_the_bundled_registry_still_loads() -> None:
    assert load_registry().select(None)
