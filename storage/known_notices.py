"""The store's view of known notices, read for the crawl plan and the gone-check.

Read-only queries; nothing here writes or commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.clock import as_utc
from storage.models import Notice, NoticeColumn, Site

__all__ = ["KnownNotice", "known_notices", "notices_missing_from_lists"]


@dataclass(frozen=True, slots=True)
class KnownNotice:
    """The store's view of one notice, handed to spiders in the crawl plan."""

    etag: str | None
    last_modified: str | None
    published_at: str | None
    status: str
    content_fingerprint: str | None
    last_fetched_at: datetime | None


def known_notices(session: Session, *, site_key: str) -> dict[str, KnownNotice]:
    """canonical URL → validators and state, for the crawl plan (one query, no ORM rows)."""
    rows = session.execute(
        select(
            Notice.canonical_url, Notice.etag, Notice.last_modified, Notice.published_at,
            Notice.status, Notice.content_fingerprint, Notice.last_fetched_at,
        )
        .join(Site, Notice.site_id == Site.id)
        .where(Site.key == site_key)
    )
    return {
        r.canonical_url: KnownNotice(
            etag=r.etag,
            last_modified=r.last_modified,
            published_at=r.published_at,
            status=r.status,
            content_fingerprint=r.content_fingerprint,
            last_fetched_at=as_utc(r.last_fetched_at) if r.last_fetched_at else None,
        )
        for r in rows
    }


def notices_missing_from_lists(
    session: Session, *, site_key: str, since: datetime, limit: int | None = None
) -> list[str]:
    """Canonical URLs of active notices no column has listed since ``since``.

    Notices never linked from a column (found by a re-check) count from
    ``first_seen_at``. Oldest listing first, so a capped check starts with the likeliest.
    """
    last_listed = (
        select(func.max(NoticeColumn.last_listed_at))
        .where(NoticeColumn.notice_id == Notice.id)
        .correlate(Notice)
        .scalar_subquery()
    )
    seen = func.coalesce(last_listed, Notice.first_seen_at)
    stmt = (
        select(Notice.canonical_url)
        .join(Site, Notice.site_id == Site.id)
        .where(Site.key == site_key, Notice.status == "active", seen < as_utc(since))
        .order_by(seen, Notice.id)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))
