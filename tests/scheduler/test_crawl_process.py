"""The ``scrapy crawl`` child started before its run: handed a run, or let go quietly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from scrapy.settings import SETTINGS_PRIORITIES, Settings
from sqlalchemy import select

from crawler.runtime import preimport_components
from noticewatch.crawl_process import CrawlProcess
from storage import repository
from storage.models import CrawlRun, RunLock
from tests.e2e.harness import make_archive


def test_a_child_let_go_without_a_run_exits_quietly() -> None:
    process = CrawlProcess.start()
    process.cancel()
    assert process.proc.returncode == 0
    process.cancel()  # idempotent


def test_a_garbled_hand_over_fails_the_child() -> None:
    process = CrawlProcess.start(quiet=False)
    process.proc = process.proc  # keep mypy quiet about the narrowed type below
    assert process.proc.stdin is not None
    process.proc.stdin.write(b"[1, 2]")
    process.proc.stdin.close()
    process.handed_over = True
    assert process.proc.wait(timeout=60) != 0


def test_everything_locked_lets_the_prestarted_child_go(tmp_path: Path) -> None:
    archive = make_archive(tmp_path)
    with archive.store.factory.begin() as session:
        repository.sync_sites(session, [site.as_row() for site in archive.registry.select(None)])
        for site in archive.registry.select(None):
            assert repository.acquire_lock(session, name=f"site:{site.key}", holder="other-host:1",
                                           ttl=timedelta(minutes=5))
    from noticewatch.crawling import run_crawl

    process = CrawlProcess.start()
    result = run_crawl(archive.settings, archive.store, archive.registry, process=process,
                       registry_paths=[str(archive.registry_path)])
    assert result.run_id is None and result.status == "skipped"
    assert process.proc.poll() == 0  # waited for, exited without crawling
    assert not (archive.settings.data_path / "logs").exists()


def test_warm_up_imports_what_the_settings_name_and_skips_what_fails() -> None:
    settings = Settings()
    settings.set("DOWNLOADER_MIDDLEWARES", {"crawler.middlewares.caps.PageSizeCapMiddleware": 585,
                                            "no.such.module.Middleware": 600})
    assert preimport_components(settings) > 10  # Scrapy's own base components too


def test_the_child_is_its_own_scrapy_process() -> None:
    process = CrawlProcess.start()
    try:
        args = process.proc.args
        assert isinstance(args, list) and args[1:4] == ["-m", "crawler.crawl_main", "crawl"]
        # Secrets come over stdin, never on the command line.
        assert "NOTICEWATCH_SETTINGS_FILE=-" in args and not any("DATABASE_URL" in str(a) for a in args)
    finally:
        process.cancel()
    assert isinstance(process.proc, subprocess.Popen)


def test_a_child_whose_parent_died_before_the_hand_over_exits(tmp_path: Path) -> None:
    # The parent (a crawl command) is killed while the child still waits on stdin: the
    # pipe closes with the parent and the child must not linger.
    parent_code = ("import sys, time; from noticewatch.crawl_process import CrawlProcess; "
                   "p = CrawlProcess.start(); print(p.proc.pid, flush=True); time.sleep(600)")
    parent = subprocess.Popen([sys.executable, "-c", parent_code], stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parents[2])
    try:
        assert parent.stdout is not None
        child_pid = int(parent.stdout.readline())
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _alive(child_pid):
        time.sleep(0.1)
    assert not _alive(child_pid), "the crawl process outlived its killed parent"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by init) counts as gone.
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split(")")[-1].split()[0] == "Z")


def test_settings_from_a_file_still_work_for_a_hand_run_scrapy_crawl(tmp_path: Path) -> None:
    from crawler.runtime import apply_settings_file

    path = tmp_path / "settings.json"
    path.write_text('{"DOWNLOAD_DELAY": 7, "NOTICEWATCH_TRIGGER": "cron"}', encoding="utf-8")
    settings = Settings({"NOTICEWATCH_SETTINGS_FILE": str(path)})
    apply_settings_file(settings)
    assert settings.getfloat("DOWNLOAD_DELAY") == 7 and settings["NOTICEWATCH_TRIGGER"] == "cron"
    assert settings.getpriority("DOWNLOAD_DELAY") == SETTINGS_PRIORITIES["cmdline"]  # like `-s`


def test_a_crawl_process_stopped_before_its_run_records_an_interrupted_run(tmp_path: Path) -> None:
    # systemd stops the whole service group: the crawl process gets SIGTERM while it still
    # waits for its run. The run is interrupted, not failed, and its leases are freed.
    archive = make_archive(tmp_path)
    process = CrawlProcess.start()
    process.proc.send_signal(signal.SIGTERM)
    process.proc.wait(timeout=30)
    from noticewatch.crawling import run_crawl

    result = run_crawl(archive.settings, archive.store, archive.registry, site_keys=["jiangning"],
                       process=process, registry_paths=[str(archive.registry_path)])
    assert result.status == "interrupted" and result.run_id is not None
    with archive.store.factory() as session:
        run = session.get(CrawlRun, result.run_id)
        assert run is not None and run.error == "crawl process stopped by SIGTERM"
        assert session.scalars(select(RunLock)).all() == []
