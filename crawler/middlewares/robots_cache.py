"""Scrapy's robots.txt middleware with a cache that outlives the crawl process.

Every crawl is a fresh ``scrapy crawl`` process, so Scrapy's in-memory robots.txt
parsers are gone by the next hourly cycle and every site's robots.txt is fetched again.
On an incremental cycle that doubles the requests (robots.txt, then the column's 304)
and, worse, puts a whole politeness delay between them: at 1 s per domain the cycle can
not finish in under a second. RFC 9309 §2.4 lets crawlers cache robots.txt and asks
them not to use a copy older than 24 hours; search engines do the same.

So a readable robots.txt — a 2xx body, or a 4xx meaning "no rules" — is written to
``ROBOTSTXT_CACHE_DIR`` (one small JSON file per host) and reused by later crawls for
``ROBOTSTXT_CACHE_HOURS`` (default 24, the RFC's limit; 0 turns the cache off). 5xx
answers and network errors are never cached: ``RobotsGuardMiddleware`` must see them
to defer the site, and the next crawl asks again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import NotConfigured
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response
    from scrapy.robotstxt import RobotParser

logger = logging.getLogger(__name__)

RFC_MAX_HOURS = 24.0
MAX_CACHED_BYTES = 512 * 1024  # RFC 9309 §2.5: parse at least 500 KiB; larger files are not cached


def cache_path(cache_dir: Path, *, scheme: str, netloc: str) -> Path:
    """The cache file of one origin (hashed: a netloc may hold ``:`` or be very long)."""
    digest = hashlib.sha256(f"{scheme}://{netloc.lower()}".encode()).hexdigest()[:32]
    return cache_dir / digest[:2] / f"{digest}.json"


def read_cached(path: Path, *, max_age: float, now: float) -> tuple[int, bytes] | None:
    """(status, body) of a cached robots.txt younger than ``max_age`` seconds, else None."""
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        fetched = float(entry["fetched_at"])
        status = int(entry["status"])
        body = str(entry["body"]).encode("utf-8", "surrogateescape")
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        # A damaged cache file is only a cache miss: the crawl fetches robots.txt again.
        logger.warning("ignoring unreadable robots.txt cache file %s: %s", path, exc)
        return None
    if not 0 <= now - fetched < max_age:  # also refuses a clock that went backwards
        return None
    return status, body


def write_cached(path: Path, *, url: str, status: int, body: bytes, now: float) -> None:
    entry = {"url": url, "status": status, "fetched_at": now,
             "body": body.decode("utf-8", "surrogateescape")}
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write then rename: two crawl processes may store the same host at once.
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(entry), encoding="ascii")  # \u escapes keep undecodable bytes
    os.replace(tmp, path)


class CachedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Takes the place of Scrapy's ``RobotsTxtMiddleware`` (priority 100)."""

    def __init__(self, crawler: Crawler, *, cache_dir: Path | None, max_age: float) -> None:
        super().__init__(crawler)
        self.cache_dir = cache_dir
        self.max_age = max_age

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CachedRobotsTxtMiddleware:
        settings = crawler.settings
        if not settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured
        hours = min(settings.getfloat("ROBOTSTXT_CACHE_HOURS", RFC_MAX_HOURS), RFC_MAX_HOURS)
        directory = settings.get("ROBOTSTXT_CACHE_DIR")
        if not directory and settings.get("FILES_STORE"):
            directory = str(Path(settings["FILES_STORE"]) / "cache" / "robots")
        enabled = hours > 0 and bool(directory)
        return cls(crawler, cache_dir=Path(directory) if enabled else None, max_age=hours * 3600)

    async def robot_parser(self, request: Request) -> RobotParser | None:
        url = urlparse_cached(request)
        if self.cache_dir is not None and url.netloc not in self._parsers:
            path = cache_path(self.cache_dir, scheme=url.scheme, netloc=url.netloc)
            cached = read_cached(path, max_age=self.max_age, now=time.time())
            if cached is not None:
                status, body = cached
                # A cached 4xx stands for "no robots.txt": allowed, like Scrapy's empty parser.
                self._parsers[url.netloc] = build_from_crawler(self._parserimpl, self.crawler,
                                                               body if status < 400 else b"")
                self._stats.inc_value("robotstxt/cache_hit")
                return self._parsers[url.netloc]  # type: ignore[return-value]
        return await super().robot_parser(request)

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if self.cache_dir is not None and response.status < 500 and len(response.body) <= MAX_CACHED_BYTES:
            # Keyed by the origin asked for, not the redirect target that answered.
            scheme = urlparse_cached(request).scheme
            try:
                body = response.body if response.status < 400 else b""  # a 4xx page is not rules
                write_cached(cache_path(self.cache_dir, scheme=scheme, netloc=netloc), url=response.url,
                             status=response.status, body=body, now=time.time())
                self._stats.inc_value("robotstxt/cache_stored")
            except OSError as exc:
                logger.warning("could not cache robots.txt of %s: %s", netloc, exc)
        await super()._parse_robots(response, netloc, request)
