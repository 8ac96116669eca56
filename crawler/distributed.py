"""Several crawl processes sharing one crawl through Redis (scrapy-redis).

scrapy-redis 0.9.1 works with Scrapy 2.19 as far as we use it: its ``Scheduler``
implements the engine's scheduler interface (``open``/``close``/``enqueue_request``/
``next_request``/``has_pending_requests``) and its ``RFPDupeFilter`` computes its own
fingerprints, so neither touches the removed request-fingerprinting helpers. We do
not use its spider mixins (``RedisSpider`` reads start URLs from a Redis list via
``start_requests`` and a ``spider_idle`` hook, which does not fit 2.19's
``async def start()`` and our registry-driven start requests). This module is the
thin adapter instead:

* Workers join the cycle atomically (crawler/cycle.py): the first one seeds the
  column start requests into the shared queue, the others only consume it; each keeps
  a heartbeat, so a killed worker drops out of the cycle within a minute, and a worker
  that finds only dead ones and an empty queue clears the stale cycle and seeds anew.
* A worker closes as soon as the shared queue is empty and every live worker of the
  cycle is idle, or at the latest once the queue has stayed empty for
  ``NOTICEWATCH_WORKER_IDLE_SECONDS``; the last one out clears the cycle's keys (seed
  flag, queue, duplicate filter) so the next cycle starts fresh.
* What the single-process spider keeps in memory and a notice needs later (the
  columns that listed it) travels in the request's meta instead, because another
  worker may fetch the notice.

* Politeness delays are shared: before a request reaches its download slot, the
  worker claims the slot's delay window in Redis (``<prefix>:polite:<slot>``, expiring
  by itself), so N workers together keep to one site's ``download_delay`` instead of
  reaching it N times as often. See crawler/middlewares/shared_politeness.py; without
  Redis it falls back to per-process delays.

Requests are pickled into Redis, so every worker must run the same noticewatch
version.
"""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Request, Response
from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings

from crawler.cycle import HEARTBEAT_SECONDS, CycleMembership, cycle_keys
from crawler.middlewares.shared_politeness import take_over_jitter
from crawler.parsing.types import PageRequest
from crawler.registry import ColumnSpec, SiteSpec
from crawler.spiders.notices import NoticeSpider

DEFAULT_PREFIX = "noticewatch"
PREFIX_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
# The stat each worker's run records its cycle id in; storage.runs.CYCLE_STAT reads it
# back from the run's stored stats (the crawler does not import storage).
CYCLE_STAT = "distributed/cycle"
ALL_IDLE_MESSAGE = "every worker of the cycle is idle and the queue empty: closing"
IDLE_POLL_SECONDS = 0.2  # how often an idle worker checks whether the whole cycle is done
SHARED_POLITENESS_PATH = "crawler.middlewares.shared_politeness.SharedPolitenessMiddleware"
# After HttpCacheMiddleware (900), the last of Scrapy's and the project's middlewares.
SHARED_POLITENESS_ORDER = 950


def check_prefix(prefix: str) -> str:
    # scrapy-redis %-formats its key settings: keep the prefix to plain characters.
    if not PREFIX_PATTERN.match(prefix):
        raise ValueError(f"Redis key prefix {prefix!r} may only use letters, digits and _ . : -")
    return prefix


def reset_cycle(server: Any, prefix: str) -> int:
    """Delete a cycle's keys (to abandon a half-done cycle; a dead one clears itself)."""
    return int(server.delete(*cycle_keys(check_prefix(prefix)).values()))


