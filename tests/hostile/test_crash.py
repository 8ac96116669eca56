"""Crash safety: ``kill -9`` of the crawl process at three points, then a normal run.

After each kill the run is marked failed, no blob file is half-written, and the next
normal run brings the archive to exactly what an uninterrupted crawl produces: no
notice lost, none duplicated (one version each). Points: during list paging, during an
attachment download (the demo web stalls inside a file response), and between store
and alert (after notices were committed, while the crawl is still running).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from noticewatch.demoweb import DemoWeb
from noticewatch.demoweb import server as demo_server
from storage.models import Notice
from tests.e2e.harness import Archive
from tests.hostile.archive_tools import (
    blob_problems,
    crawl,
    hostile_archive,
    snapshot,
    version_count,
)

pytestmark = pytest.mark.slow
SITES = ("mawei", "yuhang")  # list paging, attachments (yuhang's via a redirecting downfile.jsp)


def _killer(condition: Callable[[], bool], killed: threading.Event) -> Callable[[Any], None]:
    def on_process(proc: Any) -> None:
        def watch() -> None:
            deadline = time.monotonic() + 60
            while proc.poll() is None and time.monotonic() < deadline:
                if condition():
                    proc.kill()  # SIGKILL: no spider_closed, no pipeline close
                    killed.set()
                    return
                time.sleep(0.01)

        threading.Thread(target=watch, daemon=True).start()

    return on_process


def _notice_count(archive: Archive) -> int:
    with archive.store.factory() as session:
        return int(session.scalar(select(func.count()).select_from(Notice)) or 0)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    archive = hostile_archive(tmp_path_factory.mktemp("reference"))
    with DemoWeb() as web:
        assert crawl(archive, web.proxy_url, sites=SITES).status == "finished"
    return snapshot(archive)


def _kill_then_recover(tmp_path: Path, reference: dict[str, dict[str, Any]],
                       make_condition: Callable[[DemoWeb, Archive], Callable[[], bool]],
                       web_setup: Callable[[DemoWeb, threading.Event], None] | None = None) -> None:
    archive = hostile_archive(tmp_path)
    killed = threading.Event()
    with DemoWeb() as web:
        if web_setup is not None:
            web_setup(web, killed)
        broken = crawl(archive, web.proxy_url, sites=SITES,
                       on_process=_killer(make_condition(web, archive), killed))
    assert killed.is_set(), "the crawl ended before the kill point"
    assert broken.status == "failed" and broken.returncode != 0
    partial = _notice_count(archive)
    assert partial < len(reference)
    assert not blob_problems(archive)  # nothing half-written under blobs/
    with DemoWeb() as web:
        again = crawl(archive, web.proxy_url, sites=SITES)
    assert again.status == "finished"
    got = snapshot(archive)
    assert set(got) == set(reference), (len(got), len(reference))  # nothing lost
    assert got == reference
    assert version_count(archive) == len(reference)  # nothing recorded twice
    assert not blob_problems(archive)


def test_kill_during_list_paging(tmp_path: Path, reference: dict[str, dict[str, Any]]) -> None:
    _kill_then_recover(tmp_path, reference, lambda web, _a: lambda: len(web.requests) >= 12)


def test_kill_during_an_attachment_download(tmp_path: Path, reference: dict[str, dict[str, Any]],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    started = threading.Event()
    original = demo_server._file

    def setup(_web: DemoWeb, killed: threading.Event) -> None:
        def slow_file(att: Any) -> Any:
            if not started.is_set():
                started.set()
                killed.wait(timeout=30)  # the download is in flight when the crawler dies
            return original(att)

        monkeypatch.setattr(demo_server, "_file", slow_file)

    _kill_then_recover(tmp_path, reference, lambda _w, _a: started.is_set, setup)
    monkeypatch.setattr(demo_server, "_file", original)


def test_kill_between_store_and_alert(tmp_path: Path, reference: dict[str, dict[str, Any]]) -> None:
    # Notices (and their alert events, same transaction) are committed; delivery comes later.
    _kill_then_recover(tmp_path, reference, lambda _w, archive: lambda: _notice_count(archive) >= 25)
