"""Receiving the effective settings ``noticewatch crawl`` hands to ``scrapy crawl``.

Secrets (the database URL may carry a password) never travel on the command line,
where ``ps`` would show them. ``NOTICEWATCH_SETTINGS_FILE`` names either a JSON file
readable only by the user, or ``-``: a JSON document on standard input.

Standard input is how ``noticewatch crawl`` runs it (noticewatch/crawl_process.py): the
parent starts ``scrapy crawl`` first and only then syncs the sites, takes the leases and
builds the plan, so the child's ~1 s of imports overlaps that work. Until the document
arrives the child imports every component its settings name; an empty standard input
(the parent found nothing to crawl, or died) ends the child quietly.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

from scrapy.settings import BaseSettings
from scrapy.utils.misc import load_object

logger = logging.getLogger(__name__)

STDIN = "-"
SPIDER_ARGS = "NOTICEWATCH_SPIDER_ARGS"  # spider arguments that came with the settings
# Component settings whose classes Scrapy imports while it builds the crawler.
COMPONENT_SETTINGS = ("DOWNLOADER_MIDDLEWARES", "SPIDER_MIDDLEWARES", "ITEM_PIPELINES", "EXTENSIONS",
                      "DOWNLOAD_HANDLERS", "ADDONS")
COMPONENT_PATHS = ("SCHEDULER", "DUPEFILTER_CLASS", "STATS_CLASS", "SCHEDULER_PRIORITY_QUEUE",
                   "SCHEDULER_DISK_QUEUE", "SCHEDULER_MEMORY_QUEUE", "DOWNLOADER", "ROBOTSTXT_PARSER",
                   "REQUEST_FINGERPRINTER_CLASS", "LOG_FORMATTER")


def apply_settings_file(settings: BaseSettings) -> None:
    path = settings.get("NOTICEWATCH_SETTINGS_FILE")
    if not path:
        return
    if path == STDIN:
        document = _read_handoff(settings)
        data: dict[str, Any] = document.get("settings") or {}
        settings.set(SPIDER_ARGS, dict(document.get("spider_args") or {}), priority="cmdline")
    else:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    # The settings already fold in the user's own -s overrides (applied last), so
    # command-line priority here keeps the documented precedence.
    settings.setdict(data, priority="cmdline")


def _read_handoff(settings: BaseSettings) -> dict[str, Any]:
    preimport_components(settings)
    raw = sys.stdin.buffer.read()
    if not raw.strip():
        # Not an error: the parent decided there is nothing to crawl (every site locked
        # or backed off) or went away before handing over a run.
        raise SystemExit(0)
    document = json.loads(raw)
    if not isinstance(document, dict):
        raise ValueError("the crawl settings on standard input are not a JSON object")
    return document


def preimport_components(settings: BaseSettings) -> int:
    """Import the modules of every component the settings name; returns how many were loaded.

    Only a warm-up: a component that fails to import is left for Scrapy to report
    when it builds the crawler, with its own error message.
    """
    paths: list[str] = []
    for name in COMPONENT_SETTINGS:
        try:
            paths += [key for key, value in settings.getwithbase(name).items()
                      if isinstance(key, str) and value is not None]
        except (KeyError, ValueError, TypeError):
            continue
    paths += [value for name in COMPONENT_PATHS if isinstance(value := settings.get(name), str)]
    loaded = 0
    for path in dict.fromkeys(paths):
        try:
            load_object(path)
            loaded += 1
        except Exception as exc:  # noqa: BLE001 - any failure is Scrapy's to report later
            logger.debug("warm-up import of %s failed: %s", path, exc)
    return loaded
