"""Crawl progress per site: written by the crawl process, rendered by its parent.

The crawl runs in its own ``scrapy crawl`` process, so it cannot draw on the
terminal of ``noticewatch crawl`` itself. ``ProgressFile`` (an extension enabled by
the ``PROGRESS_FILE`` setting) rewrites a small JSON file every ``PROGRESS_INTERVAL``
seconds; ``render_until_exit`` (run by the parent when it is attached to a terminal)
shows it with rich until the child exits. No setting, no file, no output.

File format: ``{"updated": <unix time>, "finished": bool,
"sites": {"<key>": {"pages": n, "notices": n, "errors": n}}}``.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

FIELDS = ("pages", "notices", "errors")


class ProgressFile:
    def __init__(self, path: str, interval: float = 1.0) -> None:
        self.path = Path(path)
        self.interval = interval
        self.sites: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIELDS, 0))
        self.task: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressFile:
        path = crawler.settings.get("PROGRESS_FILE")
        if not path:
            raise NotConfigured("PROGRESS_FILE is not set")
        ext = cls(path, crawler.settings.getfloat("PROGRESS_INTERVAL", 1.0))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.response_received, signal=signals.response_received)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(ext.item_error, signal=signals.item_error)
        return ext

    def spider_opened(self) -> None:
        self.task = create_looping_call(self.write)
        self.task.start(self.interval)

    def spider_closed(self) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        self.write(finished=True)

    def response_received(self, response: Response, request: Request) -> None:
        site = request.meta.get("nw_site")
        if site and not request.meta.get("dont_obey_robotstxt"):
            self.sites[site]["pages"] += 1

    def item_scraped(self, item: Any) -> None:
        site = getattr(item, "site_key", None)
        if not site:
            return
        kind = type(item).__name__
        if kind == "NoticeItem":
            self.sites[site]["notices"] += 1
        elif kind == "FetchErrorItem":
            self.sites[site]["errors"] += 1

    def item_error(self, item: Any) -> None:
        site = getattr(item, "site_key", None)
        if site:
            self.sites[site]["errors"] += 1

    def write(self, finished: bool = False) -> None:
        data = {"updated": time.time(), "finished": finished, "sites": dict(self.sites)}
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, self.path)  # readers never see a half-written file


def read_progress(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def progress_table(data: dict[str, Any] | None) -> Any:
    from rich.table import Table

    table = Table(title="crawl progress", title_justify="left")
    table.add_column("site")
    for name in FIELDS:
        table.add_column(name, justify="right")
    sites = (data or {}).get("sites") or {}
    totals = dict.fromkeys(FIELDS, 0)
    for key in sorted(sites):
        row = sites[key]
        table.add_row(key, *(str(row.get(name, 0)) for name in FIELDS))
        for name in FIELDS:
            totals[name] += int(row.get(name, 0))
    if len(sites) > 1:
        table.add_row("[bold]total[/bold]", *(f"[bold]{totals[n]}[/bold]" for n in FIELDS))
    return table


def render_until_exit(proc: subprocess.Popen[bytes], path: Path, *, interval: float = 0.5,
                      tick: Callable[[], None] | None = None) -> None:
    """Redraw the progress table on stderr until ``proc`` exits (then draw it once more);
    ``tick`` is called on every redraw (the caller renews its leases there)."""
    from rich.console import Console
    from rich.live import Live

    console = Console(stderr=True)
    with Live(progress_table(None), console=console, refresh_per_second=4, transient=False) as live:
        while proc.poll() is None:
            live.update(progress_table(read_progress(path)))
            if tick is not None:
                tick()
            time.sleep(interval)
        live.update(progress_table(read_progress(path)))
