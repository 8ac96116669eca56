"""Politeness delays shared by every worker of a distributed crawl, through Redis.

Scrapy's download slots space the requests of one process: N ``noticewatch worker``
processes would reach a site up to N times as often. Before a request reaches its
download slot, this middleware claims the slot's politeness window for all workers:

    SET {prefix}:polite:{slot key} <worker id> NX PX <window ms>

If another worker (or another request of this one) holds the window, it sleeps for
the key's remaining PTTL and tries again. The key expires by itself, so nothing is
left behind, even by a killed worker; every key lives under the crawl's
``NOTICEWATCH_REDIS_PREFIX``.

* Slot key: the downloader's own (``meta["download_slot"]``, else the host, or the IP
  with ``CONCURRENT_REQUESTS_PER_IP``); robots.txt and attachment downloads go through
  the downloader too and count against their host like any page.
* Window: the live download slot's delay (which includes AutoThrottle's adjustments),
  or before the slot exists the configured one (``DOWNLOAD_SLOTS[key]["delay"]``, else
  ``DOWNLOAD_DELAY``, at least ``AUTOTHROTTLE_START_DELAY`` under AutoThrottle).
  Scrapy's randomisation (``DOWNLOAD_DELAY_JITTER``, formerly
  ``RANDOMIZE_DOWNLOAD_DELAY``: 0.5-1.5x by default) moves from the local slots to the
  claimed window (``take_over_jitter``). A delay of 0 passes without Redis.
* The local slot keeps its delay, a floor for this process's own requests. So that it
  never adds a wait after the claim (the claimed request would then reach the site
  late, next to the following worker's request), a request first waits until its
  local slot would send it at once, then claims. Requests of one process to one slot
  claim in turn (a lock per slot), so only one of them polls Redis.
* Redis unreachable or failing: a warning once per outage, ``politeness/shared_errors``,
  and requests pass with the local politeness only; Redis is tried again after
  ``NOTICEWATCH_SHARED_POLITENESS_RETRY`` seconds. Socket timeouts are
  ``NOTICEWATCH_SHARED_POLITENESS_TIMEOUT`` seconds, so a stalled Redis cannot hang
  the crawl.

Enabled by ``NOTICEWATCH_SHARED_POLITENESS`` with ``REDIS_URL`` (or
``NOTICEWATCH_REDIS_URL``); ``crawler.distributed.DistributedNoticeSpider`` turns it on.
Stats: ``politeness/shared_claims``, ``politeness/shared_waits`` (requests that found
the window taken), ``politeness/shared_wait_seconds``, ``politeness/shared_errors``,
``politeness/shared_bypassed`` (requests passed without a claim while Redis failed).
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.settings import SETTINGS_PRIORITIES
from scrapy.utils.asyncio import is_asyncio_available
from scrapy.utils.httpobj import urlparse_cached

if TYPE_CHECKING:
    from scrapy.core.downloader import Slot
    from scrapy.crawler import Crawler
    from scrapy.http import Request
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

# After a Redis failure the slot's local delay still applies; Redis is retried this
# much later rather than on every request, so an unreachable host does not cost each
# request a connect timeout.
DEFAULT_RETRY_SECONDS = 30.0
# How often a request re-checks a local slot that is at its concurrency limit
# (Scrapy signals nothing when a transfer ends, and this only runs while one is slow).
BUSY_POLL_SECONDS = 0.05

# SET NX PX, and the remaining PTTL when the window is taken, in one round trip and
# atomically (the key cannot expire between the two: Redis freezes time in a script).
# A key without expiry (set by hand) would block the slot for ever: give it one.
CLAIM_SCRIPT = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return tonumber(ARGV[2])
end
if ttl < 1 then return 1 end
return ttl
"""


def politeness_key(prefix: str, slot_key: str) -> str:
    return f"{prefix}:polite:{slot_key}"


def _setting_priority(settings: BaseSettings, name: str) -> int:
    return settings.getpriority(name) or 0


