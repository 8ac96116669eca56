"""Recognise WAF blocks, stop asking a site that blocks us, and never retry a block in a storm.

Chinese government sites sit behind a few well-known defences:

* Ruishu (瑞数): HTTP 412 (sometimes 202/200) with a ``$_ts`` bootstrap script;
* Jiasule (加速乐): HTTP 521 whose script computes a ``__jsl_clearance`` cookie;
* plain 403/405 block pages from other WAFs.

A response is a block when its status is one of ``BLOCK_STATUSES`` or when a short
page carries a challenge marker. A block is never parsed as a notice: the middleware
raises IgnoreRequest with ``meta["nw_error_kind"] = "blocked"``, so the spider's
errback records one ``FetchErrorItem(kind="blocked")`` for that URL (the persist
pipeline counts them as the run's ``blocked``, which site health reads). Blocks are not
retried: this middleware (560) handles the response before the retry middleware
(550) could see it, and the retry middleware also leaves block statuses alone.

After ``NOTICEWATCH_BLOCK_THRESHOLD`` block answers from one site the site is backed
off for the rest of the run: its further requests are refused without being sent
(recorded as blocked, with the reason). Leaving a blocked site alone across runs
(``blocked_backoff_hours``) is the scheduler's business, from the run's counts.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached

from crawler.middlewares.caps import site_of

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

BLOCK_KIND = "blocked"
BLOCK_STATUSES = frozenset({403, 405, 412, 521})
# Challenge pages are small scripts; a real notice that merely mentions the marker is long.
CHALLENGE_MAX_BYTES = 64 * 1024
_CHALLENGE = re.compile(rb"\$_ts\s*[=.\[]|__jsl_clearance")


def block_signature(response: Response) -> str | None:
    """What marks *response* as a WAF block, or None for an ordinary answer."""
    body = response.body[:CHALLENGE_MAX_BYTES]
    cookies = b";".join(response.headers.getlist("Set-Cookie"))
    # Jiasule spells the cookie name out in pieces ('_')+('_')+('j')…; its session cookie is plain.
    if b"__jsl_clearance" in body or b"__jsluid" in cookies or (
            response.status == 521 and b"document.cookie" in body):
        return f"HTTP {response.status} __jsl_clearance challenge"
    if b"$_ts" in body:
        return f"HTTP {response.status} $_ts challenge"
    if response.status in BLOCK_STATUSES:
        return f"HTTP {response.status} block page"
    return None


def is_block(response: Response) -> str | None:
    if response.status in BLOCK_STATUSES:
        return block_signature(response)
    if response.status < 300 and len(response.body) <= CHALLENGE_MAX_BYTES and _CHALLENGE.search(response.body):
        return block_signature(response) or f"HTTP {response.status} challenge script"
    return None


class BlockDetectionMiddleware:
    def __init__(self, threshold: int = 3, stats: StatsCollector | None = None) -> None:
        self.threshold = max(1, threshold)
        self.stats = stats
        self.blocks: Counter[str] = Counter()
        self.backed_off: dict[str, str] = {}  # site -> the block that made us stop
        self.crawler: Crawler | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BlockDetectionMiddleware:
        mw = cls(crawler.settings.getint("NOTICEWATCH_BLOCK_THRESHOLD", 3), crawler.stats)
        mw.crawler = crawler
        return mw

    def _inc(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(key)

    def _site(self, request: Request) -> str:
        if request.meta.get("nw_site"):
            return str(request.meta["nw_site"])
        host = (urlparse_cached(request).hostname or "").lower()
        spider = getattr(self.crawler, "spider", None)
        by_host = getattr(spider, "site_by_host", None)
        if by_host:  # the notices spider's index: no scan of every site per robots.txt request
            return by_host[host].key if host in by_host else site_of(request)
        sites = getattr(spider, "sites_by_key", None) or {}
        return next((k for k, s in sites.items() if host in s.domains()), site_of(request))

    def process_request(self, request: Request) -> None:
        site = self._site(request)
        if site in self.backed_off:
            self._inc("blocks/skipped")
            request.meta["nw_error_kind"] = BLOCK_KIND
            raise IgnoreRequest(f"site {site} backed off for this run after {self.blocks[site]} block answers "
                                f"({self.backed_off[site]})")

    def process_response(self, request: Request, response: Response) -> Response:
        why = is_block(response)
        if why is None:
            return response
        site = self._site(request)
        self.blocks[site] += 1
        self._inc("blocks/answers")
        self._inc(f"blocks/status/{response.status}")
        if self.blocks[site] >= self.threshold and site not in self.backed_off:
            self.backed_off[site] = why
            self._inc("blocks/sites_backed_off")
            logger.warning("site %s blocks the crawler (%s); no more requests to it in this run", site, why)
        # robots.txt too: a 521 challenge is not a 5xx outage (robots_guard would defer the site
        # as "unavailable"); the site's pages then meet the block and are reported as blocked.
        request.meta["nw_error_kind"] = BLOCK_KIND
        raise IgnoreRequest(f"blocked: {why}")

