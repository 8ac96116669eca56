"""Crawl jobs: leases keep runs of one site apart; the daemon logs and stops cleanly."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from crawler.registry import load_registry
from noticewatch.commands.demo_cmd import DEMO_OVERRIDES, proxy_env
from noticewatch.crawling import CrawlResult, run_crawl
from noticewatch.demoweb import DemoWeb
from noticewatch.scheduler import CrawlJob, CrawlService
from storage import repository
from storage.models import Column, CrawlRun, Notice, NoticeColumn, RunLock
from tests.e2e.harness import Archive, make_archive

SITE = "jiangning"  # one column, 22 notices: a crawl takes a few seconds


def _crawl(archive: Archive, web: DemoWeb, **kw: object) -> CrawlResult:
    return run_crawl(archive.settings, archive.store, archive.registry, site_keys=[SITE],
                     overrides=DEMO_OVERRIDES, registry_paths=[str(archive.registry_path)],
                     env=proxy_env(web.proxy_url), **kw)  # type: ignore[arg-type]


def test_concurrent_crawls_of_one_site_never_overlap(tmp_path: Path, demo_web: DemoWeb) -> None:
    archive = make_archive(tmp_path)
    during: list[CrawlResult] = []

    def start_second(_proc: subprocess.Popen[bytes]) -> None:
        # Called while the first crawl process runs and holds the site's lease.
        during.append(_crawl(archive, demo_web))

    first = _crawl(archive, demo_web, on_process=start_second)
    assert first.status == "finished" and first.sites == [SITE]
    assert first.counts.get("new") == 22
    assert during[0].run_id is None and during[0].status == "skipped"
    assert during[0].skipped_locked == [SITE]
    with archive.store.factory() as session:
        assert session.scalars(select(RunLock)).all() == []  # released afterwards
        assert len(session.scalars(select(CrawlRun)).all()) == 1


def test_lease_held_by_another_machine_skips_the_site(tmp_path: Path, demo_web: DemoWeb) -> None:
    archive = make_archive(tmp_path)
    with archive.store.factory.begin() as session:
        repository.sync_sites(session, [archive.registry.get(SITE).as_row()])
        assert repository.acquire_lock(session, name=f"site:{SITE}", holder="other-host:42",
                                       ttl=timedelta(minutes=5))
    result = _crawl(archive, demo_web)
    assert result.run_id is None and result.skipped_locked == [SITE]
    assert not [r for r in demo_web.requests if SITE in r[1]], "a skipped site must not be contacted"


def test_column_job_crawls_only_its_columns(tmp_path: Path, demo_web: DemoWeb) -> None:
    archive = make_archive(tmp_path)
    site = archive.registry.get("gulou")
    column_url = site.columns[1].url  # 政策文件, 24 notices
    service = CrawlService(settings=archive.settings, store=archive.store, registry=archive.registry,
                           registry_paths=[str(archive.registry_path)], overrides=DEMO_OVERRIDES,
                           crawl=lambda *a, **kw: run_crawl(*a, env=proxy_env(demo_web.proxy_url), **kw))
    result = service.run_job(CrawlJob("site:gulou:1", "gulou", "every 1h", (column_url,)))
    assert result is not None and result.status == "finished", result
    assert result.counts.get("new") == 24
    with archive.store.factory() as session:
        linked = set(session.scalars(select(Column.url).join(NoticeColumn, NoticeColumn.column_id == Column.id)))
        assert linked == {column_url}
        assert len(session.scalars(select(Notice)).all()) == 24
    assert service.active == 0


def _daemon_env(tmp_path: Path, web: DemoWeb, schedule: str) -> dict[str, str]:
    data = yaml.safe_load(Path(make_archive(tmp_path).registry_path).read_text(encoding="utf-8"))
    data["sites"] = [dict(s, schedule=schedule) for s in data["sites"] if s["key"] == SITE]
    registry = tmp_path / "one-site.yaml"
    registry.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    load_registry([registry])  # valid
    env = proxy_env(web.proxy_url)
    env.update({"NOTICEWATCH_DATA_DIR": str(tmp_path / "data"), "NOTICEWATCH_REGISTRY": str(registry),
                "NOTICEWATCH_SCHEDULE_JITTER": "0", "PYTHONUNBUFFERED": "1"})
    return env


def _overrides(*extra: str) -> list[str]:
    args: list[str] = []
    for pair in (*DEMO_OVERRIDES, *extra):
        args += ["-s", pair]
    return args


@pytest.mark.slow
def test_schedule_once_logs_one_line_per_run(tmp_path: Path, demo_web: DemoWeb) -> None:
    env = _daemon_env(tmp_path, demo_web, "every 1h")
    proc = subprocess.run([sys.executable, "-m", "noticewatch", "schedule", "--once", *_overrides()],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "crawl job=site:jiangning" in line]
    assert len(lines) == 1, proc.stderr
    assert "run=1 status=finished new=22" in lines[0] and "duration=" in lines[0]
    assert "alert" in proc.stderr  # delivered, or reported unavailable


@pytest.mark.slow
def test_sigterm_stops_the_running_crawl_cleanly(tmp_path: Path, demo_web: DemoWeb) -> None:
    env = _daemon_env(tmp_path, demo_web, "every 1s")
    from noticewatch.config import load_settings
    from noticewatch.store import open_store

    store = open_store(load_settings(env={"NOTICEWATCH_DATA_DIR": env["NOTICEWATCH_DATA_DIR"]}, cwd=tmp_path))
    # Slow enough (0.5 s per request, ~45 requests) to still be running when SIGTERM comes.
    slow = _overrides("DOWNLOAD_DELAY=0.5", "CONCURRENT_REQUESTS_PER_DOMAIN=1")
    daemon = subprocess.Popen([sys.executable, "-m", "noticewatch", "schedule", "--grace", "0",
                               "--stop-timeout", "60", *slow], env=env, cwd=tmp_path,
                              stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        running = False
        while time.monotonic() < deadline and not running:
            time.sleep(0.5)
            assert daemon.poll() is None, daemon.stderr.read() if daemon.stderr else ""
            try:
                with store.factory() as session:
                    running = any(r.status == "running" for r in session.scalars(select(CrawlRun)))
            except Exception:  # noqa: BLE001 - the database may not exist yet
                running = False
        assert running, "no crawl started"
        # Let Scrapy get going: a signal during its start-up is not what this test is about.
        logs = tmp_path / "data" / "logs"
        while time.monotonic() < deadline and not any(
                "Spider opened" in p.read_text(encoding="utf-8", errors="replace") for p in logs.glob("run-*.log")):
            time.sleep(0.2)
        time.sleep(3)
        daemon.send_signal(signal.SIGTERM)
        _out, err = daemon.communicate(timeout=120)
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert daemon.returncode == 0, err
    assert "SIGTERM received" in err and "stopping 1 running crawl process" in err, err
    assert "scheduler stopped" in err
    with store.factory() as session:
        runs = session.scalars(select(CrawlRun)).all()
        assert len(runs) == 1  # no new crawl after the signal
        run = runs[0]
        # Closed by its own pipeline, not marked failed by the parent. (PersistPipeline
        # reads finish_reason before Scrapy sets it, so a shutdown may say "finished".)
        assert run.status in ("interrupted", "finished"), (run.status, run.error)
        assert run.finished_at is not None
        assert (run.counts or {}).get("new", 0) < 22  # stopped part-way
        assert session.scalars(select(RunLock)).all() == []
    store.close()
    assert f"run={run.id} status={run.status}" in err
    log = (tmp_path / "data" / "logs" / f"run-{run.id}.log").read_text(encoding="utf-8")
    assert "Closing spider (shutdown)" in log  # Scrapy's graceful close, not a kill
