"""Read side: the stable export schema, the summary table, one notice with its history.

Export field names are a public contract (JSON Lines/CSV consumers depend on them):
later changes add fields, never rename or drop one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from storage.clock import as_utc, to_cst_iso
from storage.models import (
    Blob,
    Column,
    CrawlRun,
    Notice,
    NoticeVersion,
    Site,
    VersionAttachment,
)

__all__ = ["EXPORT_FIELDS", "get_notice", "iter_export_rows", "summary"]

EXPORT_FIELDS = (
    "id", "site", "site_name", "columns", "url", "title", "published_at", "source", "index_no",
    "doc_no", "issuing_org", "written_date", "validity", "subject", "body_text", "attachments",
    "status", "version", "first_seen_at", "last_changed_at", "duplicate_of",
)
_BATCH = 500


def iter_export_rows(
    session: Session,
    *,
    site_key: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    status: str | None = None,
    published_from: date | None = None,
    published_to: date | None = None,
    batch_size: int = _BATCH,
) -> Iterator[dict[str, Any]]:
    """Yield one dict per notice (its current version), ordered by id.

    ``since``/``until`` bound ``last_changed_at`` (``since`` inclusive, ``until``
    exclusive), so an incremental export picks up edits as well as new notices.
    Keyset pagination plus ``selectinload`` keeps it to a handful of queries per batch
    and bounded memory whatever the archive size.
    """
    filters = []
    if site_key is not None:
        filters.append(Site.key == site_key)
    if since is not None:
        filters.append(Notice.last_changed_at >= as_utc(since))
    if until is not None:
        filters.append(Notice.last_changed_at < as_utc(until))
    if status is not None:
        filters.append(Notice.status == status)
    # published_at is ISO text in +08:00 ("2022-01-04" or "2022-01-04T09:40:00+08:00"),
    # so string order is date order and a day's bound is its date prefix.
    if published_from is not None:
        filters.append(Notice.published_at >= published_from.isoformat())
    if published_to is not None:
        filters.append(Notice.published_at < (published_to + timedelta(days=1)).isoformat())
    last_id = 0
    while True:
        stmt = (
            select(Notice)
            .join(Site, Notice.site_id == Site.id)
            .where(Notice.id > last_id, *filters)
            .order_by(Notice.id)
            .limit(batch_size)
            .options(
                joinedload(Notice.site),
                selectinload(Notice.columns),
                selectinload(Notice.current_version)
                .selectinload(NoticeVersion.attachments)
                .joinedload(VersionAttachment.blob),
            )
        )
        notices = list(session.scalars(stmt))
        if not notices:
            return
        for notice in notices:
            yield export_row(notice)
        last_id = notices[-1].id


def export_row(notice: Notice) -> dict[str, Any]:
    """The export dict for one notice whose site, columns and current version are loaded."""
    v = notice.current_version
    attachments = []
    if v is not None:
        for att in v.attachments:
            blob = att.blob
            attachments.append({
                "url": att.url,
                "name": att.name,
                "sha256": att.blob_sha256,
                "size": blob.size if blob else None,
                "media_type": blob.media_type if blob else None,
                "path": blob.path if blob else None,
                "text": blob.text if blob else None,
            })
    return {
        "id": notice.id,
        "site": notice.site.key,
        "site_name": notice.site.name,
        "columns": [c.name for c in notice.columns],
        "url": notice.url,
        "title": v.title if v else notice.title,
        "published_at": v.published_at if v else notice.published_at,
        "source": v.source if v else None,
        "index_no": v.index_no if v else None,
        "doc_no": v.doc_no if v else None,
        "issuing_org": v.issuing_org if v else None,
        "written_date": v.written_date if v else None,
        "validity": v.validity if v else None,
        "subject": v.subject if v else None,
        "body_text": v.body_text if v else "",
        "attachments": attachments,
        "status": notice.status,
        "version": notice.version_count,
        "first_seen_at": to_cst_iso(notice.first_seen_at),
        "last_changed_at": to_cst_iso(notice.last_changed_at),
        "duplicate_of": notice.duplicate_of_id,
    }


def summary(session: Session) -> dict[str, int]:
    """Row counts for the demo's final table and the dashboard header."""

    def count(stmt: Any) -> int:
        return int(session.scalar(stmt) or 0)

    by_status = dict(
        session.execute(select(Notice.status, func.count()).group_by(Notice.status)).tuples().all()
    )
    return {
        "sites": count(select(func.count()).select_from(Site)),
        "columns": count(select(func.count()).select_from(Column)),
        "notices": sum(int(n) for n in by_status.values()),
        "notices_active": int(by_status.get("active", 0)),
        "notices_withdrawn": int(by_status.get("withdrawn", 0)),
        "duplicates": count(
            select(func.count()).select_from(Notice).where(Notice.duplicate_of_id.is_not(None))
        ),
        "versions": count(select(func.count()).select_from(NoticeVersion)),
        "blobs": count(select(func.count()).select_from(Blob)),
        "runs": count(select(func.count()).select_from(CrawlRun)),
    }


def get_notice(session: Session, notice_id: int) -> Notice | None:
    """One notice with site, columns, and every version with its attachments and blobs."""
    stmt = (
        select(Notice)
        .where(Notice.id == notice_id)
        .options(
            joinedload(Notice.site),
            selectinload(Notice.columns),
            selectinload(Notice.versions)
            .selectinload(NoticeVersion.attachments)
            .joinedload(VersionAttachment.blob),
        )
    )
    return session.scalar(stmt)
