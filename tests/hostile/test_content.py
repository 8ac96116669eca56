"""Hostile pages through the real spider callbacks and family adapters: stored as data, never a crash.

Also the withdrawal rule: only 404/410, a redirect to the column or a removal stub
withdraws a notice; a site answering 500 (or blocking us) never does.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Request

from crawler.items import FetchErrorItem, NoticeGoneItem, NoticeItem
from crawler.parsing.encoding import decode_html
from crawler.parsing.families import ADAPTERS
from crawler.parsing.types import ExtractionError
from crawler.registry import load_registry
from crawler.spiders.notices import NoticeSpider
from noticewatch.commands.demo_cmd import write_demo_registry

DEEP = "<html><head><title>深</title></head><body>" + "<div>" * 10_000 + "正文" + "</div>" * 10_000 + "</body></html>"
HOSTILE_PAGES = {
    "deep": DEEP,
    "deep-unclosed": "<html><body>" + "<span><b>" * 10_000 + "x",
    "nul": "<html><head><title>标\x00题</title></head><body><div id='zoom'>正\x00文\x00</div></body></html>",
    "truncated": "<html><head><title>关于印发《实施方案》的通知</title></head><body><div class='TRS_Editor'><p>第一段",
    "script": ("<html><head><title><script>alert(1)</script>关于<img src=x onerror=alert(2)>的通知</title>"
               "<style>body{background:url(javascript:alert(3))}</style></head><body>"
               "<div class='TRS_Editor' onclick='alert(4)'><p style='x:expression(alert(5))'>正文"
               "<a href='javascript:alert(6)'>附件.pdf</a><script>document.write('<a href=\"x.pdf\">x</a>')</script>"
               "<iframe src='http://evil.test/'></iframe></p></div></body></html>"),
    "empty": "",
    "garbage": "\ufffd\u202e<<<>>><!--<![CDATA[",
    "comment-bomb": "<!--" * 20_000,
}


@pytest.mark.parametrize("name", sorted(HOSTILE_PAGES))
@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda a: a.name)
def test_adapters_survive_hostile_pages(adapter: object, name: str) -> None:
    html = HOSTILE_PAGES[name]
    url = "http://www.site.gov.cn/zwgk/tzgg/202401/t20240104_1.html"
    for call in (lambda: adapter.parse_notice(html, url), lambda: adapter.parse_list(html, url)):  # type: ignore[attr-defined]
        try:
            result = call()
        except ExtractionError:
            continue
        assert result is not None


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda a: a.name)
def test_script_and_handlers_never_survive_into_body_html(adapter: object) -> None:
    try:
        parsed = adapter.parse_notice(HOSTILE_PAGES["script"], "http://www.site.gov.cn/a/t1.html")  # type: ignore[attr-defined]
    except ExtractionError:
        return
    lowered = parsed.body_html.lower()
    for bad in ("<script", "onerror", "onclick", "javascript:", "<iframe", "expression("):
        assert bad not in lowered, (adapter, bad, parsed.body_html)
    assert isinstance(parsed.title, str)  # the title keeps its text as data


@pytest.mark.parametrize("body,ctype", [
    ("通知公告".encode("gbk"), "text/html; charset=utf-8"),      # lies about its charset
    ("通知公告".encode(), "text/html; charset=gb2312"),
    ("通知公告".encode("gb18030"), None),
    (b"\xff\xfe\x00\x00garbage\x80\x81", "text/html; charset=x-unknown-charset"),
    (b"<meta charset='utf-7'>+ADw-script+AD4-", None),
])
def test_wrong_charsets_decode_to_text(body: bytes, ctype: str | None) -> None:
    text, encoding = decode_html(body, ctype)
    assert isinstance(text, str) and encoding
    assert "+ADw-" in text or "<script" not in text  # never UTF-7 decoded into markup


@pytest.fixture(scope="module")
def spider_and_site(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    registry = load_registry([write_demo_registry(tmp_path_factory.mktemp("reg"))])
    site = registry.get("gulou")
    spider = NoticeSpider()
    return spider, site


def _notice_response(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> HtmlResponse:
    url = "http://www.gulou.gov.cn/zwgk/tzgg/202201/t20220120_1.html"
    return HtmlResponse(url, status=status, body=body, headers=headers or {}, request=Request(url))


@pytest.mark.parametrize("status", [500, 502, 503, 504, 403, 412, 521, 429, 400])
def test_errors_never_withdraw(spider_and_site, status: int) -> None:  # type: ignore[no-untyped-def]
    spider, site = spider_and_site
    items = list(spider.parse_notice(_notice_response(status, b"<h1>error</h1>"), site=site, canon="c"))
    assert not any(isinstance(i, NoticeGoneItem) for i in items)
    assert [type(i) for i in items] == [FetchErrorItem]


@pytest.mark.parametrize(("status", "headers", "reason"), [
    (404, {}, "404"), (410, {}, "410"),
    (302, {"Location": "http://www.gulou.gov.cn/zwgk/tzgg/"}, "redirect"),
])
def test_only_real_removals_withdraw(spider_and_site, status, headers, reason) -> None:  # type: ignore[no-untyped-def]
    spider, site = spider_and_site
    items = list(spider.parse_notice(_notice_response(status, b"", headers), site=site, canon="c"))
    assert len(items) == 1 and isinstance(items[0], NoticeGoneItem) and items[0].reason == reason


def test_a_deep_page_through_the_spider_is_stored_as_data(spider_and_site) -> None:  # type: ignore[no-untyped-def]
    spider, site = spider_and_site
    items = list(spider.parse_notice(_notice_response(200, DEEP.encode()), site=site, canon="c"))
    assert len(items) == 1 and isinstance(items[0], NoticeItem | FetchErrorItem)


def test_no_file_paths_from_hostile_names(tmp_path: Path) -> None:
    from storage.blobstore import BlobStore

    store = BlobStore(tmp_path)
    for payload in (b"../../etc/passwd", b"CON", b"\x00", "附件".encode("gbk")):
        store.put_bytes(payload)
    for path in tmp_path.rglob("*"):
        assert path.resolve().is_relative_to((tmp_path / "blobs").resolve()) or path == tmp_path / "blobs"
