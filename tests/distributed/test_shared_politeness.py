"""Politeness delays shared by distributed workers through Redis (SharedPolitenessMiddleware)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import redis
from scrapy.core.downloader import Slot
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Request
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler
from sqlalchemy import select

from crawler.distributed import (
    SHARED_POLITENESS_ORDER,
    SHARED_POLITENESS_PATH,
    DistributedNoticeSpider,
)
from crawler.middlewares import shared_politeness
from crawler.middlewares.shared_politeness import (
    BUSY_POLL_SECONDS,
    SharedPolitenessMiddleware,
    politeness_key,
)
from crawler.spiders.notices import NoticeSpider
from noticewatch.commands.demo_cmd import DEMO_OVERRIDES, proxy_env, write_demo_registry
from noticewatch.config import load_settings
from noticewatch.demoweb import DemoWeb
from noticewatch.store import open_store
from storage.models import CrawlRun
from tests.distributed.conftest import REDIS_URL

DELAY = 0.3
# Gaps are measured on our clock after each claim's reply; the claims themselves are
# spaced by Redis's expiry. A loaded machine delays replies unevenly: allow for it.
TOLERANCE = 0.8
CLOSED_PORT_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1: refused at once


@pytest.fixture(autouse=True)
def asyncio_reactor(monkeypatch: pytest.MonkeyPatch) -> None:
    """Crawls run Twisted's asyncio reactor; these tests build the middleware in the pytest
    process, where another test may already have installed Twisted's default reactor."""
    monkeypatch.setattr(shared_politeness, "is_asyncio_available", lambda: True)


def distributed_crawler(prefix: str = "nwtest-unit", **settings: Any) -> Crawler:
    crawler = get_crawler(DistributedNoticeSpider, {
        "NOTICEWATCH_REDIS_URL": REDIS_URL, "NOTICEWATCH_REDIS_PREFIX": prefix,
        "DOWNLOAD_DELAY": DELAY, "AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY_JITTER": 0.0,
        **settings})
    crawler.stats.open_spider()  # type: ignore[union-attr,call-arg]
    return crawler


def worker(prefix: str, name: str, **settings: Any) -> SharedPolitenessMiddleware:
    mw = SharedPolitenessMiddleware.from_crawler(distributed_crawler(prefix, **settings))
    mw.worker_id = name
    return mw


def stat(mw: SharedPolitenessMiddleware, name: str) -> Any:
    assert mw.stats is not None
    return mw.stats.get_value(f"politeness/{name}")


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    # The middleware sleeps with asyncio: plain asyncio drives it as well as the reactor.
    asyncio.run(asyncio.wait_for(scenario(), timeout=60))


@pytest.mark.redis
def test_two_workers_take_turns_on_one_host(redis_prefix: str) -> None:
    done: list[tuple[str, float]] = []

    async def scenario() -> None:
        a, b = worker(redis_prefix, "worker-a"), worker(redis_prefix, "worker-b")

        async def fetch(mw: SharedPolitenessMiddleware, n: int) -> None:
            await mw.process_request(Request(f"http://www.same.gov.cn/{n}.html"))
            done.append((mw.worker_id, time.monotonic()))

        await asyncio.gather(*(fetch(mw, n) for n in range(3) for mw in (a, b)))
        assert (stat(a, "shared_claims"), stat(b, "shared_claims")) == (3, 3)
        assert stat(a, "shared_errors") is None and stat(b, "shared_errors") is None
        await a.close()
        await b.close()

    run(scenario)
    times = sorted(t for _, t in done)
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    # Six requests from two workers, one window each: never two inside one window.
    assert len(gaps) == 5 and min(gaps) >= DELAY * TOLERANCE, gaps


@pytest.mark.redis
def test_second_worker_waits_for_the_first_and_other_hosts_do_not(redis_prefix: str) -> None:
    async def scenario() -> None:
        a, b = worker(redis_prefix, "worker-a"), worker(redis_prefix, "worker-b")
        await a.process_request(Request("http://www.same.gov.cn/1.html"))
        a_claimed = time.monotonic()
        b_done: dict[str, float] = {}

        async def fetch(mw: SharedPolitenessMiddleware, url: str) -> None:
            await mw.process_request(Request(url))
            b_done[url] = time.monotonic()

        await asyncio.gather(fetch(b, "http://www.same.gov.cn/2.html"),
                             fetch(a, "http://www.other.gov.cn/1.html"))
        # b waited out a's window; a's request to another host found no window taken.
        assert b_done["http://www.same.gov.cn/2.html"] - a_claimed >= DELAY * TOLERANCE
        assert stat(a, "shared_claims") == 2 and stat(a, "shared_waits") is None
        assert stat(b, "shared_claims") == 1
        await a.close()
        await b.close()

    run(scenario)


