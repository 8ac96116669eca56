"""Alert queries: subscriptions, fan-out of the outbox, the delivery log.

Every function takes a caller-opened Session and never commits.

Claiming deliveries and recording their outcome (the delivery life cycle) live in
``storage.alert_claims``; the names are re-exported here.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.alert_claims import (
    DEFAULT_LEASE,
    LIVE_STATES,
    MAX_BACKOFF,
    Claim,
    claim_digest,
    claim_due,
    due_digest_subscriptions,
    mark_failed,
    mark_sent,
    period_label,
)
from storage.alert_match import EventText, SubscriptionIndex, compile_filter, normalise_filters
from storage.clock import as_utc
from storage.models import (
    AlertEvent,
    Blob,
    Column,
    Delivery,
    Notice,
    NoticeColumn,
    NoticeVersion,
    Site,
    Subscription,
    VersionAttachment,
)

__all__ = [
    "DEFAULT_LEASE",
    "MAX_BACKOFF",
    "MODES",
    "Claim",
    "claim_digest",
    "claim_due",
    "create_subscription",
    "delete_subscription",
    "delivery_counts",
    "delivery_log",
    "digest_idempotency_key",
    "due_digest_subscriptions",
    "fan_out",
    "get_subscription",
    "idempotency_key",
    "list_subscriptions",
    "mark_failed",
    "mark_sent",
    "period_label",
    "redact_channel_url",
]

MODES = ("instant", "daily", "weekly")
_FAN_OUT_BATCH = 1000


# ── subscriptions ──────────────────────────────────────────────────────────────────────

def create_subscription(
    session: Session, *, name: str, channel_url: str, filters: dict[str, Any] | None = None,
    mode: str = "instant", now: datetime, secret: str | None = None,
) -> Subscription:
    """Add a subscription; raises ValueError on a bad mode, filter or duplicate name.

    Every subscription gets a secret: the webhook HMAC key and the token of its feed.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    if not name.strip():
        raise ValueError("name must not be empty")
    if session.scalar(select(Subscription.id).where(Subscription.name == name)) is not None:
        raise ValueError(f"a subscription named {name!r} already exists")
    sub = Subscription(name=name, channel_url=channel_url, filters=normalise_filters(filters),
                       mode=mode, state="active", secret=secret or secrets.token_hex(24),
                       created_at=as_utc(now))
    session.add(sub)
    session.flush()
    return sub


# Schemes whose host part is a plain server name; in other (Apprise) URLs the "host" is
# often the bot token itself (tgram://TOKEN/CHAT, wecombot://KEY).
_HOST_IS_SERVER = {"http", "https", "webhook+http", "webhook+https", "smtp", "smtps"}


def redact_channel_url(url: str) -> str:
    """What may be shown of a channel URL: passwords, tokens, paths and queries hidden.

    ``smtp://u:pw@mail.cn:587/?to=a`` -> ``smtp://mail.cn:587/…``;
    ``webhook+https://hooks.cn/T/secret`` -> ``webhook+https://hooks.cn/…``;
    ``tgram://123:ABC/456`` -> ``tgram://…``; ``mailto:`` and ``feed:`` are shown whole.
    """
    if "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    if scheme.lower() not in _HOST_IS_SERVER:
        return f"{scheme}://…" if rest else url
    host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1]
    hidden = any(mark in rest for mark in "/?#@")
    return f"{scheme}://{host}/…" if hidden else f"{scheme}://{host}"


def get_subscription(session: Session, ref: str | int) -> Subscription | None:
    """By id (an int or all-digit string) or else by name."""
    if isinstance(ref, int) or ref.isdigit():
        found = session.get(Subscription, int(ref))
        if found is not None or isinstance(ref, int):
            return found
    return session.scalar(select(Subscription).where(Subscription.name == ref))


def list_subscriptions(session: Session) -> list[Subscription]:
    return list(session.scalars(select(Subscription).order_by(Subscription.id)))


def delete_subscription(session: Session, subscription: Subscription) -> None:
    # Deliveries go with it (ON DELETE CASCADE, also done explicitly for SQLite
    # connections opened without foreign keys).
    session.execute(delete(Delivery).where(Delivery.subscription_id == subscription.id)
                    .execution_options(synchronize_session=False))
    session.delete(subscription)
    session.flush()


def delivery_counts(session: Session) -> dict[int, dict[str, int]]:
    """subscription id → {status: count}."""
    out: dict[int, dict[str, int]] = defaultdict(dict)
    rows = session.execute(
        select(Delivery.subscription_id, Delivery.status, func.count()).group_by(
            Delivery.subscription_id, Delivery.status))
    for sub_id, status, count in rows:
        out[sub_id][status] = count
    return dict(out)


# ── fan-out ────────────────────────────────────────────────────────────────────────────

def idempotency_key(event_id: int, subscription_id: int) -> str:
    """Stable across retries, processes and re-fan-outs: a pure function of the pair."""
    digest = hashlib.sha256(f"noticewatch:event:{event_id}:subscription:{subscription_id}".encode())
    return "nw-" + digest.hexdigest()[:40]


def digest_idempotency_key(digest_key: str) -> str:
    """The key of a digest message: one per subscription and period, stable on retries."""
    return "nw-digest-" + hashlib.sha256(f"noticewatch:{digest_key}".encode()).hexdigest()[:40]


def _dialect_insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return postgresql.insert(Delivery) if dialect == "postgresql" else sqlite.insert(Delivery)


