"""``noticewatch sites add/list/check`` end to end against the demo web (as http_proxy)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from crawler.registry import BUNDLED_REGISTRY, load_registry
from noticewatch.cli import root
from noticewatch.config import load_settings
from noticewatch.demoweb import DemoWeb
from noticewatch.store import open_store
from storage.models import Column, Notice, Site

HP = "http://www.hp.gov.cn/gkmlpt/index"
WUZHONG = "http://www.szwz.gov.cn/001/001001/subPage.html"


@pytest.fixture
def env(tmp_path: Path, demo_web: DemoWeb) -> dict[str, str]:
    # An empty base registry keeps the bundled (real) sites out of the way of the demo hosts.
    base = tmp_path / "base.yaml"
    base.write_text("sites: []\n", encoding="utf-8")
    return {"http_proxy": demo_web.proxy_url, "HTTP_PROXY": demo_web.proxy_url, "no_proxy": "", "NO_PROXY": "",
            "NOTICEWATCH_DATA_DIR": str(tmp_path / "data"), "NOTICEWATCH_REGISTRY": str(base),
            "NOTICEWATCH_DOWNLOAD_DELAY": "0"}


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(root, ["sites", *args], env=env, catch_exceptions=False)


def test_add_detects_records_and_syncs(env: dict[str, str], tmp_path: Path, demo_web: DemoWeb) -> None:
    result = run(env, "add", HP)
    assert result.exit_code == 0, result.output
    assert "gkmlpt" in result.output and "confidence" in result.output and "(high;" in result.output
    assert "Recorded site 'hp'" in result.output
    user = tmp_path / "data" / "sites.yaml"
    data = yaml.safe_load(user.read_text(encoding="utf-8"))
    (site,) = data["sites"]
    assert (site["key"], site["family"], site["name"], site["verified"]) == ("hp", "gkmlpt", "广州市黄埔区人民政府", False)
    assert site["columns"] == [{"url": HP, "name": "政府信息公开"}]
    assert {host for _m, host, _p, _s in demo_web.requests} == {"www.hp.gov.cn"}
    # The registry setting now includes the user file after the configured one(s).
    settings = load_settings(env=env, cwd=tmp_path)
    assert settings.registry == (Path(env["NOTICEWATCH_REGISTRY"]), user)
    assert [s.key for s in load_registry(list(settings.registry)).sites] == ["hp"]
    store = open_store(settings)
    try:
        with store.factory() as session:
            stored = session.query(Site).one()
            assert (stored.key, stored.family, stored.verified) == ("hp", "gkmlpt", False)
            assert [c.url for c in session.query(Column)] == [HP]
    finally:
        store.close()


def test_add_second_site_then_list(env: dict[str, str]) -> None:
    assert run(env, "add", HP).exit_code == 0
    result = run(env, "add", WUZHONG, "--name", "吴中", "--key", "wz", "--family", "trs_wcm")
    assert result.exit_code == 0, result.output
    assert "recording family trs_wcm as asked, although epoint scored best" in result.output
    listing = run(env, "list")
    assert listing.exit_code == 0, listing.output
    lines = listing.output.splitlines()
    assert lines[0].split() == ["key", "name", "family", "columns", "verified", "health", "notices", "last", "run"]
    assert lines[1].split()[:7] == ["hp", "广州市黄埔区人民政府", "gkmlpt", "1", "no", "unknown", "0"]
    assert lines[2].split()[:4] == ["wz", "吴中", "trs_wcm", "1"]


def test_add_refuses_a_known_column_and_a_taken_key(env: dict[str, str], tmp_path: Path) -> None:
    assert run(env, "add", HP).exit_code == 0
    again = run(env, "add", HP)
    assert again.exit_code == 1 and "already a column of site 'hp'" in again.output
    taken = run(env, "add", WUZHONG, "--key", "hp")
    assert taken.exit_code == 2 and "already exists" in taken.output
    assert len(yaml.safe_load((tmp_path / "data" / "sites.yaml").read_text(encoding="utf-8"))["sites"]) == 1


def test_add_to_an_explicit_registry_file(env: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "mine.yaml"
    result = run(env, "add", WUZHONG, "--registry", str(target))
    assert result.exit_code == 0, result.output
    assert "is not in the `registry` setting" in result.output
    assert [s.key for s in load_registry([target]).sites] == ["szwz"]


def test_check_prints_records_and_stores_nothing(env: dict[str, str], tmp_path: Path, demo_web: DemoWeb) -> None:
    url = "http://www.yuhang.gov.cn/col/col1229/index.html"
    result = run(env, "check", url, "--family", "hanweb")
    assert result.exit_code == 0, result.output
    truth = {t["url"]: t for t in demo_web.world.ground_truth()}
    notices = [line.split()[1] for line in result.output.splitlines() if line.startswith("Notice ")]
    assert len(notices) == 2
    for notice_url in notices:
        assert truth[notice_url]["title"] in result.output
    assert "EXTRACTION FAILED" not in result.output and "body:" in result.output
    assert not (tmp_path / "data").exists()  # no store, no registry file
    assert {host for _m, host, _p, _s in demo_web.requests} == {"www.yuhang.gov.cn"}


def test_check_uses_the_registry_columns_family_and_reports_failures(env: dict[str, str], tmp_path: Path) -> None:
    assert run(env, "add", WUZHONG, "--family", "gkmlpt").exit_code == 0
    result = run(env, "check", WUZHONG)
    assert "Known column of site 'szwz'" in result.output
    assert result.exit_code == 1  # the gkmlpt adapter finds no notice links on an Epoint list
    assert "no notice links found" in result.output
    store = open_store(load_settings(env=env, cwd=tmp_path))
    try:
        with store.factory() as session:
            assert session.query(Notice).count() == 0
    finally:
        store.close()


def test_bundled_registry_stays_first_when_the_setting_is_empty(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "sites.yaml").write_text("sites: []\n", encoding="utf-8")
    settings = load_settings(env={"NOTICEWATCH_DATA_DIR": str(data)}, cwd=tmp_path)
    assert settings.registry == (BUNDLED_REGISTRY, data / "sites.yaml")
    assert load_settings(env={"NOTICEWATCH_DATA_DIR": str(tmp_path / "none")}, cwd=tmp_path).registry == ()
