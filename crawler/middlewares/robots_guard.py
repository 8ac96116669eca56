"""Defer a site whose robots.txt cannot be read, instead of crawling it unrestricted.

Scrapy's ``RobotsTxtMiddleware`` (checked in Scrapy 2.19) treats a robots.txt it
could not download (DNS error, refused connection, timeout) as "no rules": every URL
is allowed. A 5xx answer is worse: the retried error page is parsed as robots.txt,
which again allows everything. RFC 9309 §2.3.1.4 asks the opposite — an unreachable
robots.txt means "assume complete disallow" — and a government site that is down or
overloaded is exactly the one to leave alone. This middleware watches the robots.txt
responses and, for a host whose robots.txt failed with a network error or a 5xx
status, ignores the host's other requests for the rest of the crawl. The next crawl
tries again. 4xx (no robots.txt) still means "allowed", as the RFC says.

Order: after ``RobotsTxtMiddleware`` (100) in ``process_request`` so the robots.txt
outcome is known; ``process_response``/``process_exception`` run after
``RetryMiddleware`` (550) has given up on the robots.txt request.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.httpobj import urlparse_cached

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

ERROR_KIND = "robots_unavailable"


def _is_robots_request(request: Request) -> bool:
    return bool(request.meta.get("dont_obey_robotstxt")) and urlparse_cached(request).path == "/robots.txt"


class RobotsGuardMiddleware:
    def __init__(self, stats: StatsCollector | None = None) -> None:
        self.stats = stats
        self.deferred: dict[str, str] = {}  # netloc -> why its robots.txt is unusable

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RobotsGuardMiddleware:
        settings = crawler.settings
        if not settings.getbool("ROBOTSTXT_OBEY") or not settings.getbool("ROBOTS_GUARD_ENABLED", True):
            raise NotConfigured
        return cls(crawler.stats)

    def _defer(self, request: Request, reason: str) -> None:
        netloc = urlparse_cached(request).netloc
        if netloc not in self.deferred:
            logger.warning("robots.txt of %s unavailable (%s): deferring the site to a later crawl",
                           netloc, reason)
            if self.stats is not None:
                self.stats.inc_value("robots_guard/deferred_hosts")
        self.deferred[netloc] = reason

    def process_request(self, request: Request) -> None:
        if request.meta.get("dont_obey_robotstxt"):
            return
        reason = self.deferred.get(urlparse_cached(request).netloc)
        if reason is None:
            return
        if self.stats is not None:
            self.stats.inc_value("robots_guard/ignored")
        # The spider's errback turns this into a fetch error of this kind.
        request.meta["nw_error_kind"] = ERROR_KIND
        raise IgnoreRequest(f"robots.txt unavailable ({reason}); site deferred")

    def process_response(self, request: Request, response: Response) -> Response:
        if _is_robots_request(request) and response.status >= 500:
            self._defer(request, f"HTTP {response.status}")
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        if _is_robots_request(request) and not isinstance(exception, IgnoreRequest):
            self._defer(request, type(exception).__name__)
