"""Last pipeline stage: one transaction per item (notice, version, blobs, alert events).

The crawl process is bound by one core, and storing a notice costs about as much CPU
as fetching and parsing it. So the transactions leave the reactor thread: each item
becomes an ``Operation`` (pipeline/persist_writer.py) that one writer thread hands, in
arrival order, to a spawned writer process with its own engine (``PERSIST_PROCESS``,
default on; off, or with an in-memory SQLite database, the thread runs it itself).
One writer keeps the order (a notice's ``NoticeItem`` before a later
``NoticeGoneItem`` for it) and keeps SQLite to a single writer. ``process_item``
returns only after its transaction committed, so an item Scrapy considers done is
stored: a kill loses what it lost before, the items still in flight, and the writer
process, whose parent is gone, rolls back and exits.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from sqlalchemy.orm import Session, sessionmaker
from twisted.internet import reactor, threads
from twisted.python.threadpool import ThreadPool

from crawler.items import (
    ColumnStateItem,
    FetchErrorItem,
    ListPageItem,
    NoticeGoneItem,
    NoticeItem,
    NoticeSeenItem,
)
from pipeline import persist_writer
from pipeline.persist_writer import Operation, apply_operation
from storage import crawlstate, health, runs
from storage.db import make_engine, make_session_factory
from storage.records import AttachmentRecord, NoticeGone, NoticeRecord, NoticeUnchanged, StoredBlob

logger = logging.getLogger(__name__)


def notice_record(item: NoticeItem, *, run_id: int | None) -> NoticeRecord:
    p = item.parsed
    attachments = [
        AttachmentRecord(
            url=f["url"], name=f["name"],
            blob=StoredBlob(sha256=f["sha256"], size=f["size"], media_type=f["media_type"], path=f["path"],
                            text=f.get("text"), extraction_error=f.get("extraction_error")),
        )
        for f in item.files
    ] + [AttachmentRecord(url=f["url"], name=f["name"], skipped_reason=f["reason"]) for f in item.file_failures]
    return NoticeRecord(
        site_key=item.site_key, column_urls=list(item.column_urls), url=item.url,
        canonical_url=item.canonical_url, title=p.title, published_at=p.published_at, source=p.source,
        category=p.category, index_no=p.index_no, doc_no=p.doc_no, issuing_org=p.issuing_org,
        written_date=p.written_date, validity=p.validity, subject=p.subject, body_text=p.body_text,
        body_html=p.body_html, attachments=attachments, fetched_at=item.fetched_at, etag=item.etag,
        last_modified=item.last_modified, warc_record=item.warc_record, raw_sha256=item.raw_sha256,
        run_id=run_id,
    )


class PersistPipeline:
    crawler: Crawler  # set by from_crawler

    def __init__(self, *, database_url: str, trigger: str = "manual", use_process: bool = True) -> None:
        self.database_url = database_url
        self.trigger = trigger
        # A second connection to an in-memory database would see another, empty database.
        self.use_process = use_process and not database_url.endswith(":memory:") and database_url != "sqlite://"
        self.process: ProcessPoolExecutor | None = None
        self.counts: Counter[str] = Counter()
        self.figures = health.SiteFigures()  # per-site yield, for site health
        self.factory: sessionmaker[Session] | None = None
        self.run_id: int | None = None
        self.owns_run = False
        self.writer: ThreadPool | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PersistPipeline:
        url = crawler.settings.get("NOTICEWATCH_DATABASE_URL")
        if not url:
            raise NotConfigured("NOTICEWATCH_DATABASE_URL is not set")
        pipe = cls(database_url=url, trigger=crawler.settings.get("NOTICEWATCH_TRIGGER", "manual"),
                   use_process=crawler.settings.getbool("PERSIST_PROCESS", True))
        pipe.crawler = crawler
        # The run is closed on spider_closed, not in close_spider: only the signal carries
        # the finish reason (pipelines close before Scrapy records it in the stats).
        crawler.signals.connect(pipe.spider_closed, signal=signals.spider_closed)
        return pipe

    def open_spider(self) -> None:
        engine = make_engine(self.database_url)
        self.factory = make_session_factory(engine)
        spider = self.crawler.spider
        plan = getattr(spider, "plan", None)
        self.run_id = getattr(plan, "run_id", None)
        if self.run_id is None:
            # A bare `scrapy crawl` (not started by `noticewatch crawl`): record a run of our own.
            with self.factory.begin() as session:
                self.run_id = runs.start_run(session, site_key=None, trigger=self.trigger).id
            self.owns_run = True
        # One thread, so writes keep their arrival order (a Twisted pool runs its queue FIFO).
        self.writer = ThreadPool(minthreads=1, maxthreads=1, name="persist-writer")
        self.writer.start()

    def _start_writer_process(self) -> None:
        """Spawn the writer process on the first item with database work, not at open.

        An incremental cycle of unchanged sites (every list answers 304) writes nothing,
        and the writer's start-up (~1.5 s of CPU: imports) then only competed with the
        crawl. In a first crawl the first such item is a list page's validators, about a
        politeness delay before the first notice, so the start-up still overlaps downloads.
        """
        # spawn, not fork: forking a process that runs a reactor and threads is unsafe.
        self.process = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                           initializer=persist_writer.init_writer,
                                           initargs=(self.database_url,))
        self.process.submit(persist_writer.ready)  # start it now, not on the item's turn

    def close_spider(self) -> None:
        # Every process_item has returned by now (Scrapy waits for items in progress).
        if self.writer is not None:
            self.writer.stop()
            self.writer = None
        if self.process is not None:
            self.process.shutdown(wait=True)
            self.process = None

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, ListPageItem):
            outcome = None  # only tallied for site health: no database work, no trip to the writer
        elif self.writer is None:
            outcome = self.write(item)
        else:
            if self.use_process and self.process is None:
                self._start_writer_process()  # on the reactor thread, before write() may use it
            outcome = await maybe_deferred_to_future(
                threads.deferToThreadPool(reactor, self.writer, self.write, item))
        self.tally(item, outcome)  # on the reactor thread, like every other read of the tallies
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"persist/{type(item).__name__}")
        return item

    def operation(self, item: Any) -> Operation | None:
        """The database work for *item*, as picklable records (None: nothing to store)."""
        if isinstance(item, NoticeItem):
            return Operation("notice", notice_record(item, run_id=self.run_id))
        if isinstance(item, NoticeSeenItem):
            return Operation("seen", NoticeUnchanged(
                site_key=item.site_key, canonical_url=item.canonical_url,
                column_urls=item.column_urls, seen_at=item.seen_at, run_id=self.run_id))
        if isinstance(item, NoticeGoneItem):
            return Operation("gone", NoticeGone(
                site_key=item.site_key, canonical_url=item.canonical_url, reason=item.reason,
                seen_at=item.seen_at, run_id=self.run_id))
        if isinstance(item, FetchErrorItem):
            return Operation("fetch_error", {"run_id": self.run_id, "site_key": item.site_key, "url": item.url,
                                             "kind": item.kind, "detail": item.detail})
        if isinstance(item, ColumnStateItem):
            return Operation("column_state", {"site_key": item.site_key, "column_url": item.column_url,
                                              "etag": item.etag, "last_modified": item.last_modified,
                                              "crawled_at": item.crawled_at})
        return None

    def write(self, item: Any) -> Any:
        """One item's transaction (blocking: runs on the writer thread); returns its outcome."""
        op = self.operation(item)
        if op is None:
            return None
        if self.process is not None:
            return self.process.submit(persist_writer.apply_in_writer, op).result()
        assert self.factory is not None
        return apply_operation(self.factory, op)

    def tally(self, item: Any, outcome: Any) -> None:
        """Run counts and per-site figures for one stored item."""
        if isinstance(item, NoticeItem):
            self.counts[outcome.kind] += 1
            self.figures.add(item.site_key, outcome.kind)
            if outcome.joined_duplicates:
                self.counts["duplicate"] += 1
                self.figures.add(item.site_key, "duplicate")
            if not item.parsed.title.strip() or not item.parsed.body_text.strip():
                self.figures.add(item.site_key, "missing_title" if not item.parsed.title.strip() else "missing_body")
            self.counts["attachments_failed"] += len(item.file_failures)
        elif isinstance(item, NoticeSeenItem):
            self.counts["seen"] += 1
            self.figures.add(item.site_key, "seen")
        elif isinstance(item, NoticeGoneItem):
            if outcome is not None:
                self.counts["withdrawn"] += 1
                self.figures.add(item.site_key, "withdrawn")
        elif isinstance(item, FetchErrorItem):
            self.counts["blocked" if item.kind == "blocked" else "failed"] += 1
            self.figures.error(item.site_key, item.kind)
        elif isinstance(item, ListPageItem):
            self.figures.list_page(item.site_key, item.column_url, item.entries, not_modified=item.not_modified)

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.factory is None or self.run_id is None:
            return
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        counts = dict(self.counts)
        counts["requests"] = int(stats.get("downloader/request_count", 0))
        with self.factory.begin() as session:
            snapshot = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in stats.items()}
            # Per-site figures add up over the workers of one distributed run.
            snapshot["sites"] = health.merge_site_figures(
                health.stored_site_figures(session, self.run_id), self.figures.as_dict())
            crawlstate.record_run_result(
                session, run_id=self.run_id, counts=counts, stats=snapshot,
                status="finished" if reason == "finished" else "interrupted",
                finished_at=datetime.now(UTC),
            )
