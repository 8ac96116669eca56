"""The ``scrapy crawl`` child of one run, started before the run exists.

A crawl is two Python processes (the command and Scrapy) and each needs about a
second of imports before it does anything. On an incremental cycle, where a site
costs one conditional request, that start-up was most of the cycle. So the command
starts ``scrapy crawl`` first, with ``NOTICEWATCH_SETTINGS_FILE=-``; the child imports
Scrapy and every component while the command syncs the sites, takes the leases and
builds the plan, then waits on its standard input. ``go`` hands over the settings and
spider arguments as one JSON document (secrets never touch the command line or the
disk); ``cancel`` closes standard input unused and the child exits quietly.

This module imports nothing heavy, so the command can start the child before it
imports SQLAlchemy and the store.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
CANCEL_WAIT = 10.0  # seconds a cancelled child gets to exit before it is killed


class CrawlProcess:
    def __init__(self, proc: subprocess.Popen[bytes], *, spider: str) -> None:
        self.proc = proc
        self.spider = spider
        self.handed_over = False

    @classmethod
    def start(cls, *, spider: str = "notices", env: Mapping[str, str] | None = None,
              quiet: bool = True) -> CrawlProcess:
        # Scrapy's command line with a quick exit (crawler/crawl_main.py): `scrapy crawl`.
        cmd = [sys.executable, "-m", "crawler.crawl_main", "crawl", spider, "-s", "NOTICEWATCH_SETTINGS_FILE=-"]
        child_env = dict(os.environ if env is None else env)
        child_env["SCRAPY_SETTINGS_MODULE"] = "crawler.settings"
        proc = subprocess.Popen(cmd, env=child_env, cwd=str(PROJECT_DIR), stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL if quiet else None,
                                stderr=subprocess.DEVNULL if quiet else None)
        return cls(proc, spider=spider)

    def go(self, *, settings: Mapping[str, Any], spider_args: Mapping[str, Any]) -> None:
        """Hand the run to the waiting child."""
        document = json.dumps({"settings": dict(settings), "spider_args": dict(spider_args)}, ensure_ascii=False)
        assert self.proc.stdin is not None
        # A child that died while starting breaks the pipe; its exit code tells the caller.
        with contextlib.suppress(BrokenPipeError):
            self.proc.stdin.write(document.encode("utf-8"))
        with contextlib.suppress(BrokenPipeError):
            self.proc.stdin.close()
        self.handed_over = True

    def cancel(self) -> None:
        """Let the child go without a run (idempotent; no-op after ``go``)."""
        if self.handed_over:
            return
        self.handed_over = True
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=CANCEL_WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