@pytest.mark.redis
def test_claim_key_is_under_the_prefix_and_expires(redis_prefix: str) -> None:
    server = redis.Redis.from_url(REDIS_URL)

    async def scenario() -> None:
        mw = worker(redis_prefix, "worker-a", DOWNLOAD_DELAY=30.0)
        await mw.process_request(Request("http://www.slow.gov.cn/1.html"))
        await mw.process_request(Request("http://www.slow.gov.cn/2.html", meta={"download_slot": "pooled"}))
        await mw.close()

    run(scenario)
    for slot in ("www.slow.gov.cn", "pooled"):
        key = politeness_key(redis_prefix, slot)
        assert key.startswith(f"{redis_prefix}:")  # the fixture's cleanup covers it
        assert server.get(key) == b"worker-a"
        assert 0 < server.pttl(key) <= 30_000


def test_redis_failure_passes_requests_through() -> None:
    async def scenario() -> None:
        mw = worker("nwtest-down", "worker-a", NOTICEWATCH_REDIS_URL=CLOSED_PORT_URL,
                    NOTICEWATCH_SHARED_POLITENESS_TIMEOUT=1.0)
        for n in range(3):
            await mw.process_request(Request(f"http://www.same.gov.cn/{n}.html"))
        # One failed call; the next requests skip Redis until the retry pause is over.
        assert stat(mw, "shared_errors") == 1 and stat(mw, "shared_bypassed") == 3
        assert stat(mw, "shared_claims") is None
        mw.down_until = time.monotonic()  # the pause is over: Redis is tried again
        await mw.process_request(Request("http://www.same.gov.cn/3.html"))
        assert stat(mw, "shared_errors") == 2
        await mw.close()

    run(scenario)


def test_no_delay_needs_no_redis() -> None:
    async def scenario() -> None:
        mw = worker("nwtest-down", "worker-a", NOTICEWATCH_REDIS_URL=CLOSED_PORT_URL, DOWNLOAD_DELAY=0)
        await mw.process_request(Request("http://www.same.gov.cn/1.html"))
        assert stat(mw, "shared_errors") is None and stat(mw, "shared_bypassed") is None
        await mw.close()

    run(scenario)


def test_enabled_for_the_distributed_spider_only() -> None:
    project = {"DOWNLOADER_MIDDLEWARES": {"crawler.middlewares.caps.SiteBudgetMiddleware": 770},
               "NOTICEWATCH_REDIS_URL": REDIS_URL, "REDIS_URL": REDIS_URL}
    plain = get_crawler(NoticeSpider, project)
    with pytest.raises(NotConfigured):
        SharedPolitenessMiddleware.from_crawler(plain)

    distributed = get_crawler(DistributedNoticeSpider, project)
    middlewares = distributed.settings.getdict("DOWNLOADER_MIDDLEWARES")
    assert middlewares["crawler.middlewares.caps.SiteBudgetMiddleware"] == 770  # merged, not replaced
    assert middlewares[SHARED_POLITENESS_PATH] == SHARED_POLITENESS_ORDER
    assert isinstance(SharedPolitenessMiddleware.from_crawler(distributed), SharedPolitenessMiddleware)

    # ``scrapy crawl`` copies the process's settings over the crawler's once more after
    # update_settings (CrawlerRunner.create_crawler): the merged dict must survive it.
    process_settings = Settings()
    process_settings.setdict(project, priority="project")
    crawl_command = Crawler(DistributedNoticeSpider, process_settings)
    crawl_command.settings.update(process_settings)
    assert crawl_command.settings.getdict("DOWNLOADER_MIDDLEWARES") == middlewares

    # Without a Redis URL, or switched off by the user, it stays out.
    with pytest.raises(NotConfigured):
        SharedPolitenessMiddleware.from_crawler(get_crawler(DistributedNoticeSpider, {}))
    off = get_crawler(DistributedNoticeSpider, {**project, "DOWNLOADER_MIDDLEWARES": {SHARED_POLITENESS_PATH: None}})
    assert off.settings.getdict("DOWNLOADER_MIDDLEWARES") == {SHARED_POLITENESS_PATH: None}


