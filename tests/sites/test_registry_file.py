"""Reading registry files: a key given twice is an error, not a silent last-one-wins."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from crawler.registry import RegistryError, load_registry, registry_from_data, registry_rows

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


def test_rows_handed_to_the_crawl_give_back_the_same_sites(tmp_path: Path) -> None:
    # `noticewatch crawl` hands its sites to Scrapy as rows (no second YAML parse there).
    path = tmp_path / "sites.yaml"
    extra = ("  - key: s\n    name: S\n    base_url: http://www.s.gov.cn/\n    family: kaipu\n"
             "    schedule: '*/30 * * * *'\n    verified: false\n    area_code: '350105'\n"
             "    overrides: {download_delay: 3}\n    allowed_domains: [www.s.gov.cn, s.gov.cn]\n"
             "    columns:\n      - url: http://www.s.gov.cn/a/\n        name: A\n        schedule: '0 * * * *'\n"
             "        family: trs_wcm\n        selectors: {title: 'h1::text'}\n")
    path.write_text(SITE + extra, encoding="utf-8")
    for registry in (load_registry([path]), load_registry()):
        sites = registry.select(None)
        again = registry_from_data({"sites": registry_rows(sites)}).select(None)
        assert [replace(s, source_file="") for s in again] == [replace(s, source_file="") for s in sites]