def take_over_jitter(settings: BaseSettings) -> None:
    """Move Scrapy's delay randomisation from the local download slots to the claim.

    Records the jitter Scrapy would use (``DOWNLOAD_DELAY_JITTER``, or the deprecated
    ``RANDOMIZE_DOWNLOAD_DELAY`` when set above it, as Scrapy decides) under
    ``NOTICEWATCH_SHARED_POLITENESS_JITTER`` and the per-slot ones under
    ``NOTICEWATCH_SHARED_POLITENESS_SLOT_JITTER``, then sets them to 0 at a priority
    that wins, so a local slot never adds a second random wait after a claim.
    """
    spider = SETTINGS_PRIORITIES["spider"]
    jitter = settings.getfloat("DOWNLOAD_DELAY_JITTER")
    randomize = _setting_priority(settings, "RANDOMIZE_DOWNLOAD_DELAY")
    jitter_priority = _setting_priority(settings, "DOWNLOAD_DELAY_JITTER")
    if randomize > SETTINGS_PRIORITIES["default"] and randomize > jitter_priority:
        jitter = 0.5 if settings.getbool("RANDOMIZE_DOWNLOAD_DELAY") else 0.0
    settings.set("NOTICEWATCH_SHARED_POLITENESS_JITTER", jitter, priority="spider")
    settings.set("DOWNLOAD_DELAY_JITTER", 0.0, priority=max(spider, jitter_priority, randomize))

    slots = settings.getdict("DOWNLOAD_SLOTS")
    slot_jitter: dict[str, float] = {}
    for key, slot in slots.items():
        if "jitter" in slot:
            slot_jitter[key] = float(slot["jitter"])
        elif "randomize_delay" in slot:
            slot_jitter[key] = 0.5 if slot["randomize_delay"] else 0.0
        else:
            continue
        slots[key] = {k: v for k, v in slot.items() if k != "randomize_delay"} | {"jitter": 0.0}
    if slot_jitter:
        settings.set("NOTICEWATCH_SHARED_POLITENESS_SLOT_JITTER", slot_jitter, priority="spider")
        settings.set("DOWNLOAD_SLOTS", slots, priority=max(spider, _setting_priority(settings, "DOWNLOAD_SLOTS")))


