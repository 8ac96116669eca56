"""Last pipeline stage: one transaction per item (notice, version, blobs, alert events).

The transactions run on one dedicated writer thread, not on the reactor thread: while
SQLite commits (or PostgreSQL answers) the crawl keeps downloading and parsing. One
thread keeps the writes in the order items arrive (a notice's ``NoticeItem`` before a
later ``NoticeGoneItem`` for it) and keeps SQLite to a single writer. ``process_item``
returns only after its transaction committed, so an item Scrapy considers done is
stored: a kill loses exactly what it lost before, the items still in flight.
"""

from __future__ import annotations

import logging
from collections import Counter
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
from storage import crawlstate, health, repository
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
    def __init__(self, *, database_url: str, trigger: str = "manual") -> None:
        self.database_url = database_url
        self.trigger = trigger
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
        pipe = cls(database_url=url, trigger=crawler.settings.get("NOTICEWATCH_TRIGGER", "manual"))
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
                self.run_id = repository.start_run(session, site_key=None, trigger=self.trigger).id
            self.owns_run = True
        # One thread, so writes keep their arrival order (a Twisted pool runs its queue FIFO).
        self.writer = ThreadPool(minthreads=1, maxthreads=1, name="persist-writer")
        self.writer.start()

    def close_spider(self) -> None:
        # Every process_item has returned by now (Scrapy waits for items in progress).
        if self.writer is not None:
            self.writer.stop()
            self.writer = None

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, ListPageItem):
            outcome = None  # only tallied for site health: no database work, no trip to the writer
        elif self.writer is None:
            outcome = self.write(item)
        else:
            outcome = await maybe_deferred_to_future(
                threads.deferToThreadPool(reactor, self.writer, self.write, item))
        self.tally(item, outcome)  # on the reactor thread, like every other read of the tallies
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"persist/{type(item).__name__}")
        return item

    def write(self, item: Any) -> Any:
        """One item's transaction (blocking: runs on the writer thread); returns its outcome."""
        assert self.factory is not None
        with self.factory.begin() as session:
            if isinstance(item, NoticeItem):
                return repository.apply_notice(session, notice_record(item, run_id=self.run_id))
            if isinstance(item, NoticeSeenItem):
                repository.mark_unchanged(session, NoticeUnchanged(
                    site_key=item.site_key, canonical_url=item.canonical_url,
                    column_urls=item.column_urls, seen_at=item.seen_at, run_id=self.run_id))
            elif isinstance(item, NoticeGoneItem):
                return repository.mark_gone(session, NoticeGone(
                    site_key=item.site_key, canonical_url=item.canonical_url, reason=item.reason,
                    seen_at=item.seen_at, run_id=self.run_id))
            elif isinstance(item, FetchErrorItem):
                repository.record_fetch_error(session, run_id=self.run_id, site_key=item.site_key,
                                              url=item.url, kind=item.kind, detail=item.detail)
            elif isinstance(item, ColumnStateItem):
                crawlstate.update_column_state(session, site_key=item.site_key, column_url=item.column_url,
                                               etag=item.etag, last_modified=item.last_modified,
                                               crawled_at=item.crawled_at)
        return None

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
