"""The spider's callbacks on real ``HtmlResponse`` objects (no network).

A page the adapter cannot parse becomes a ``FetchErrorItem(kind="parse")`` naming the
URL and the reason; a column with selectors gets them for its list and its notices.
"""

from __future__ import annotations

from typing import Any

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawler.items import FetchErrorItem, NoticeItem
from crawler.parsing.types import PageRequest
from crawler.registry import ColumnSpec, SiteSpec
from crawler.spiders.notices import NoticeSpider
from tests.sites.test_selectors import LIST_URL, NOTICE_URL, ODD_LIST, ODD_NOTICE, SELECTORS

PLAIN = ColumnSpec(url=LIST_URL, name="通知")
WITH_SELECTORS = ColumnSpec(url=LIST_URL, name="通知", selectors=SELECTORS)


def _site(*columns: ColumnSpec, family: str = "generic") -> SiteSpec:
    return SiteSpec(key="odd", name="某区", base_url="http://www.odd.gov.cn/", family=family,
                    columns=columns or (PLAIN,))


@pytest.fixture
def spider() -> NoticeSpider:
    crawler = get_crawler(NoticeSpider)
    spider = NoticeSpider.from_crawler(crawler)
    assert crawler.stats is not None
    crawler.stats.open_spider()
    spider.max_pages = 5
    spider.sites_by_key = {}
    return spider


def _response(url: str, body: str) -> HtmlResponse:
    return HtmlResponse(url=url, body=body.encode("utf-8"), encoding="utf-8", request=Request(url),
                        headers={"Content-Type": "text/html; charset=utf-8"})


def _notice_items(spider: NoticeSpider, body: str, site: SiteSpec, column: ColumnSpec | None) -> list[Any]:
    return list(spider.parse_notice(_response(NOTICE_URL, body), site=site, canon=NOTICE_URL, column=column))


def test_unparseable_notice_is_a_recorded_parse_failure(spider: NoticeSpider) -> None:
    # No title anywhere and no text: nothing a notice could be made of.
    page = "<html><head></head><body><div class='menu'><a href='/'>首页</a></div></body></html>"
    items = _notice_items(spider, page, _site(), None)
    assert len(items) == 1
    error = items[0]
    assert isinstance(error, FetchErrorItem)
    assert (error.kind, error.url, error.site_key) == ("parse", NOTICE_URL, "odd")
    assert error.detail in ("no title", "no body")


@pytest.mark.parametrize("family", ["trs_wcm", "fujian", "hanweb", "kaipu", "gkmlpt", "epoint", "generic", "auto"])
def test_binary_garbage_never_crashes_the_callback(spider: NoticeSpider, family: str) -> None:
    garbage = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    response = HtmlResponse(url=NOTICE_URL, body=garbage, request=Request(NOTICE_URL))
    items = list(spider.parse_notice(response, site=_site(family=family), canon=NOTICE_URL, column=None))
    assert [type(i) for i in items] == [FetchErrorItem]
    assert items[0].kind == "parse" and items[0].url == NOTICE_URL and items[0].detail


def test_column_selectors_reach_the_notice_callback(spider: NoticeSpider) -> None:
    plain = _notice_items(spider, ODD_NOTICE, _site(), PLAIN)
    assert isinstance(plain[0], NoticeItem) and plain[0].parsed.source is None
    items = _notice_items(spider, ODD_NOTICE, _site(WITH_SELECTORS), WITH_SELECTORS)
    assert len(items) == 1 and isinstance(items[0], NoticeItem)
    parsed = items[0].parsed
    assert (parsed.title, parsed.source) == ("关于开展2024年防汛演练的通知（全文）", "区应急管理局")
    assert items[0].file_urls == ["http://www.odd.gov.cn/xxgk/notices/docs/plan.pdf"]


def test_a_recheck_without_a_column_uses_the_sites_selectors(spider: NoticeSpider) -> None:
    items = _notice_items(spider, ODD_NOTICE, _site(PLAIN, WITH_SELECTORS), None)
    assert isinstance(items[0], NoticeItem) and items[0].parsed.source == "区应急管理局"


def test_list_callback_uses_selectors_and_carries_the_column(spider: NoticeSpider) -> None:
    site = _site(WITH_SELECTORS)
    out = list(spider.parse_list(_response(LIST_URL, ODD_LIST), site=site, column=WITH_SELECTORS,
                                 page=PageRequest(url=LIST_URL, kind="list", page=0), pending=[]))
    requests = [o for o in out if isinstance(o, Request)]
    notices = [r for r in requests if r.callback == spider.parse_notice]
    assert [r.url for r in notices] == [NOTICE_URL, "http://www.odd.gov.cn/xxgk/notices/view.php?id=76"]
    assert all(r.cb_kwargs["column"] is WITH_SELECTORS for r in notices)
    next_pages = [r for r in requests if r.callback == spider.parse_list]
    assert [r.url for r in next_pages] == ["http://www.odd.gov.cn/xxgk/notices/?page=2"]


def test_invalid_selectors_are_a_parse_failure_not_a_crash(spider: NoticeSpider) -> None:
    broken = ColumnSpec(url=LIST_URL, name="通知", selectors={"title": "div["})
    items = _notice_items(spider, ODD_NOTICE, _site(broken), broken)
    assert [type(i) for i in items] == [FetchErrorItem]
    assert items[0].kind == "parse" and "not a valid selector" in items[0].detail
