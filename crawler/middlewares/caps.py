"""Limits that keep one hostile or broken site from eating the crawl: budgets and size caps.

* ``SiteBudgetMiddleware`` (760+10): at most ``NOTICEWATCH_MAX_REQUESTS_PER_SITE``
  requests per site and run (retries and redirect hops count; robots.txt counts for
  the site whose host it is). Placed after the address guard so refused requests do
  not spend budget.
* ``PageSizeCapMiddleware`` (585): list and notice pages larger than
  ``NOTICEWATCH_MAX_PAGE_SIZE`` are not parsed. The download itself is cut off at that
  size (``meta["download_maxsize"]``), so a 40 MB page never sits in memory whole;
  ``process_response`` runs after decompression (590) and checks the decoded size.
  It also turns Scrapy's size cancellations into a readable reason: an attachment over
  DOWNLOAD_MAXSIZE fails in the files pipeline with "over the size cap (N bytes)".
* ``CappedCompressionMiddleware`` (590, replacing Scrapy's HttpCompressionMiddleware):
  Scrapy 2.19 already decodes gzip/x-gzip, deflate (zlib and raw), brotli and zstd in
  64 KiB steps and stops once the *decompressed* size passes the cap (the
  CVE-2025-6176 fix), but the cap it uses is DOWNLOAD_MAXSIZE. This subclass uses
  ``NOTICEWATCH_MAX_DECOMPRESSED_SIZE`` instead (pages keep their smaller
  ``download_maxsize`` from the page cap) and labels the failure ``cap_exceeded``.

Every refusal raises IgnoreRequest with ``meta["nw_error_kind"] = "cap_exceeded"``;
the spider's errback records it as a FetchErrorItem of that kind.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest, NotConfigured
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import CancelledError

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

CAP_KIND = "cap_exceeded"
PAGE_KINDS = frozenset({"list", "notice"})


def _refuse(request: Request, message: str, stats: StatsCollector | None, key: str) -> IgnoreRequest:
    if stats is not None:
        stats.inc_value(key)
    request.meta["nw_error_kind"] = CAP_KIND
    return IgnoreRequest(message)


def site_of(request: Request) -> str:
    """The site a request counts against: its ``nw_site``, else its host."""
    return str(request.meta.get("nw_site") or urlparse_cached(request).hostname or "")


class SiteBudgetMiddleware:
    def __init__(self, max_requests: int, stats: StatsCollector | None = None) -> None:
        self.max_requests = max_requests
        self.stats = stats
        self.spent: Counter[str] = Counter()
        self._site_by_host: dict[str, str] = {}
        self.crawler: Crawler | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SiteBudgetMiddleware:
        limit = crawler.settings.getint("NOTICEWATCH_MAX_REQUESTS_PER_SITE", 0)
        if limit <= 0:
            raise NotConfigured("no per-site request budget")
        mw = cls(limit, crawler.stats)
        mw.crawler = crawler
        return mw

    def _site_key(self, request: Request) -> str:
        if request.meta.get("nw_site"):
            return str(request.meta["nw_site"])
        host = urlparse_cached(request).hostname or ""
        if host not in self._site_by_host:
            spider = getattr(self.crawler, "spider", None)
            by_host = getattr(spider, "site_by_host", None)  # the notices spider's index
            sites = getattr(spider, "sites_by_key", None) or {}
            self._site_by_host[host] = (
                (by_host[host].key if host in by_host else host) if by_host
                else next((k for k, s in sites.items() if host in s.domains()), host))
        return self._site_by_host[host]

    def process_request(self, request: Request) -> None:
        key = self._site_key(request)
        if self.spent[key] >= self.max_requests:
            if self.spent[key] == self.max_requests:
                logger.warning("site %s spent its budget of %d requests", key, self.max_requests)
                self.spent[key] += 1  # log once
            raise _refuse(request, f"site {key} is over its budget of {self.max_requests} requests",
                          self.stats, "caps/budget_refused")
        self.spent[key] += 1


class PageSizeCapMiddleware:
    def __init__(self, max_page_size: int, stats: StatsCollector | None = None, *,
                 download_maxsize: int = 0) -> None:
        self.max_page_size = max_page_size
        self.download_maxsize = download_maxsize
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PageSizeCapMiddleware:
        s = crawler.settings
        return cls(s.getint("NOTICEWATCH_MAX_PAGE_SIZE", 10 * 1024 * 1024), crawler.stats,
                   download_maxsize=s.getint("DOWNLOAD_MAXSIZE"))

    def process_request(self, request: Request) -> None:
        if request.meta.get("nw_kind") in PAGE_KINDS and self.max_page_size > 0:
            current = int(request.meta.get("download_maxsize") or 0)
            request.meta["download_maxsize"] = min(current, self.max_page_size) if current else self.max_page_size

    def process_response(self, request: Request, response: Response) -> Response:
        if request.meta.get("nw_kind") in PAGE_KINDS and len(response.body) > self.max_page_size > 0:
            raise _refuse(request, f"page of {len(response.body)} bytes is over the parse cap "
                          f"({self.max_page_size} bytes)", self.stats, "caps/page_too_big")
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        # Scrapy cancels a download that passes download_maxsize: with DownloadCancelledError
        # when Content-Length announces it, a bare CancelledError when the body grows past it.
        if isinstance(exception, DownloadCancelledError | CancelledError):
            limit = request.meta.get("download_maxsize", self.download_maxsize)
            raise _refuse(request, f"over the size cap ({limit} bytes)", self.stats, "caps/download_too_big")


class CappedCompressionMiddleware(HttpCompressionMiddleware):
    def __init__(self, *, crawler: Crawler, max_decompressed_size: int) -> None:
        super().__init__(crawler=crawler)
        self._max_size = max_decompressed_size

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CappedCompressionMiddleware:
        if not crawler.settings.getbool("COMPRESSION_ENABLED"):
            raise NotConfigured
        cap = crawler.settings.getint("NOTICEWATCH_MAX_DECOMPRESSED_SIZE", 0) or crawler.settings.getint(
            "DOWNLOAD_MAXSIZE")
        return cls(crawler=crawler, max_decompressed_size=cap)

    # Scrapy 2.19's base still declares the deprecated ``spider`` argument; we leave it out.
    def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        try:
            return super().process_response(request, response)
        except IgnoreRequest as exc:
            cap = request.meta.get("download_maxsize", self._max_size)
            raise _refuse(request, f"decompressed size over the cap ({cap} bytes): {exc}", self.stats,
                          "caps/decompression_bomb") from exc
