"""Two ``noticewatch worker`` processes share one crawl through Redis into one PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from crawler.cycle import cycle_keys
from crawler.distributed import ALL_IDLE_MESSAGE
from noticewatch.commands.demo_cmd import DEMO_OVERRIDES, proxy_env, write_demo_registry
from noticewatch.config import load_settings
from noticewatch.demoweb import DemoWeb
from noticewatch.store import open_store
from storage.models import CrawlRun, Notice, RunLock, Site
from storage.urls import canonicalize_url
from tests.distributed.conftest import REDIS_URL
from tests.pg import create_temp_database, drop_database, require_pg

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

SITES = ("jiangning", "yuhang", "mawei")


@pytest.fixture
def pg_url() -> Iterator[str]:
    require_pg()
    url = create_temp_database("nw_dist")
    try:
        yield url
    finally:
        drop_database(url)


def test_two_workers_store_every_notice_once(tmp_path: Path, demo_web: DemoWeb, pg_url: str,
                                             redis_prefix: str) -> None:
    data_dir = tmp_path / "data"
    registry_path = write_demo_registry(data_dir)
    env = proxy_env(demo_web.proxy_url)
    env.update({"NOTICEWATCH_DATA_DIR": str(data_dir), "NOTICEWATCH_DATABASE_URL": pg_url,
                "NOTICEWATCH_REDIS_URL": REDIS_URL, "NOTICEWATCH_REGISTRY": str(registry_path)})
    settings = load_settings(env={k: v for k, v in env.items() if k.startswith("NOTICEWATCH_")}, cwd=tmp_path)
    store = open_store(settings)  # migrate once, before the workers start
    # A small delay keeps the crawl long enough for both workers to take part. The idle
    # limit is long: workers must stop because all of them are idle, not time out.
    args = ["--prefix", redis_prefix, "--idle-seconds", "600"]
    for pair in (*DEMO_OVERRIDES, "DOWNLOAD_DELAY=0.1", "CONCURRENT_REQUESTS_PER_DOMAIN=2"):
        args += ["-s", pair]
    for key in SITES:
        args += ["--site", key]
    workers = [subprocess.Popen([sys.executable, "-m", "noticewatch", "worker", *args], env=env, cwd=tmp_path,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
               for _ in range(2)]
    outputs = []
    try:
        for proc in workers:
            out, _ = proc.communicate(timeout=240)
            outputs.append(out)
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.kill()
    for proc, out in zip(workers, outputs, strict=True):
        assert proc.returncode == 0, out

    truth = {canonicalize_url(t["url"]) for t in demo_web.world.ground_truth() if t["site"] in SITES}
    assert len(truth) > 100
    with store.factory() as session:
        stored = list(session.execute(select(Notice.canonical_url, func.count()).join(Site)
                                      .where(Site.key.in_(SITES)).group_by(Notice.canonical_url)))
        counts = dict(stored)
        assert set(counts) == truth, f"missing {sorted(truth - set(counts))[:3]}, extra {sorted(set(counts) - truth)[:3]}"
        assert set(counts.values()) == {1}
        runs = session.scalars(select(CrawlRun).order_by(CrawlRun.id)).all()
        assert [r.trigger for r in runs] == ["worker", "worker"]
        # Both took requests from the shared queue, and no notice was fetched twice.
        new = [int((r.counts or {}).get("new", 0)) for r in runs]
        assert all(n > 0 for n in new), new
        assert sum(new) == len(truth), new
        assert session.scalars(select(RunLock)).all() == []
        for run in runs:  # each stopped once the whole cycle was idle, not after --idle-seconds
            log = (data_dir / "logs" / f"run-{run.id}.log").read_text(encoding="utf-8")
            assert ALL_IDLE_MESSAGE in log, run.id
        # Site health was judged once, by the last worker out, from both workers' figures,
        # and recorded in both runs: every site "ok" (each had new notices), none judged twice.
        cycles = {(r.stats or {}).get("distributed/cycle") for r in runs}
        assert len(cycles) == 1 and None not in cycles
        verdicts = [{key: v["status"] for key, v in ((r.stats or {}).get("health") or {}).items()} for r in runs]
        assert verdicts[0] == verdicts[1] == dict.fromkeys(SITES, "ok"), verdicts
        assert {s.key: s.health for s in session.scalars(select(Site).where(Site.key.in_(SITES)))} == \
            dict.fromkeys(SITES, "ok")
    store.close()
    # The last worker out cleared the cycle's keys, so the next cycle seeds afresh.
    assert list(redis.Redis.from_url(REDIS_URL).scan_iter(f"{redis_prefix}:*")) == []


def test_a_worker_after_a_crashed_cycle_seeds_a_new_one(tmp_path: Path, demo_web: DemoWeb, pg_url: str,
                                                        redis_prefix: str) -> None:
    # The previous cycle's only worker was killed: its seed flag and duplicate filter are
    # still there, and its heartbeat ran out. The next worker must not wait 6 hours.
    server = redis.Redis.from_url(REDIS_URL)
    keys = cycle_keys(redis_prefix)
    server.set(keys["seeded"], "dead-host:1", ex=3600)
    server.zadd(keys["alive"], {"dead-host:1": 1})
    data_dir = tmp_path / "data"
    registry_path = write_demo_registry(data_dir)
    env = proxy_env(demo_web.proxy_url)
    env.update({"NOTICEWATCH_DATA_DIR": str(data_dir), "NOTICEWATCH_DATABASE_URL": pg_url,
                "NOTICEWATCH_REDIS_URL": REDIS_URL, "NOTICEWATCH_REGISTRY": str(registry_path)})
    args = ["--prefix", redis_prefix, "--idle-seconds", "600", "--site", "jiangning"]
    for pair in DEMO_OVERRIDES:
        args += ["-s", pair]
    out = subprocess.run([sys.executable, "-m", "noticewatch", "worker", *args], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stdout + out.stderr
    settings = load_settings(env={k: v for k, v in env.items() if k.startswith("NOTICEWATCH_")}, cwd=tmp_path)
    store = open_store(settings)
    try:
        with store.factory() as session:
            run = session.scalars(select(CrawlRun)).one()
            assert run.stats["distributed/seeder"] is True
            assert int((run.counts or {}).get("new", 0)) == 22  # jiangning's notices, all of them
        log = (data_dir / "logs" / f"run-{run.id}.log").read_text(encoding="utf-8")
        assert "cleared a stale crawl cycle" in log
    finally:
        store.close()
    assert list(server.scan_iter(f"{redis_prefix}:*")) == []
