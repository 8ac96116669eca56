"""Read queries the pages and the API share (kept out of storage: they shape views)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from storage.models import (
    Blob,
    Column,
    CrawlRun,
    Notice,
    NoticeColumn,
    NoticeVersion,
    Site,
    VersionAttachment,
)
from storage.search_sql import date_upper_bound


def list_notices(session: Session, *, site: str | None = None, status: str | None = None,
                 date_from: str | None = None, date_to: str | None = None, column: str | None = None,
                 limit: int = 20, offset: int = 0) -> tuple[list[Notice], int]:
    stmt = select(Notice).join(Site, Site.id == Notice.site_id)
    if site:
        stmt = stmt.where(Site.key == site)
    if status:
        stmt = stmt.where(Notice.status == status)
    if date_from:
        stmt = stmt.where(Notice.published_at >= date_from)
    if date_to:
        stmt = stmt.where(Notice.published_at < date_upper_bound(date_to))
    if column:
        stmt = stmt.where(Notice.id.in_(
            select(NoticeColumn.notice_id).join(Column, Column.id == NoticeColumn.column_id)
            .where((Column.url == column) | (Column.name == column))))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.options(joinedload(Notice.site))
                           .order_by(Notice.published_at.desc(), Notice.id.desc())
                           .limit(limit).offset(offset))
    return list(rows), int(total)


def notice_summary(notice: Notice) -> dict[str, Any]:
    return {"id": notice.id, "site": notice.site.key, "title": notice.title, "url": notice.url,
            "published_at": notice.published_at, "status": notice.status,
            "version": notice.version_count, "duplicate_of": notice.duplicate_of_id}


def duplicates_of(session: Session, notice: Notice) -> list[Notice]:
    """The notice this one repeats, and the notices that repeat it."""
    ids = {notice.duplicate_of_id} if notice.duplicate_of_id else set()
    ids.update(session.scalars(select(Notice.id).where(Notice.duplicate_of_id == notice.id)))
    if not ids:
        return []
    return list(session.scalars(select(Notice).where(Notice.id.in_(ids))
                                .options(joinedload(Notice.site)).order_by(Notice.id)))


def version_dict(version: NoticeVersion) -> dict[str, Any]:
    from storage.clock import to_cst_iso

    return {
        "version": version.version, "title": version.title, "published_at": version.published_at,
        "source": version.source, "category": version.category, "index_no": version.index_no,
        "doc_no": version.doc_no, "issuing_org": version.issuing_org,
        "written_date": version.written_date, "validity": version.validity, "subject": version.subject,
        "body_text": version.body_text, "fetched_at": to_cst_iso(version.fetched_at),
        "warc_record": version.warc_record, "raw_sha256": version.raw_sha256,
        "attachments": [{"name": a.name, "url": a.url, "sha256": a.blob_sha256,
                         "size": a.blob.size if a.blob else None,
                         "media_type": a.blob.media_type if a.blob else None,
                         "skipped_reason": a.skipped_reason,
                         "download": f"/api/attachments/{a.blob_sha256}" if a.blob_sha256 else None}
                        for a in version.attachments],
    }


def attachment_name(session: Session, sha256: str) -> tuple[Blob | None, str | None]:
    blob = session.get(Blob, sha256)
    name = session.scalar(select(VersionAttachment.name).where(VersionAttachment.blob_sha256 == sha256)
                          .order_by(VersionAttachment.id.desc()).limit(1))
    return blob, name


def site_runs(session: Session, site_id: int, limit: int = 20) -> list[CrawlRun]:
    return list(session.scalars(select(CrawlRun).where(CrawlRun.site_id == site_id)
                                .order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc()).limit(limit)))


def site_column_counts(session: Session, site_id: int) -> dict[int, int]:
    rows = session.execute(select(NoticeColumn.column_id, func.count())
                           .join(Column, Column.id == NoticeColumn.column_id)
                           .where(Column.site_id == site_id).group_by(NoticeColumn.column_id))
    return {column_id: n for column_id, n in rows}


def load_notice(session: Session, notice_id: int) -> Notice | None:
    return session.scalar(select(Notice).where(Notice.id == notice_id).options(
        joinedload(Notice.site), selectinload(Notice.columns),
        selectinload(Notice.versions).selectinload(NoticeVersion.attachments)
        .joinedload(VersionAttachment.blob)))
