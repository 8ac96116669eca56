"""What a crawl needs to know before it starts, and what it leaves behind.

``build_plan`` reads the store into the plain dict a spider receives as its plan
file (spiders never query the database themselves).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from storage.models import Column, CrawlRun, Notice, NoticeColumn, Site, VersionAttachment


def update_column_state(session: Session, *, site_key: str, column_url: str, etag: str | None,
                        last_modified: str | None, crawled_at: datetime) -> None:
    column = session.scalar(
        select(Column).join(Site).where(Site.key == site_key, Column.url == column_url)
    )
    if column is None:
        return
    column.etag = etag
    column.last_modified = last_modified
    column.last_crawled_at = crawled_at


def record_run_result(session: Session, *, run_id: int, counts: dict[str, int], stats: dict[str, Any],
                      status: str, finished_at: datetime) -> None:
    run = session.get(CrawlRun, run_id)
    if run is None:
        return
    merged = dict(run.counts or {})
    for key, value in counts.items():
        merged[key] = merged.get(key, 0) + value
    run.counts = merged
    run.stats = stats
    run.status = status
    run.finished_at = finished_at


def build_plan(session: Session, *, site_keys: Sequence[str], run_id: int | None, recheck_days: int,
               list_overlap: int, conditional_lists: bool = True) -> dict[str, Any]:
    """The plan file's content for a crawl of ``site_keys``."""
    known: dict[str, dict[str, Any]] = {}
    rows = session.execute(
        select(Notice.canonical_url, Notice.etag, Notice.last_modified, Notice.published_at, Notice.status,
               Notice.title)
        .join(Site, Notice.site_id == Site.id)
        .where(Site.key.in_(site_keys))
    )
    for url, etag, last_modified, published_at, status, title in rows:
        known[url] = {"etag": etag, "last_modified": last_modified, "published_at": published_at,
                      "status": status, "title": title}
    columns: dict[str, dict[str, Any]] = {}
    if conditional_lists and known:
        for url, etag, last_modified in session.execute(
            select(Column.url, Column.etag, Column.last_modified).join(Site).where(Site.key.in_(site_keys))
        ):
            if etag or last_modified:
                columns[url] = {"etag": etag, "last_modified": last_modified}
    members: dict[str, list[str]] = {}
    for column_url, notice_url in session.execute(
        select(Column.url, Notice.canonical_url)
        .join(NoticeColumn, NoticeColumn.column_id == Column.id)
        .join(Notice, Notice.id == NoticeColumn.notice_id)
        .join(Site, Site.id == Column.site_id)
        .where(Site.key.in_(site_keys), Notice.status == "active")
    ):
        members.setdefault(column_url, []).append(notice_url)
    # Notices whose attachments could not be stored last time (full disk, transient
    # failure) are fetched again without validators, so the files are downloaded.
    # Files skipped for being over the size cap stay skipped.
    refetch = sorted(set(session.scalars(
        select(Notice.canonical_url)
        .join(Site, Notice.site_id == Site.id)
        .join(VersionAttachment, VersionAttachment.version_id == Notice.current_version_id)
        .where(Site.key.in_(site_keys), Notice.status == "active", VersionAttachment.blob_sha256.is_(None),
               or_(VersionAttachment.skipped_reason.is_(None),
                   ~VersionAttachment.skipped_reason.like("%size cap%")))
    )))
    return {"run_id": run_id, "recheck_days": recheck_days, "list_overlap": list_overlap,
            "known": known, "columns": columns, "column_members": members,
            "refetch": refetch}
