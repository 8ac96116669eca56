"""Politeness: robots.txt (and an unreadable one), User-Agent with contact, per-site slots."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request
from sqlalchemy import select

from crawler.extensions.progress import read_progress
from crawler.middlewares.robots_guard import RobotsGuardMiddleware
from crawler.registry import load_registry, registry_from_data
from noticewatch.commands.demo_cmd import DEMO_OVERRIDES, proxy_env
from noticewatch.config import load_settings
from noticewatch.crawling import effective_scrapy_settings, run_crawl
from noticewatch.store import open_store
from storage.models import FetchError, Notice

LIST = """<html><head><meta charset="utf-8"><title>通知公告</title></head><body><ul class="list">
<li><a href="./202401/t20240104_1.html" title="关于公开事项的通知">关于公开事项的通知</a><span>2024-01-04</span></li>
<li><a href="/private/202401/t20240105_2.html" title="内部事项的通知">内部事项的通知</a><span>2024-01-05</span></li>
</ul></body></html>"""
NOTICE = """<html><head><meta charset="utf-8"><title>关于公开事项的通知</title></head><body>
<h1 class="title">关于公开事项的通知</h1><div class="info">发布时间：2024-01-04 10:00 来源：区政府办</div>
<div class="TRS_Editor"><p>各单位：现将有关事项通知如下，请认真贯彻落实。</p></div></body></html>"""


class _Proxy(BaseHTTPRequestHandler):
    seen: list[tuple[str, str, str]]  # (host, path, user agent)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        host, path = parts.hostname or "", parts.path
        self.server.seen.append((host, path, self.headers.get("User-Agent", "")))  # type: ignore[attr-defined]
        status, body = 404, "not found"
        if path == "/robots.txt":
            status, body = (503, "busy") if host.startswith("www.rb503") else (200, "User-agent: *\nDisallow: /private/\n")
        elif path == "/zwgk/tzgg/":
            status, body = 200, LIST
        elif path.endswith(".html"):
            status, body = 200, NOTICE
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def fake_proxy() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _site(key: str) -> dict[str, object]:
    return {"key": key, "name": key, "base_url": f"http://www.{key}.gov.cn/", "family": "trs_wcm",
            "columns": [{"url": f"http://www.{key}.gov.cn/zwgk/tzgg/", "name": "通知公告"}]}


def test_robots_user_agent_and_unreadable_robots(tmp_path: Path, fake_proxy: ThreadingHTTPServer) -> None:
    registry_path = tmp_path / "sites.yaml"
    registry_path.write_text(yaml.safe_dump({"sites": [_site("okua"), _site("rb503")]}), encoding="utf-8")
    settings = load_settings(env={"NOTICEWATCH_DATA_DIR": str(tmp_path / "data"),
                                  "NOTICEWATCH_CONTACT": "ops@example.org"}, cwd=tmp_path)
    store = open_store(settings)
    proxy = f"http://127.0.0.1:{fake_proxy.server_address[1]}"
    result = run_crawl(settings, store, load_registry([registry_path]), registry_paths=[str(registry_path)],
                       overrides=(*DEMO_OVERRIDES, "RETRY_ENABLED=False"), env=proxy_env(proxy), progress=True)
    assert result.status == "finished", result
    seen: list[tuple[str, str, str]] = fake_proxy.seen  # type: ignore[attr-defined]

    ok = [(path, ua) for host, path, ua in seen if host == "www.okua.gov.cn"]
    assert ok[0][0] == "/robots.txt"  # asked first
    assert "/private/202401/t20240105_2.html" not in [p for p, _ in ok]  # disallowed, never fetched
    assert "/zwgk/tzgg/202401/t20240104_1.html" in [p for p, _ in ok]
    assert all(ua.startswith("noticewatch/") and "(+ops@example.org)" in ua for _, ua in ok)
    # robots.txt answered 503: nothing else of that site is fetched, and the run says why.
    assert [path for host, path, _ in seen if host == "www.rb503.gov.cn"] == ["/robots.txt"]
    with store.factory() as session:
        kinds = {e.kind for e in session.scalars(select(FetchError))}
        assert "robots_unavailable" in kinds
        titles = list(session.scalars(select(Notice.title)))
        assert titles == ["关于公开事项的通知"]
    store.close()
    progress = read_progress(tmp_path / "data" / "runs" / str(result.run_id) / "progress.json")
    assert progress is not None and progress["finished"] is True
    # okua's one error is the notice robots.txt forbids (the spider records it as a fetch error).
    assert progress["sites"]["okua"] == {"pages": 2, "notices": 1, "errors": 1}
    assert progress["sites"]["rb503"]["errors"] == 1


def test_robots_guard_defers_host_after_network_error() -> None:
    guard = RobotsGuardMiddleware()
    robots = Request("http://www.a.gov.cn/robots.txt", meta={"dont_obey_robotstxt": True})
    guard.process_exception(robots, ConnectionRefusedError())
    page = Request("http://www.a.gov.cn/zwgk/")
    with pytest.raises(IgnoreRequest):
        guard.process_request(page)
    assert page.meta["nw_error_kind"] == "robots_unavailable"
    guard.process_request(Request("http://www.b.gov.cn/zwgk/"))  # other hosts unaffected
    # A 404 robots.txt means "no rules": the host stays allowed.
    other = Request("http://www.c.gov.cn/robots.txt", meta={"dont_obey_robotstxt": True})
    from scrapy.http import Response

    guard.process_response(other, Response(other.url, status=404))
    guard.process_request(Request("http://www.c.gov.cn/zwgk/"))


def test_site_overrides_become_download_slots(tmp_path: Path) -> None:
    data = _site("slow")
    data["overrides"] = {"download_delay": 5, "concurrent_requests_per_domain": 1}
    registry = registry_from_data({"sites": [data, _site("fast")]})
    settings = load_settings(env={"NOTICEWATCH_DATA_DIR": str(tmp_path)}, cwd=tmp_path)
    values = effective_scrapy_settings(settings, registry.sites)
    assert values["DOWNLOAD_SLOTS"] == {"www.slow.gov.cn": {"delay": 5.0, "concurrency": 1}}
    assert values["DOWNLOAD_DELAY"] == 1.0 and values["AUTOTHROTTLE_ENABLED"] is True
    assert values["ROBOTSTXT_OBEY"] is True
    # A command-line -s wins over the site's override.
    values = effective_scrapy_settings(settings, registry.sites, overrides=["DOWNLOAD_DELAY=0"])
    assert values["DOWNLOAD_SLOTS"] == {"www.slow.gov.cn": {"concurrency": 1}}