def fan_out(session: Session, *, now: datetime, batch_size: int = _FAN_OUT_BATCH) -> int:
    """Turn un-fanned outbox events into deliveries; returns how many deliveries were made.

    Events are taken with one ``UPDATE … RETURNING`` per batch (``SKIP LOCKED`` on
    PostgreSQL; on SQLite the write lock is taken before the rows are read), so two
    senders never fan out one event twice; the unique (event, subscription) constraint
    backs that up. Deliveries to ``feed:`` subscriptions are recorded as sent at once:
    the feed is their channel.
    """
    now = as_utc(now)
    subs = list(session.execute(
        select(Subscription.id, Subscription.filters, Subscription.channel_url)
        .where(Subscription.state.in_(LIVE_STATES))))
    index = SubscriptionIndex([compile_filter(s.id, s.filters) for s in subs])
    feed_subs = {s.id for s in subs if s.channel_url.strip().lower().startswith("feed:")}
    created = 0
    while True:
        pick = (select(AlertEvent.id).where(AlertEvent.fanned_out.is_(False))
                .order_by(AlertEvent.id).limit(batch_size).with_for_update(skip_locked=True))
        ids = list(session.scalars(
            update(AlertEvent).where(AlertEvent.id.in_(pick.scalar_subquery()),
                                     AlertEvent.fanned_out.is_(False))
            .values(fanned_out=True).returning(AlertEvent.id)
            .execution_options(synchronize_session=False)))
        if not ids:
            return created
        if not subs:
            continue
        rows: list[dict[str, Any]] = []
        for event in _event_texts(session, ids, with_text=index.needs_text):
            for sub_id in index.match(event):
                feed = sub_id in feed_subs
                rows.append({
                    "event_id": event.event_id, "subscription_id": sub_id,
                    "idempotency_key": idempotency_key(event.event_id, sub_id),
                    "status": "sent" if feed else "pending", "attempts": 0,
                    "sent_at": now if feed else None, "next_attempt_at": None,
                })
        for start in range(0, len(rows), 5000):
            stmt = _dialect_insert(session).on_conflict_do_nothing(
                index_elements=["event_id", "subscription_id"]).returning(Delivery.id)
            # RETURNING counts the rows really inserted (executemany rowcount is not
            # reliable across drivers); Core keeps the ORM's bulk machinery out of the way.
            result = session.connection().execute(stmt, rows[start:start + 5000])
            created += len(result.all())


def _event_texts(session: Session, event_ids: Sequence[int], *, with_text: bool) -> list[EventText]:
    """One query per kind of data for the whole batch, never one per event."""
    cols: list[Any] = [AlertEvent.id, AlertEvent.kind, AlertEvent.baseline, AlertEvent.notice_id,
                       AlertEvent.version_id, Site.key, Notice.title, NoticeVersion.title.label("v_title"),
                       NoticeVersion.issuing_org, NoticeVersion.doc_no]
    if with_text:
        cols.append(NoticeVersion.body_text)
    rows = list(session.execute(
        select(*cols).join(Site, Site.id == AlertEvent.site_id)
        .join(Notice, Notice.id == AlertEvent.notice_id)
        .outerjoin(NoticeVersion, NoticeVersion.id == AlertEvent.version_id)
        .where(AlertEvent.id.in_(event_ids)).order_by(AlertEvent.id)))
    notice_ids = {r.notice_id for r in rows}
    columns: dict[int, list[str]] = defaultdict(list)
    for notice_id, url in session.execute(
            select(NoticeColumn.notice_id, Column.url).join(Column, Column.id == NoticeColumn.column_id)
            .where(NoticeColumn.notice_id.in_(notice_ids))):
        columns[notice_id].append(url)
    attachments: dict[int, list[str]] = defaultdict(list)
    if with_text:
        version_ids = {r.version_id for r in rows if r.version_id is not None}
        for version_id, name, text in session.execute(
                select(VersionAttachment.version_id, VersionAttachment.name, Blob.text)
                .outerjoin(Blob, Blob.sha256 == VersionAttachment.blob_sha256)
                .where(VersionAttachment.version_id.in_(version_ids))):
            attachments[version_id].extend(t for t in (name, text) if t)
    return [
        EventText.build(
            event_id=r.id, kind=r.kind, site_key=r.key, baseline=bool(r.baseline),
            title=r.v_title or r.title, body=r.body_text if with_text else None,
            attachments=attachments.get(r.version_id, ()), issuing_org=r.issuing_org,
            doc_no=r.doc_no, column_urls=columns.get(r.notice_id, ()))
        for r in rows
    ]


# ── log ────────────────────────────────────────────────────────────────────────────────

@dataclass(frozen=True, slots=True)
class LogRow:
    delivery_id: int
    subscription: str
    subscription_state: str
    event_id: int
    kind: str
    notice_id: int
    title: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None
    digest_key: str | None


def delivery_log(session: Session, *, failed_only: bool = False, subscription_id: int | None = None,
                 limit: int = 50) -> list[LogRow]:
    """Newest deliveries first; ``failed_only``: failed (retrying) and dead ones."""
    stmt = (select(Delivery.id.label("delivery_id"), Subscription.name.label("subscription"),
                   Subscription.state.label("subscription_state"), AlertEvent.id.label("event_id"),
                   AlertEvent.kind, Notice.id.label("notice_id"), Notice.title, Delivery.status,
                   Delivery.attempts, Delivery.next_attempt_at, Delivery.sent_at, Delivery.last_error,
                   Delivery.digest_key)
            .join(Subscription, Subscription.id == Delivery.subscription_id)
            .join(AlertEvent, AlertEvent.id == Delivery.event_id)
            .join(Notice, Notice.id == AlertEvent.notice_id)
            .order_by(Delivery.id.desc()).limit(limit))
    if failed_only:
        stmt = stmt.where(Delivery.status.in_(("failed", "dead")))
    if subscription_id is not None:
        stmt = stmt.where(Delivery.subscription_id == subscription_id)
    return [LogRow(**row._asdict()) for row in session.execute(stmt)]