def test_randomisation_moves_from_the_local_slots_to_the_claim() -> None:
    crawler = get_crawler(DistributedNoticeSpider, {
        "NOTICEWATCH_REDIS_URL": REDIS_URL, "DOWNLOAD_DELAY": 1.0, "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_SLOTS": {"www.slow.gov.cn": {"delay": 5.0, "jitter": 0.2},
                           "www.plain.gov.cn": {"delay": 2.0}}})
    settings = crawler.settings
    # Local slots send at their plain delay: no second random wait after a claim.
    assert settings.getfloat("DOWNLOAD_DELAY_JITTER") == 0.0
    assert settings.getdict("DOWNLOAD_SLOTS") == {"www.slow.gov.cn": {"delay": 5.0, "jitter": 0.0},
                                                  "www.plain.gov.cn": {"delay": 2.0}}
    mw = SharedPolitenessMiddleware.from_crawler(crawler)
    default = [mw.window("www.any.gov.cn") for _ in range(200)]
    assert all(0.5 <= w <= 1.5 for w in default) and len(set(default)) > 1  # Scrapy's 0.5-1.5x
    assert all(4.0 <= mw.window("www.slow.gov.cn") <= 6.0 for _ in range(50))
    assert all(1.0 <= mw.window("www.plain.gov.cn") <= 3.0 for _ in range(50))

    fixed = get_crawler(DistributedNoticeSpider, {"NOTICEWATCH_REDIS_URL": REDIS_URL, "DOWNLOAD_DELAY": 1.0,
                                                  "DOWNLOAD_DELAY_JITTER": 0, "AUTOTHROTTLE_ENABLED": True,
                                                  "AUTOTHROTTLE_START_DELAY": 3.0})
    # AutoThrottle starts new slots at its start delay.
    assert SharedPolitenessMiddleware.from_crawler(fixed).window("www.any.gov.cn") == 3.0


def test_a_busy_or_recent_local_slot_holds_the_claim() -> None:
    hold = SharedPolitenessMiddleware.local_hold
    slot = Slot(concurrency=1, delay=1.0, jitter=0.0)
    assert hold(None) == 0.0 and hold(slot) == 0.0  # never used: it would send at once
    slot.lastseen = time.monotonic()
    assert 0.0 < hold(slot) <= 1.0  # the local delay has not passed yet
    slot.transferring.add(Request("http://www.same.gov.cn/1.html"))
    assert hold(slot) == BUSY_POLL_SECONDS  # at its concurrency limit


@pytest.mark.redis
@pytest.mark.slow
def test_a_worker_claims_every_request_it_sends(tmp_path: Path, demo_web: DemoWeb, redis_prefix: str) -> None:
    data_dir = tmp_path / "data"
    registry_path = write_demo_registry(data_dir)
    env = proxy_env(demo_web.proxy_url)
    env.update({"NOTICEWATCH_DATA_DIR": str(data_dir), "NOTICEWATCH_REDIS_URL": REDIS_URL,
                "NOTICEWATCH_REGISTRY": str(registry_path)})
    settings = load_settings(env={k: v for k, v in env.items() if k.startswith("NOTICEWATCH_")}, cwd=tmp_path)
    store = open_store(settings)
    args = ["--prefix", redis_prefix, "--idle-seconds", "1", "--site", "jiangning"]
    for pair in (*DEMO_OVERRIDES, "DOWNLOAD_DELAY=0.05"):
        args += ["-s", pair]
    proc = subprocess.run([sys.executable, "-m", "noticewatch", "worker", *args], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=240, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with store.factory() as session:
        stats = session.scalars(select(CrawlRun.stats)).one() or {}
    store.close()
    # The real ``scrapy crawl`` path: the middleware ran, and every request the
    # downloader sent (robots.txt included) had claimed its host's window first.
    assert stats.get("downloader/request_count", 0) > 10
    assert stats.get("politeness/shared_claims") == stats["downloader/request_count"]
    assert "politeness/shared_errors" not in stats
