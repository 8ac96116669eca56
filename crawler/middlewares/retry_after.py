"""Retries that honour ``Retry-After`` and back off per site, without blocking the reactor.

Replaces Scrapy's RetryMiddleware at 550 (Scrapy's retries go out again at once and
ignore ``Retry-After``). What is retried:

* ``RETRY_HTTP_CODES`` (429, 408, 5xx…) plus every other 5xx except 501/505 and the
  block statuses (412, 521, 403, 405: see blocks.py; retrying a WAF makes it angrier);
* the exceptions of ``RETRY_EXCEPTIONS``: timeouts, refused and reset connections,
  truncated bodies (``ResponseDataLossError``: DOWNLOAD_FAIL_ON_DATALOSS stays True so
  a cut-off page fails instead of being parsed half);
* a ``200`` list or notice page shorter than ``NOTICEWATCH_MIN_PAGE_BYTES`` (64), or an
  attachment whose short body is only whitespace: a 2-byte body from an overloaded CMS
  is a transient fault, not an empty notice or file.

The wait before a retry is ``Retry-After`` (seconds or an HTTP date) when the server
gives one, otherwise ``NOTICEWATCH_RETRY_BACKOFF_BASE * 2**(attempt-1)``, both capped
at ``NOTICEWATCH_RETRY_BACKOFF_MAX``. The wait applies to the whole site: until it is
over, every request to that site waits in ``process_request``. Waiting is an
``await`` on a Twisted timer (Scrapy 2.19 accepts coroutine middleware methods), so
other sites keep crawling. Giving up leaves the last response to the spider, which
records it as an ``http`` fetch error: a 500 never marks a notice withdrawn.
"""

from __future__ import annotations

import logging
import time
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.response import response_status_message
from twisted.internet import task

from crawler.middlewares.blocks import BLOCK_STATUSES
from crawler.middlewares.caps import PAGE_KINDS, site_of

if TYPE_CHECKING:
    from scrapy.http import Request, Response
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

NOT_RETRIED = frozenset({501, 505}) | BLOCK_STATUSES
# The error kind a request that failed for good is recorded under.
_GIVE_UP_KINDS = {
    "DownloadTimeoutError": "timeout", "TimeoutError": "timeout", "TCPTimedOutError": "timeout",
    "CannotResolveHostError": "dns", "DNSLookupError": "dns",
}


def parse_retry_after(value: bytes | str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header; None when absent or unreadable."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.backoff_base = settings.getfloat("NOTICEWATCH_RETRY_BACKOFF_BASE", 2.0)
        self.backoff_max = settings.getfloat("NOTICEWATCH_RETRY_BACKOFF_MAX", 300.0)
        self.min_page_bytes = settings.getint("NOTICEWATCH_MIN_PAGE_BYTES", 64)
        self.retry_http_codes = {c for c in self.retry_http_codes if c not in NOT_RETRIED}
        self.site_not_before: dict[str, float] = {}

    def delay_for(self, attempt: int, retry_after: float | None) -> float:
        backoff = self.backoff_base * (2 ** max(0, attempt - 1))
        wanted = backoff if retry_after is None else max(retry_after, self.backoff_base)
        return min(wanted, self.backoff_max)

    def looks_truncated(self, request: Request, response: Response) -> bool:
        """A 2-byte page, or an attachment that is only whitespace: an overloaded server's reply."""
        kind = request.meta.get("nw_kind")
        if kind in PAGE_KINDS:
            return len(response.body) < self.min_page_bytes
        if kind == "attachment":
            return len(response.body) < self.min_page_bytes and not response.body.strip()
        return False

    def retryable_status(self, status: int) -> bool:
        return status in self.retry_http_codes or (500 <= status < 600 and status not in NOT_RETRIED)

    async def process_request(self, request: Request) -> None:
        until = max(self.site_not_before.get(site_of(request), 0.0), float(request.meta.get("nw_not_before", 0.0)))
        wait = until - time.monotonic()
        if wait > 0:
            if self.crawler.stats is not None:
                self.crawler.stats.inc_value("retry/backoff_waits")
            from twisted.internet import reactor

            await maybe_deferred_to_future(task.deferLater(reactor, wait, lambda: None))

    def _retry_later(self, request: Request, reason: str | Exception, retry_after: float | None) -> Request | None:
        new = self._retry(request, reason)
        if new is None:
            return None
        delay = self.delay_for(int(new.meta.get("retry_times", 1)), retry_after)
        until = time.monotonic() + delay
        site = site_of(request)
        self.site_not_before[site] = max(self.site_not_before.get(site, 0.0), until)
        new.meta["nw_not_before"] = until
        new.meta.pop("nw_error_kind", None)
        new.meta.pop("download_maxsize", None)  # recomputed by the page cap
        logger.debug("retrying %s in %.2fs (%s)", request.url, delay, reason)
        return new

    # Scrapy 2.19's RetryMiddleware still declares the deprecated ``spider`` argument on
    # these two hooks; we leave it out, as the project's Scrapy style asks.
    def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        if request.meta.get("dont_retry", False):
            return response
        if self.retryable_status(response.status):
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return self._retry_later(request, response_status_message(response.status), retry_after) or response
        if response.status == 200 and self.looks_truncated(request, response):
            new = self._retry_later(request, "short body", None)
            if new is not None:
                return new
        return response

    def process_exception(  # type: ignore[override]
        self, request: Request, exception: Exception
    ) -> Request | None:
        if request.meta.get("dont_retry", False) or not isinstance(exception, self.exceptions_to_retry):
            return None
        new = self._retry_later(request, exception, None)
        if new is None:
            kind = _GIVE_UP_KINDS.get(type(exception).__name__)
            if kind:
                request.meta.setdefault("nw_error_kind", kind)
        return new
