"""Caps, decompression bombs, blocks and retries, middleware by middleware (no network)."""

from __future__ import annotations

import gzip
import time
import zlib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import brotli
import pytest
from backports import zstd
from scrapy import Request
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import HtmlResponse, Response

from crawler.middlewares.blocks import BlockDetectionMiddleware, is_block
from crawler.middlewares.caps import (
    CappedCompressionMiddleware,
    PageSizeCapMiddleware,
    SiteBudgetMiddleware,
)
from crawler.middlewares.retry_after import BackoffRetryMiddleware, parse_retry_after
from noticewatch.demoweb.hostile import blocked_response
from tests.hostile.conftest import crawler_with

CAP = 1024 * 1024
EXPANDED = b"\0" * (20 * CAP)  # 20 MiB of zeros compresses to a few KB


def _bomb(encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.compress(EXPANDED, compresslevel=9)
    if encoding == "deflate":
        return zlib.compress(EXPANDED, 9)
    if encoding == "br":
        return brotli.compress(EXPANDED, quality=11)
    return zstd.compress(EXPANDED)


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
def test_decompression_bombs_stop_at_the_cap(encoding: str) -> None:
    bomb = _bomb(encoding)
    assert len(bomb) < 100 * 1024  # a few KB on the wire …
    crawler = crawler_with({"NOTICEWATCH_MAX_DECOMPRESSED_SIZE": CAP})
    mw = CappedCompressionMiddleware.from_crawler(crawler)
    request = Request("http://www.site.gov.cn/a.pdf", meta={"nw_kind": "attachment"})
    response = Response(request.url, body=bomb, headers={"Content-Encoding": encoding}, request=request)
    with pytest.raises(IgnoreRequest, match=r"decompressed size over the cap \(1048576 bytes\)"):
        mw.process_response(request, response)  # … and never 20 MiB in memory
    assert request.meta["nw_error_kind"] == "cap_exceeded"
    assert crawler.stats.get_value("caps/decompression_bomb") == 1


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
def test_honest_compressed_pages_decode(encoding: str) -> None:
    body = "<html><body>通知公告</body></html>".encode() * 50
    packed = {"gzip": gzip.compress, "deflate": zlib.compress, "br": brotli.compress, "zstd": zstd.compress}[encoding](body)
    mw = CappedCompressionMiddleware.from_crawler(crawler_with({"NOTICEWATCH_MAX_DECOMPRESSED_SIZE": CAP}))
    request = Request("http://www.site.gov.cn/")
    out = mw.process_response(request, HtmlResponse(request.url, body=packed, headers={"Content-Encoding": encoding}))
    assert out.body == body


def test_page_cap_limits_download_and_refuses_big_pages() -> None:
    crawler = crawler_with({"NOTICEWATCH_MAX_PAGE_SIZE": 1000, "DOWNLOAD_MAXSIZE": 5000})
    mw = PageSizeCapMiddleware.from_crawler(crawler)
    page = Request("http://www.site.gov.cn/n.html", meta={"nw_kind": "notice"})
    mw.process_request(page)
    assert page.meta["download_maxsize"] == 1000
    attachment = Request("http://www.site.gov.cn/a.pdf", meta={"nw_kind": "attachment"})
    mw.process_request(attachment)
    assert "download_maxsize" not in attachment.meta
    with pytest.raises(IgnoreRequest, match="over the parse cap"):
        mw.process_response(page, HtmlResponse(page.url, body=b"<p>" * 400))
    assert page.meta["nw_error_kind"] == "cap_exceeded"
    with pytest.raises(IgnoreRequest, match=r"over the size cap \(5000 bytes\)"):
        mw.process_exception(attachment, DownloadCancelledError("Expected to receive 9999 bytes"))


def test_forty_megabyte_page_is_refused_not_parsed() -> None:
    mw = PageSizeCapMiddleware.from_crawler(crawler_with({"NOTICEWATCH_MAX_PAGE_SIZE": 10 * CAP}))
    page = Request("http://www.site.gov.cn/n.html", meta={"nw_kind": "notice"})
    with pytest.raises(IgnoreRequest):
        mw.process_response(page, HtmlResponse(page.url, body=b"<div>" * (8 * CAP)))


def test_site_budget() -> None:
    crawler = crawler_with({"NOTICEWATCH_MAX_REQUESTS_PER_SITE": 3}, sites={"s": ["www.site.gov.cn"]})
    mw = SiteBudgetMiddleware.from_crawler(crawler)
    for _ in range(3):
        mw.process_request(Request("http://www.site.gov.cn/", meta={"nw_site": "s"}))
    with pytest.raises(IgnoreRequest, match="budget of 3"):
        mw.process_request(Request("http://www.site.gov.cn/x", meta={"nw_site": "s"}))
    # robots.txt (no nw_site) counts against the site of its host
    with pytest.raises(IgnoreRequest):
        mw.process_request(Request("http://www.site.gov.cn/robots.txt"))
    mw.process_request(Request("http://www.other.gov.cn/", meta={"nw_site": "o"}))  # other sites unaffected


def _as_response(kind: str, url: str = "http://www.site.gov.cn/list.html") -> HtmlResponse:
    resp = blocked_response(kind)
    body = resp.body.encode() if isinstance(resp.body, str) else resp.body
    return HtmlResponse(url, status=resp.status, body=body, headers=dict(resp.headers))


@pytest.mark.parametrize(("kind", "marker"), [("412", "$_ts"), ("521", "__jsl_clearance"), ("403", "block page")])
def test_block_pages_are_recognised(kind: str, marker: str) -> None:
    assert marker in (is_block(_as_response(kind)) or "")


def test_challenge_served_with_200_is_a_block_but_a_notice_is_not() -> None:
    challenge = _as_response("412")
    assert is_block(HtmlResponse(challenge.url, status=200, body=challenge.body)) is not None
    assert is_block(HtmlResponse(challenge.url, status=200, body="<p>普通通知</p>".encode() * 50)) is None


def test_blocks_are_not_retried_and_back_the_site_off() -> None:
    crawler = crawler_with({"NOTICEWATCH_BLOCK_THRESHOLD": 2}, sites={"s": ["www.site.gov.cn"]})
    blocks = BlockDetectionMiddleware.from_crawler(crawler)
    retry = BackoffRetryMiddleware.from_crawler(crawler)
    for n in range(2):
        request = Request(f"http://www.site.gov.cn/{n}.html", meta={"nw_site": "s", "nw_kind": "notice"})
        response = _as_response("412", request.url)
        assert retry.process_response(request, response) is response  # the retry layer leaves 412 alone
        with pytest.raises(IgnoreRequest, match="blocked"):
            blocks.process_response(request, response)
        assert request.meta["nw_error_kind"] == "blocked"
    with pytest.raises(IgnoreRequest, match="backed off"):
        blocks.process_request(Request("http://www.site.gov.cn/2.html", meta={"nw_site": "s"}))
    blocks.process_request(Request("http://www.other.gov.cn/", meta={"nw_site": "o"}))
    assert crawler.stats.get_value("blocks/sites_backed_off") == 1
    assert crawler.stats.get_value("retry/count") is None


def test_retry_after_seconds_and_http_date() -> None:
    now = time.time()
    assert parse_retry_after(b"120") == 120
    later = format_datetime(datetime.fromtimestamp(now, UTC) + timedelta(seconds=30), usegmt=True)
    assert 28 <= (parse_retry_after(later, now=now) or 0) <= 30
    assert parse_retry_after(b"soon") is None and parse_retry_after(None) is None


def _retry_mw(**extra: object) -> BackoffRetryMiddleware:
    settings = {"RETRY_TIMES": 3, "NOTICEWATCH_RETRY_BACKOFF_BASE": 2.0, "NOTICEWATCH_RETRY_BACKOFF_MAX": 60.0, **extra}
    return BackoffRetryMiddleware.from_crawler(crawler_with(settings))


def test_503_with_retry_after_backs_the_whole_site_off() -> None:
    mw = _retry_mw()
    request = Request("http://www.site.gov.cn/n.html", meta={"nw_site": "s", "nw_kind": "notice"})
    before = time.monotonic()
    new = mw.process_response(request, HtmlResponse(request.url, status=503, headers={"Retry-After": "45"}))
    assert isinstance(new, Request) and new.meta["retry_times"] == 1
    assert 44 <= new.meta["nw_not_before"] - before <= 46
    assert 44 <= mw.site_not_before["s"] - before <= 46  # the site waits, not just the request
    # Retry-After is capped by the configured maximum
    capped = mw.process_response(new, HtmlResponse(request.url, status=503, headers={"Retry-After": "9999"}))
    assert isinstance(capped, Request) and capped.meta["nw_not_before"] - time.monotonic() <= 60


def test_exponential_backoff_and_give_up_leaves_the_500_to_the_spider() -> None:
    mw = _retry_mw()
    assert [mw.delay_for(n, None) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert mw.delay_for(10, None) == 60.0
    request = Request("http://www.site.gov.cn/n.html", meta={"nw_site": "s", "nw_kind": "notice"})
    for _ in range(3):
        request = mw.process_response(request, HtmlResponse(request.url, status=500))
        assert isinstance(request, Request)
    final = HtmlResponse(request.url, status=500)
    assert mw.process_response(request, final) is final


def test_tiny_bodies_are_transient() -> None:
    mw = _retry_mw()
    page = Request("http://www.site.gov.cn/n.html", meta={"nw_site": "s", "nw_kind": "notice"})
    assert isinstance(mw.process_response(page, HtmlResponse(page.url, body=b"\r\n")), Request)
    att = Request("http://www.site.gov.cn/a.txt", meta={"nw_site": "s", "nw_kind": "attachment"})
    tiny = Response(att.url, body=b"ok")
    assert mw.process_response(att, tiny) is tiny  # a real (if tiny) file
    assert isinstance(mw.process_response(att, Response(att.url, body=b"\r\n")), Request)


def test_truncated_and_reset_downloads_are_retried() -> None:
    from scrapy.exceptions import DownloadTimeoutError, ResponseDataLossError
    from twisted.internet.error import ConnectionLost

    mw = _retry_mw(RETRY_TIMES=1)
    for exc in (ResponseDataLossError(), ConnectionLost()):
        assert isinstance(mw.process_exception(Request("http://www.site.gov.cn/"), exc), Request)
    spent = Request("http://www.site.gov.cn/", meta={"retry_times": 1})
    assert mw.process_exception(spent, DownloadTimeoutError("slow")) is None
    assert spent.meta["nw_error_kind"] == "timeout"
