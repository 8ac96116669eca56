"""What an alert says about each event: plain records built for the message writers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session, selectinload

from storage.clock import as_utc
from storage.diff import version_diff
from storage.models import AlertEvent, Column, Delivery, Notice, NoticeColumn, NoticeVersion, Site

__all__ = ["AlertItem", "Change", "load_alert_items", "recent_events"]

_CLIP = 300  # characters of an old/new value shown in an alert


@dataclass(frozen=True, slots=True)
class Change:
    field: str
    change: str
    old: str | None
    new: str | None


@dataclass(frozen=True, slots=True)
class AlertItem:
    event_id: int
    kind: str  # new, changed, withdrawn
    created_at: datetime
    notice_id: int
    site_key: str
    site_name: str
    title: str
    url: str
    status: str
    published_at: str | None = None
    issuing_org: str | None = None
    doc_no: str | None = None
    version: int | None = None
    summary: str = ""  # first characters of the body
    columns: tuple[str, ...] = ()
    changes: tuple[Change, ...] = field(default_factory=tuple)


def _clip(value: str | None) -> str | None:
    if value is None or len(value) <= _CLIP:
        return value
    return value[:_CLIP] + "…"


def load_alert_items(session: Session, event_ids: Sequence[int]) -> dict[int, AlertItem]:
    """event id → AlertItem; a ``changed`` item lists field changes from the previous version."""
    if not event_ids:
        return {}
    rows = list(session.execute(
        select(AlertEvent, Notice, Site, NoticeVersion)
        .join(Notice, Notice.id == AlertEvent.notice_id)
        .join(Site, Site.id == AlertEvent.site_id)
        .outerjoin(NoticeVersion, NoticeVersion.id == AlertEvent.version_id)
        .options(selectinload(NoticeVersion.attachments))
        .where(AlertEvent.id.in_(list(event_ids)))))
    notice_ids = {notice.id for _, notice, _, _ in rows}
    columns: dict[int, list[str]] = defaultdict(list)
    for notice_id, name in session.execute(
            select(NoticeColumn.notice_id, Column.name).join(Column, Column.id == NoticeColumn.column_id)
            .where(NoticeColumn.notice_id.in_(notice_ids)).order_by(Column.id)):
        columns[notice_id].append(name)
    wanted = {(v.notice_id, v.version - 1) for e, _, _, v in rows
              if v is not None and e.kind == "changed" and v.version > 1}
    previous: dict[tuple[int, int], NoticeVersion] = {}
    if wanted:
        for old in session.scalars(
                select(NoticeVersion).options(selectinload(NoticeVersion.attachments))
                .where(tuple_(NoticeVersion.notice_id, NoticeVersion.version).in_(list(wanted)))):
            previous[(old.notice_id, old.version)] = old
    items: dict[int, AlertItem] = {}
    for event, notice, site, version in rows:
        changes: tuple[Change, ...] = ()
        if version is not None and (prior := previous.get((version.notice_id, version.version - 1))):
            changes = tuple(Change(c.field, c.change, _clip(c.old), _clip(c.new))
                            for c in version_diff(prior, version))
        body = (version.body_text if version is not None else "") or ""
        items[event.id] = AlertItem(
            event_id=event.id, kind=event.kind, created_at=as_utc(event.created_at),
            notice_id=notice.id, site_key=site.key, site_name=site.name,
            title=(version.title if version is not None else "") or notice.title,
            url=notice.url, status=notice.status,
            published_at=version.published_at if version is not None else notice.published_at,
            issuing_org=version.issuing_org if version is not None else None,
            doc_no=version.doc_no if version is not None else None,
            version=version.version if version is not None else None,
            summary=" ".join(body.split())[:200], columns=tuple(columns.get(notice.id, ())),
            changes=changes,
        )
    return items


def recent_events(session: Session, *, site_key: str | None = None, subscription_id: int | None = None,
                  limit: int = 50) -> list[int]:
    """Newest event ids of a site (all events) or of a subscription (its deliveries)."""
    stmt = select(AlertEvent.id).order_by(AlertEvent.id.desc()).limit(limit)
    if site_key is not None:
        stmt = stmt.join(Site, Site.id == AlertEvent.site_id).where(Site.key == site_key)
    if subscription_id is not None:
        stmt = stmt.join(Delivery, Delivery.event_id == AlertEvent.id).where(
            Delivery.subscription_id == subscription_id)
    return list(session.scalars(stmt))
