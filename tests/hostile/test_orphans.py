"""A crawl killed with SIGKILL leaves no worker process (extraction, persist writer) behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

# A stand-in crawl process: a spawned pool exactly as the extract pipeline builds it.
_CRAWL = """
import multiprocessing, os, sys, time
from concurrent.futures import ProcessPoolExecutor
from pipeline.child_watch import exit_with_parent
initializer = exit_with_parent if sys.argv[1] == "watched" else None
pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=initializer)
print(pool.submit(os.getpid).result(), flush=True)
time.sleep(600)
"""


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    stat = Path(f"/proc/{pid}/stat")  # a zombie waiting for init to reap it is gone too
    return stat.exists() and stat.read_text().rsplit(")", 1)[-1].split()[0] == "Z"


def _worker_after_killing_its_crawl(mode: str) -> int:
    crawl = subprocess.Popen([sys.executable, "-c", _CRAWL, mode], stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).resolve().parents[2])
    assert crawl.stdout is not None
    worker = int(crawl.stdout.readline())
    os.kill(crawl.pid, signal.SIGKILL)
    crawl.wait(timeout=10)
    return worker


def test_a_watched_pool_worker_exits_with_its_killed_crawl() -> None:
    worker = _worker_after_killing_its_crawl("watched")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not _gone(worker):
        time.sleep(0.1)
    assert _gone(worker), "the pool worker outlived its killed crawl"


def test_an_unwatched_pool_worker_would_be_orphaned() -> None:
    # Why the watch exists: without it the worker waits for work for ever.
    worker = _worker_after_killing_its_crawl("plain")
    try:
        time.sleep(1.0)
        assert not _gone(worker)
    finally:
        if not _gone(worker):
            os.kill(worker, signal.SIGKILL)
