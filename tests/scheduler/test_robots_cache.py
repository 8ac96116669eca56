"""robots.txt is cached between crawls (RFC 9309: at most 24 hours); unreadable ones never are."""

from __future__ import annotations

import json
from http.server import ThreadingHTTPServer
from pathlib import Path

import yaml

from crawler.middlewares.robots_cache import cache_path, read_cached, write_cached
from crawler.registry import load_registry
from noticewatch.commands.demo_cmd import DEMO_OVERRIDES, proxy_env
from noticewatch.config import load_settings
from noticewatch.crawling import run_crawl
from noticewatch.store import open_store
from tests.scheduler.test_politeness import _site, fake_proxy  # noqa: F401 - the fixture

DAY = 24 * 3600.0


def test_cache_file_freshness_and_damage(tmp_path: Path) -> None:
    path = cache_path(tmp_path, scheme="http", netloc="www.a.gov.cn")
    assert path != cache_path(tmp_path, scheme="https", netloc="www.a.gov.cn")
    assert read_cached(path, max_age=DAY, now=1000.0) is None  # nothing cached yet
    write_cached(path, url="http://www.a.gov.cn/robots.txt", status=200, body=b"Disallow: /x/\n\xff", now=1000.0)
    assert read_cached(path, max_age=DAY, now=1000.0 + DAY - 1) == (200, b"Disallow: /x/\n\xff")
    assert read_cached(path, max_age=DAY, now=1000.0 + DAY) is None  # too old
    assert read_cached(path, max_age=DAY, now=999.0) is None  # from the future: the clock moved back
    path.write_text("{not json", encoding="utf-8")
    assert read_cached(path, max_age=DAY, now=1000.0) is None  # damaged: a miss, not a crash
    assert not list(path.parent.glob("*.tmp"))


def _crawl(tmp_path: Path, proxy: str, *extra: str) -> str:
    registry_path = tmp_path / "sites.yaml"
    settings = load_settings(env={"NOTICEWATCH_DATA_DIR": str(tmp_path / "data")}, cwd=tmp_path)
    store = open_store(settings)
    try:
        result = run_crawl(settings, store, load_registry([registry_path]), registry_paths=[str(registry_path)],
                           overrides=(*DEMO_OVERRIDES, "RETRY_ENABLED=False", *extra), env=proxy_env(proxy))
    finally:
        store.close()
    assert result.status == "finished", result
    return result.status


def test_second_crawl_reuses_robots_txt_but_asks_again_after_503(tmp_path: Path,
                                                                  fake_proxy: ThreadingHTTPServer) -> None:  # noqa: F811
    (tmp_path / "sites.yaml").write_text(yaml.safe_dump({"sites": [_site("okua"), _site("rb503")]}),
                                         encoding="utf-8")
    proxy = f"http://127.0.0.1:{fake_proxy.server_address[1]}"
    seen: list[tuple[str, str, str]] = fake_proxy.seen  # type: ignore[attr-defined]

    def robots_asked(host: str) -> int:
        return sum(1 for h, path, _ in seen if h == host and path == "/robots.txt")

    _crawl(tmp_path, proxy)
    assert robots_asked("www.okua.gov.cn") == 1 and robots_asked("www.rb503.gov.cn") == 1
    cached = cache_path(tmp_path / "data" / "cache" / "robots", scheme="http", netloc="www.okua.gov.cn")
    assert json.loads(cached.read_text(encoding="utf-8"))["body"] == "User-agent: *\nDisallow: /private/\n"

    seen.clear()
    _crawl(tmp_path, proxy)
    okua = [path for host, path, _ in seen if host == "www.okua.gov.cn"]
    assert "/robots.txt" not in okua and okua[0] == "/zwgk/tzgg/"  # the cached copy was used
    assert "/private/202401/t20240105_2.html" not in okua  # and its rules still hold
    assert robots_asked("www.rb503.gov.cn") == 1  # a 503 is never cached: asked again, still deferred
    assert [path for host, path, _ in seen if host == "www.rb503.gov.cn"] == ["/robots.txt"]

    seen.clear()
    _crawl(tmp_path, proxy, "ROBOTSTXT_CACHE_HOURS=0")  # cache off: fetched every crawl
    assert robots_asked("www.okua.gov.cn") == 1
