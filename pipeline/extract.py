"""Text extraction for stored attachments, between AttachmentsPipeline (200) and PersistPipeline (900).

Each ``item.files`` result gets ``text`` and ``extraction_error``; the persist stage maps
them onto the blob row. Extraction is CPU work and the crawl process is busy on one
core, so by default it runs in a separate worker process (``EXTRACT_WORKERS``, spawned
lazily; 0 runs it in a thread of the crawl process instead), awaited from a thread so
the reactor never blocks. Results are cached by SHA-256 for the life of the crawl (the
same circular is often attached to many notices). The pipeline cannot ask the
database what it already knows, and re-extracting is cheap enough.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import threads

from crawler.items import NoticeItem
from pipeline.child_watch import exit_with_parent
from storage.extract import ExtractResult, Limits, extract_text

logger = logging.getLogger(__name__)


class ExtractPipeline:
    def __init__(self, *, data_dir: str, limits: Limits, cache_size: int = 256, workers: int = 1) -> None:
        self.data_dir = Path(data_dir)
        self.limits = limits
        self.cache_size = cache_size
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None
        self.cache: OrderedDict[str, ExtractResult] = OrderedDict()
        self.crawler: Crawler | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        s = crawler.settings
        if not s.getbool("EXTRACT_ENABLED", True):
            raise NotConfigured("EXTRACT_ENABLED is false")
        defaults = Limits()
        limits = Limits(
            max_input_bytes=s.getint("EXTRACT_MAX_BYTES", defaults.max_input_bytes),
            max_text_chars=s.getint("EXTRACT_MAX_CHARS", defaults.max_text_chars),
            max_seconds=s.getfloat("EXTRACT_TIMEOUT", defaults.max_seconds),
            zip_max_members=s.getint("EXTRACT_ZIP_MAX_MEMBERS", defaults.zip_max_members),
            zip_max_total_bytes=s.getint("EXTRACT_ZIP_MAX_BYTES", defaults.zip_max_total_bytes),
            zip_max_ratio=s.getfloat("EXTRACT_ZIP_MAX_RATIO", defaults.zip_max_ratio),
        )
        pipe = cls(data_dir=s.get("EXTRACT_DATA_DIR") or s.get("FILES_STORE") or "./data", limits=limits,
                   cache_size=s.getint("EXTRACT_CACHE_SIZE", 256), workers=s.getint("EXTRACT_WORKERS", 1))
        pipe.crawler = crawler
        return pipe

    def _inc(self, key: str) -> None:
        if self.crawler is not None and self.crawler.stats is not None:
            self.crawler.stats.inc_value(key)

    def close_spider(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def extract_file(self, result: dict[str, Any]) -> ExtractResult:
        """Extract (blocking: call it from a thread) the text of one stored file."""
        path = self.data_dir / str(result.get("path") or "")
        if not result.get("sha256") or not path.is_file():
            return ExtractResult(None, "stored file not found")
        media_type = str(result.get("media_type") or "")
        if self.pool is None:
            return extract_text(path, media_type, limits=self.limits)
        try:
            return self.pool.submit(extract_text, str(path), media_type, limits=self.limits).result()
        except Exception as exc:  # noqa: BLE001 - a crashed worker (e.g. out of memory) is one file's problem
            return ExtractResult(None, f"extraction worker failed: {type(exc).__name__}")

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, NoticeItem) or not item.files:
            return item
        if self.pool is None and self.workers > 0:
            # spawn, not fork: forking a process that runs a reactor and threads is unsafe.
            # exit_with_parent: a crawl killed with SIGKILL leaves no orphaned extractor behind.
            self.pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=exit_with_parent)
        for result in item.files:
            sha = str(result.get("sha256") or "")
            # The cache is touched only here, in the reactor thread: no locking needed.
            outcome = self.cache.get(sha)
            if outcome is None:
                outcome = await maybe_deferred_to_future(threads.deferToThread(self.extract_file, result))
                self.cache[sha] = outcome
                if len(self.cache) > self.cache_size:
                    self.cache.popitem(last=False)
            else:
                self.cache.move_to_end(sha)
            result["text"] = outcome.text
            result["extraction_error"] = outcome.error
            self._inc("extract/text" if outcome.text else "extract/no_text")
            if outcome.text is None:
                logger.debug("no text from %s: %s", result.get("url"), outcome.error)
        return item
