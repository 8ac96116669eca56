"""Family detection and column checks against the loopback demo web (used as a proxy)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawler.discovery import (
    DiscoveryError,
    Fetcher,
    add_to_registry,
    check_column,
    detect_site,
    suggest_key,
)
from crawler.registry import RegistryError, load_registry
from noticewatch.demoweb import DemoWeb, demo_registry

UA = "noticewatch-test (+tests)"


def _fetcher(web: DemoWeb, url: str, **kw: object) -> Fetcher:
    return Fetcher(user_agent=UA, allowed_hosts=[urlsplit(url).hostname or ""],
                   proxies={"http": web.proxy_url}, **kw)  # type: ignore[arg-type]


def _columns() -> list[tuple[str, str]]:
    return [(site["family"], col["url"]) for site in demo_registry()["sites"] for col in site["columns"][:1]]


@pytest.mark.parametrize(("family", "url"), _columns())
def test_every_demo_family_is_detected_from_its_column_url(demo_web: DemoWeb, family: str, url: str) -> None:
    fetcher = _fetcher(demo_web, url)
    detection = detect_site(url, fetcher)
    assert detection.best.family == family
    assert detection.level in ("high", "medium")
    assert detection.margin >= 0.3
    assert detection.sample is not None and detection.sample.title
    assert detection.site_name.endswith("人民政府")
    # Column page, at most one list API call, one notice: all to the site's own host.
    host = urlsplit(url).hostname
    assert 2 <= len(fetcher.log) <= 3
    assert {h for _m, h, _p, _s in demo_web.requests} == {host}


def test_check_column_extracts_notices_and_stores_nothing(demo_web: DemoWeb) -> None:
    url = "http://www.yuhang.gov.cn/col/col1229/index.html"
    result = check_column(url, _fetcher(demo_web, url), family="hanweb", notices=2)
    assert result.family == "hanweb" and len(result.entries) >= 10
    assert [n.error for n in result.notices] == [None, None]
    truth = {t["url"]: t for t in demo_web.world.ground_truth()}
    for item in result.notices:
        assert item.notice is not None
        assert item.notice.title == truth[item.url]["title"]
        assert item.notice.published_at == truth[item.url]["published_at"]


def test_check_column_auto_detects_gkmlpt_through_its_json_api(demo_web: DemoWeb) -> None:
    url = "http://www.hp.gov.cn/gkmlpt/index"
    result = check_column(url, _fetcher(demo_web, url))
    assert result.detection is not None and result.family == "gkmlpt"
    assert result.entries and all(n.notice is not None for n in result.notices)
    assert any("/gkmlpt/api/all/" in path for _m, _h, path, _s in demo_web.requests)


def test_other_hosts_are_refused_before_any_request(demo_web: DemoWeb) -> None:
    fetcher = _fetcher(demo_web, "http://www.hp.gov.cn/gkmlpt/index")
    with pytest.raises(DiscoveryError, match="not the site you pointed at"):
        fetcher.fetch("http://www.mawei.gov.cn/")
    with pytest.raises(DiscoveryError, match="only http"):
        fetcher.fetch("file:///etc/passwd")
    assert demo_web.requests == []


def test_size_cap_and_http_errors(demo_web: DemoWeb) -> None:
    url = "http://www.mawei.gov.cn/xjwz/zwgk/zcwjk/"
    with pytest.raises(DiscoveryError, match="larger than 1000 bytes"):
        _fetcher(demo_web, url, max_bytes=1000).fetch(url)
    with pytest.raises(DiscoveryError, match="HTTP 404"):
        detect_site("http://www.mawei.gov.cn/no/such/column/", _fetcher(demo_web, url))


class _Redirector(BaseHTTPRequestHandler):
    agents: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self.agents.append(self.headers.get("User-Agent", ""))
        self.send_response(302)
        self.send_header("Location", "http://elsewhere.invalid/")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def redirector() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/column/"
    server.shutdown()
    server.server_close()


def test_redirects_off_the_site_are_not_followed(redirector: str) -> None:
    fetcher = Fetcher(user_agent=UA, allowed_hosts=["127.0.0.1"], proxies={})
    with pytest.raises(DiscoveryError, match="elsewhere.invalid is not the site"):
        fetcher.fetch(redirector)
    assert _Redirector.agents == [UA]  # one request, with the project's User-Agent


def test_suggest_key() -> None:
    assert suggest_key("http://www.mawei.gov.cn/xjwz/", set()) == "mawei"
    assert suggest_key("http://www.mawei.gov.cn/xjwz/", {"mawei", "mawei-2"}) == "mawei-3"
    assert suggest_key("https://zwgk.hp.gov.cn/", set()) == "zwgk"
    assert suggest_key("http://127.0.0.1:8000/", set()) == "127"


ROW = {"key": "odd", "name": "某区人民政府", "base_url": "http://www.odd.gov.cn/", "family": "generic",
       "verified": False, "allowed_domains": ["www.odd.gov.cn"],
       "columns": [{"url": "http://www.odd.gov.cn/tzgg/", "name": "通知公告"}]}


def test_add_to_registry_appends_and_keeps_comments(tmp_path: Path) -> None:
    path = tmp_path / "sites.yaml"
    path.write_text("# my sites\nsites:\n  # the first one\n  - key: first\n    name: 一区\n"
                    "    base_url: http://www.first.gov.cn/\n    family: trs_wcm\n"
                    "    columns:\n      - url: http://www.first.gov.cn/tzgg/\n        name: 通知\n", encoding="utf-8")
    spec = add_to_registry(path, ROW)
    assert spec.key == "odd" and spec.verified is False and spec.family == "generic"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# my sites\n") and "# the first one" in text
    assert [s.key for s in load_registry([path]).sites] == ["first", "odd"]


def test_add_to_registry_creates_the_file_and_refuses_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "new" / "sites.yaml"
    add_to_registry(path, ROW)
    before = path.read_text(encoding="utf-8")
    with pytest.raises(RegistryError, match="already defined") as info:
        add_to_registry(path, ROW)
    assert ".tmp" not in str(info.value)
    assert path.read_text(encoding="utf-8") == before  # left alone
    other = tmp_path / "other.yaml"
    other.write_text("sites:\n- key: taken\n  name: x\n  base_url: http://x.gov.cn/\n  family: generic\n"
                     "  columns: [{url: 'http://x.gov.cn/a/', name: a}]\n", encoding="utf-8")
    with pytest.raises(RegistryError, match="already defined"):
        add_to_registry(path, {**ROW, "key": "taken"}, others=[other])
    with pytest.raises(RegistryError, match="unknown key"):
        add_to_registry(path, {**ROW, "key": "x2", "colour": "red"})
    assert list(path.parent.glob(".*tmp")) == []