class SharedPolitenessMiddleware:
    def __init__(self, crawler: Crawler, *, redis_url: str, prefix: str, delay: float,
                 slot_delays: dict[str, float], jitter: float, slot_jitter: dict[str, float],
                 timeout: float = 2.0, retry_seconds: float = DEFAULT_RETRY_SECONDS,
                 worker_id: str | None = None) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.prefix = prefix
        self.delay = delay
        self.slot_delays = slot_delays
        self.jitter = jitter
        self.slot_jitter = slot_jitter
        self.retry_seconds = retry_seconds
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
        # Imported here: every ``scrapy crawl`` loads crawler.distributed (and so this
        # module) with the spiders, and only the workers need Redis.
        import redis.asyncio
        from redis.exceptions import RedisError

        self.redis_errors: tuple[type[Exception], ...] = (RedisError, OSError)
        # redis.asyncio rather than the blocking client: a wait for a claim is an
        # asyncio sleep already, and a slow or remote Redis (workers on several
        # machines) then holds only the requests that wait for it, never the reactor
        # and every other site's downloads for up to the socket timeout.
        self.server = redis.asyncio.Redis.from_url(
            redis_url, socket_connect_timeout=timeout, socket_timeout=timeout)
        self.claim_script = self.server.register_script(CLAIM_SCRIPT)
        self.down_until = 0.0  # monotonic time before which Redis is not tried again
        self.locks: dict[str, asyncio.Lock] = {}
        self.lock_users: Counter[str] = Counter()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedPolitenessMiddleware:
        from crawler.distributed import DEFAULT_PREFIX, check_prefix

        settings = crawler.settings
        if not settings.getbool("NOTICEWATCH_SHARED_POLITENESS"):
            raise NotConfigured("shared politeness is for distributed workers")
        redis_url = settings.get("REDIS_URL") or settings.get("NOTICEWATCH_REDIS_URL")
        if not redis_url:
            raise NotConfigured("shared politeness needs REDIS_URL")
        try:
            asyncio_ok = is_asyncio_available()
        except RuntimeError:
            asyncio_ok = True  # built outside a crawl (no reactor yet): the caller drives asyncio
        if not asyncio_ok:
            logger.warning("shared politeness needs the asyncio reactor; delays stay per process")
            raise NotConfigured("shared politeness needs the asyncio reactor")
        slots = settings.getdict("DOWNLOAD_SLOTS")
        delay = settings.getfloat("DOWNLOAD_DELAY")
        if settings.getbool("AUTOTHROTTLE_ENABLED"):
            # AutoThrottle gives new slots this delay (its start delay, never below the minimum).
            delay = max(delay, settings.getfloat("AUTOTHROTTLE_START_DELAY"))
        middleware = cls(
            crawler,
            redis_url=redis_url,
            prefix=check_prefix(settings.get("NOTICEWATCH_REDIS_PREFIX") or DEFAULT_PREFIX),
            delay=delay,
            slot_delays={k: float(v["delay"]) for k, v in slots.items() if "delay" in v},
            jitter=settings.getfloat("NOTICEWATCH_SHARED_POLITENESS_JITTER"),
            slot_jitter={k: float(v) for k, v in
                         settings.getdict("NOTICEWATCH_SHARED_POLITENESS_SLOT_JITTER").items()},
            timeout=settings.getfloat("NOTICEWATCH_SHARED_POLITENESS_TIMEOUT", 2.0),
            retry_seconds=settings.getfloat("NOTICEWATCH_SHARED_POLITENESS_RETRY", DEFAULT_RETRY_SECONDS),
        )
        crawler.signals.connect(middleware.close, signal=signals.spider_closed)
        return middleware

    async def close(self) -> None:
        await self.server.aclose()

    # -- what the local downloader would do ------------------------------------------------

    def _downloader(self) -> Any:
        try:
            engine = self.crawler.engine
        except RuntimeError:  # Scrapy 2.19: no crawl started (the middleware driven on its own)
            return None
        return getattr(engine, "downloader", None)

    def slot_key(self, request: Request) -> str:
        downloader = self._downloader()
        if downloader is not None:
            return str(downloader.get_slot_key(request))
        slot = request.meta.get("download_slot")
        return str(slot) if slot is not None else (urlparse_cached(request).hostname or "")

    def _local_slot(self, key: str) -> Slot | None:
        downloader = self._downloader()
        return None if downloader is None else downloader.slots.get(key)

    def base_delay(self, key: str, slot: Slot | None = None) -> float:
        """The delay the local slot applies to ``key`` (before randomisation)."""
        return float(slot.delay) if slot is not None else self.slot_delays.get(key, self.delay)

    def window(self, key: str, slot: Slot | None = None) -> float:
        """Seconds to claim for the next request to ``key``, randomised like Scrapy would."""
        delay = self.base_delay(key, slot)
        jitter = self.slot_jitter.get(key, self.jitter)
        if not delay or not jitter:
            return max(0.0, delay)
        return max(0.0, delay * (1 + random.uniform(-jitter, jitter)))  # noqa: S311 - not security

    @staticmethod
    def local_hold(slot: Slot | None) -> float:
        """Seconds until the local slot would send a request at once (0: it would now)."""
        if slot is None:
            return 0.0
        if slot.queue or slot.free_transfer_slots() <= 0:
            return BUSY_POLL_SECONDS
        if not slot.delay:
            return 0.0
        return max(0.0, slot.lastseen + slot.delay - time.monotonic())

    # -- the claim ---------------------------------------------------------------------------

    def _inc(self, name: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(f"politeness/{name}")

    def _add_wait(self, seconds: float) -> None:
        if self.stats is not None:
            self.stats.inc_value("politeness/shared_waits")
            # inc_value is typed for counts; the seconds are a float total.
            total = float(self.stats.get_value("politeness/shared_wait_seconds", 0.0))
            self.stats.set_value("politeness/shared_wait_seconds", round(total + seconds, 3))

    async def process_request(self, request: Request) -> None:
        key = self.slot_key(request)
        if self.base_delay(key, self._local_slot(key)) <= 0:
            return  # no delay to share: no Redis call either
        self.lock_users[key] += 1
        lock = self.locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                await self._claim(key)
        finally:
            self.lock_users[key] -= 1
            if not self.lock_users[key]:
                del self.lock_users[key], self.locks[key]

    async def _claim(self, key: str) -> None:
        waited = 0.0
        while True:
            slot = self._local_slot(key)
            hold = self.local_hold(slot)
            if hold > 0:
                await asyncio.sleep(hold)
                continue
            window = self.window(key, slot)
            if not window:
                return
            if time.monotonic() < self.down_until:
                self._inc("shared_bypassed")
                return
            try:
                ttl_ms = int(await self.claim_script(keys=[politeness_key(self.prefix, key)],
                                                     args=[self.worker_id, max(1, round(window * 1000))]))
            except self.redis_errors as exc:
                self._redis_failed(exc)
                self._inc("shared_bypassed")
                return
            if self.down_until:
                self.down_until = 0.0
                logger.info("shared politeness: Redis answers again")
            if ttl_ms == 0:
                self._inc("shared_claims")
                if waited:
                    self._add_wait(waited)
                return
            pause = ttl_ms / 1000
            waited += pause
            await asyncio.sleep(pause)

    def _redis_failed(self, exc: Exception) -> None:
        self._inc("shared_errors")
        if not self.down_until:  # once per outage
            logger.warning("shared politeness: Redis failed (%s); politeness delays are per worker "
                           "until it answers again", exc)
        self.down_until = time.monotonic() + self.retry_seconds