class DistributedNoticeSpider(NoticeSpider):
    """``scrapy crawl notices_distributed``: the notices spider over a shared Redis queue."""

    name = "notices_distributed"
    custom_settings = {
        **NoticeSpider.custom_settings,
        "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
        # Never flush the shared queue when one worker closes: the others still need it.
        "SCHEDULER_PERSIST": True,
    }

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        prefix = check_prefix(settings.get("NOTICEWATCH_REDIS_PREFIX") or DEFAULT_PREFIX)
        keys = cycle_keys(prefix)
        settings.set("SCHEDULER_QUEUE_KEY", keys["queue"], priority="spider")
        settings.set("SCHEDULER_DUPEFILTER_KEY", keys["dupefilter"], priority="spider")
        if not settings.get("REDIS_URL"):
            settings.set("REDIS_URL", settings.get("NOTICEWATCH_REDIS_URL") or "", priority="spider")
        # Politeness delays across all workers: added to the project's middlewares (a
        # user's ``None`` for it still disables it), after every other process_request
        # so the claim is the last wait before the download slot.
        settings.set("NOTICEWATCH_SHARED_POLITENESS", True, priority="spider")
        middlewares = settings.getdict("DOWNLOADER_MIDDLEWARES")
        middlewares.setdefault(SHARED_POLITENESS_PATH, SHARED_POLITENESS_ORDER)
        # At spider priority at least: ``scrapy crawl`` copies the process's settings
        # over the crawler's again after this method, and the project's dict at its
        # equal priority would replace the merged one.
        priority = max(SETTINGS_PRIORITIES["spider"], settings.getpriority("DOWNLOADER_MIDDLEWARES") or 0)
        settings.set("DOWNLOADER_MIDDLEWARES", middlewares, priority=priority)
        take_over_jitter(settings)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> DistributedNoticeSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._on_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider._on_closed, signal=signals.spider_closed)
        return spider

    # -- cycle bookkeeping -------------------------------------------------------------

    def _redis(self) -> Any:
        if getattr(self, "_server", None) is None:
            from scrapy_redis.connection import get_redis_from_settings

            self._server = get_redis_from_settings(self.settings)
        return self._server

    async def start(self) -> AsyncIterator[Any]:
        prefix = check_prefix(self.settings.get("NOTICEWATCH_REDIS_PREFIX") or DEFAULT_PREFIX)
        self.idle_seconds = self.settings.getfloat("NOTICEWATCH_WORKER_IDLE_SECONDS", 10.0)
        self._idle_since: float | None = None
        me = f"{socket.gethostname()}:{os.getpid()}"
        self.membership = CycleMembership(self._redis(), prefix, me)
        joined = self.membership.join()
        self.seeding = joined.seeding
        if joined.cleared_stale:
            self.logger.warning("cleared a stale crawl cycle under %s: its workers died without clearing it",
                                prefix)
        # A heartbeat keeps this worker counted as alive; a killed one drops out by itself.
        from twisted.internet import task

        self._heartbeat = task.LoopingCall(self._beat)
        self._heartbeat.start(HEARTBEAT_SECONDS, now=False)
        cycle = joined.cycle
        stats = self.crawler.stats
        assert stats is not None
        stats.set_value("distributed/seeder", self.seeding)
        stats.set_value(CYCLE_STAT, cycle)
        self.logger.info("distributed worker %s %s cycle %s", me,
                         "seeds" if self.seeding else "joins", prefix)
        # The parent's start() also sets up the sites and allowed domains every worker
        # needs, so it runs everywhere; only the seeder passes its requests on.
        async for request in super().start():
            if self.seeding:
                stats.inc_value("distributed/seeded")
                yield request

    def _beat(self) -> None:
        try:
            self.membership.heartbeat()
        except Exception as exc:  # noqa: BLE001 - a missed beat is retried; only a minute of them matters
            self.logger.warning("distributed heartbeat failed: %s", exc)

    def _on_idle(self) -> None:
        # Idle here means nothing in flight in this worker; the queue may still hold work
        # (the engine takes it on its next heartbeat, every 5 s, or when nudged).
        membership = self.membership
        membership.mark_idle()
        now = time.monotonic()
        if membership.queue_length() > 0:
            self._idle_since = None
            self._watch_idle()
            raise DontCloseSpider  # the engine polls the shared queue again shortly
        if self._idle_since is None:
            self._idle_since = now
        if membership.everyone_idle():
            self.logger.info(ALL_IDLE_MESSAGE)
            return  # the cycle is done: close now
        if now - self._idle_since < self.idle_seconds:
            # Another worker may still be producing requests. Scrapy asks again only every
            # 5 s (its heartbeat); the watch closes this worker as soon as all are idle.
            self._watch_idle()
            raise DontCloseSpider

    def _watch_idle(self) -> None:
        if getattr(self, "_idle_watch", None) is None:
            from twisted.internet import task

            watch = task.LoopingCall(self._poll_idle)
            self._idle_watch: Any = watch
            watch.start(IDLE_POLL_SECONDS, now=False)

    def _stop_watch(self) -> None:
        watch = getattr(self, "_idle_watch", None)
        self._idle_watch = None
        if watch is not None and watch.running:
            watch.stop()

    def _poll_idle(self) -> None:
        # A LoopingCall stops for good on the first exception, silently: log it instead.
        try:
            self._poll_idle_once()
        except Exception:
            self.logger.exception("checking whether the crawl cycle is done failed")

    def _poll_idle_once(self) -> None:
        engine = self.crawler.engine
        membership = self.membership
        if engine is None or _busy(engine):
            membership.mark_busy()  # busy again; spider_idle marks it idle again
            self._stop_watch()
            return
        membership.mark_idle()
        if membership.queue_length() > 0:
            _nudge(engine)
            return
        if membership.everyone_idle():
            self._stop_watch()
            self.logger.info(ALL_IDLE_MESSAGE)
            from scrapy.utils.defer import deferred_from_coro

            deferred_from_coro(engine.close_spider_async(reason="finished"))

    def _on_closed(self) -> None:
        self._stop_watch()
        heartbeat = getattr(self, "_heartbeat", None)
        if heartbeat is not None and heartbeat.running:
            heartbeat.stop()
        membership = getattr(self, "membership", None)
        if membership is None:
            return
        if membership.leave():
            self.logger.info("last worker out: crawl cycle %s cleared", membership.keys["seeded"].rsplit(":", 1)[0])

    # -- state that must travel with the request ----------------------------------------

    def _notice_request(self, site: SiteSpec, url: str, canon: str, *args: Any, **kwargs: Any) -> Request:
        request = super()._notice_request(site, url, canon, *args, **kwargs)
        # parse_list records the listing column just before asking for the request.
        request.meta["nw_columns"] = sorted(self.columns_of.get(canon, ()))
        return request

    def parse_notice(self, response: Response, site: SiteSpec, canon: str, *args: Any,
                     **kwargs: Any) -> Iterator[Any]:
        self.columns_of[canon].update(response.meta.get("nw_columns") or ())
        return super().parse_notice(response, site, canon, *args, **kwargs)

    def _list_request(self, site: SiteSpec, column: ColumnSpec, page: PageRequest, *args: Any,
                      **kwargs: Any) -> Request:
        request = super()._list_request(site, column, page, *args, **kwargs)
        if kwargs.get("depth"):
            # The next page may go to another worker; the column's walk so far goes with
            # it, or a worker that reads only the last page takes every notice of the
            # earlier pages for unlisted and fetches it again to check for a removal.
            request.meta["nw_listed"] = sorted(self.listed.get(column.url, ()))
            request.meta["nw_oldest"] = self.oldest_listed.get(column.url)
        return request

    def parse_list(self, response: Response, site: SiteSpec, column: ColumnSpec, page: PageRequest,
                   *args: Any, **kwargs: Any) -> Iterator[Any]:
        self.listed[column.url].update(response.meta.get("nw_listed") or ())
        oldest = response.meta.get("nw_oldest")
        if oldest and oldest < self.oldest_listed.get(column.url, "9999"):
            self.oldest_listed[column.url] = oldest
        return super().parse_list(response, site, column, page, *args, **kwargs)


def _nudge(engine: Any) -> None:
    """Make an idle engine poll its scheduler (the shared queue) now, not on its heartbeat.

    Scrapy has no public call for this (scrapy-redis pushes requests through
    ``engine.crawl`` instead, which does it); ``_slot.nextcall`` has been the engine's
    loop trigger since Scrapy 1.0. If a release renames it, workers only fall back to
    the 5 s heartbeat.
    """
    nextcall = getattr(getattr(engine, "_slot", None), "nextcall", None)
    if nextcall is not None and hasattr(nextcall, "schedule"):
        nextcall.schedule()


def _busy(engine: Any) -> bool:
    """Has this worker requests in flight or responses in its callbacks and pipelines?

    Not ``engine.spider_is_idle()``: that is also False while the shared queue holds
    requests, which is work for whichever worker takes it first, not this one's.
    """
    scraper_slot = getattr(engine.scraper, "slot", None)
    return bool(engine.downloader.active) or (scraper_slot is not None and not scraper_slot.is_idle())
