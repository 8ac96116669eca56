"""Claiming due alert deliveries and recording their outcome (instant and digest).

Every function takes a caller-opened Session and never commits.

Delivery life cycle (``delivery.status``)::

    pending ──claim──▶ sending ──mark_sent──▶ sent
       ▲                  │ mark_failed
       └── failed ◀───────┤   (attempts < max: retried at next_attempt_at, exponential backoff)
                          └──▶ dead (attempts = max: the subscription is flagged ``failing``)

Claiming sets ``next_attempt_at`` to the end of a lease. A ``sending`` row whose lease
ran out (the sender crashed between the channel call and recording the result) is due
again and is re-sent with the SAME idempotency key: delivery is at-least-once, and the
key (webhook ``Idempotency-Key`` header, e-mail ``Message-ID``) lets receivers drop the
rare duplicate. ``attempts`` doubles as a fencing token: a sender whose lease was taken
over cannot record a result over the new claim.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, exists, or_, select, update
from sqlalchemy.orm import Session

from storage.clock import CST, as_utc
from storage.models import Delivery, Subscription

__all__ = [
    "DEFAULT_LEASE",
    "LIVE_STATES",
    "MAX_BACKOFF",
    "Claim",
    "claim_digest",
    "claim_due",
    "due_digest_subscriptions",
    "mark_failed",
    "mark_sent",
    "period_label",
]

DEFAULT_LEASE = timedelta(minutes=10)
MAX_BACKOFF = timedelta(hours=12)
LIVE_STATES = ("active", "failing")  # paused subscriptions get no deliveries


@dataclass(frozen=True, slots=True)
class Claim:
    """One delivery taken by a sender; ``attempt`` is the fencing token for recording."""

    delivery_id: int
    event_id: int
    subscription_id: int
    idempotency_key: str
    attempt: int
    digest_key: str | None = None


def _due(now: datetime) -> Any:
    return and_(Delivery.status.in_(("pending", "failed", "sending")),
                or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now))


def _claim(session: Session, where: Any, *, now: datetime, lease: timedelta, limit: int | None,
           extra: dict[str, Any] | None = None) -> list[Claim]:
    pick = select(Delivery.id).where(where).order_by(Delivery.id)
    if limit is not None:
        pick = pick.limit(limit)
    stmt = (update(Delivery)
            .where(Delivery.id.in_(pick.with_for_update(skip_locked=True).scalar_subquery()), where)
            .values(status="sending", attempts=Delivery.attempts + 1, next_attempt_at=now + lease,
                    **(extra or {}))
            .returning(Delivery.id, Delivery.event_id, Delivery.subscription_id,
                       Delivery.idempotency_key, Delivery.attempts, Delivery.digest_key)
            .execution_options(synchronize_session=False))
    claims = [Claim(*row) for row in session.execute(stmt)]
    return sorted(claims, key=lambda c: c.delivery_id)


def claim_due(session: Session, *, now: datetime, limit: int = 100, worker: str = "",
              lease: timedelta = DEFAULT_LEASE) -> list[Claim]:
    """Take due deliveries of instant subscriptions; the caller commits before sending.

    Safe with several senders: the selection and the status change are one statement
    (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite serialises writers and the
    condition is re-checked under the write lock). ``worker`` only names the caller in logs.
    """
    del worker  # no column for it: the fencing token is ``attempts``
    now = as_utc(now)
    instant = select(Subscription.id).where(Subscription.mode == "instant",
                                            Subscription.state.in_(LIVE_STATES))
    return _claim(session, and_(_due(now), Delivery.subscription_id.in_(instant.scalar_subquery())),
                  now=now, lease=lease, limit=limit)


def period_label(mode: str, when: datetime) -> str:
    """The digest period ``when`` falls in, on China's calendar: a day or an ISO week."""
    local = as_utc(when).astimezone(CST)
    if mode == "weekly":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    return local.date().isoformat()


def due_digest_subscriptions(session: Session, *, now: datetime) -> list[int]:
    """Digest subscriptions with due deliveries whose period changed since the last digest.

    A new subscription's first digest comes in the period after the one it was made in;
    a digest that failed is retried at its ``next_attempt_at`` (its period did not end).
    """
    now = as_utc(now)
    rows = session.execute(
        select(Subscription.id, Subscription.mode, Subscription.created_at, Subscription.last_digest_at)
        .where(Subscription.mode.in_(("daily", "weekly")), Subscription.state.in_(LIVE_STATES),
               exists().where(Delivery.subscription_id == Subscription.id, _due(now)))
        .order_by(Subscription.id))
    return [r.id for r in rows
            if period_label(r.mode, r.last_digest_at or r.created_at) != period_label(r.mode, now)]


def claim_digest(session: Session, subscription_id: int, *, now: datetime,
                 lease: timedelta = DEFAULT_LEASE) -> list[Claim]:
    """Take one digest's deliveries; all carry the same ``digest_key``.

    A digest that failed or whose sender crashed is retried as it was (same key, same
    items); otherwise every pending delivery joins a new digest keyed by the period.
    """
    now = as_utc(now)
    sub = session.get(Subscription, subscription_id)
    if sub is None:
        return []
    retry = and_(Delivery.subscription_id == subscription_id, Delivery.digest_key.is_not(None), _due(now))
    claims = _claim(session, retry, now=now, lease=lease, limit=None)
    if claims:
        return claims
    key = f"digest:{subscription_id}:{period_label(sub.mode, now)}"
    # One digest per key: rows arriving after this period's digest wait for the next one.
    taken = exists().where(Delivery.subscription_id == subscription_id, Delivery.digest_key == key)
    fresh = and_(Delivery.subscription_id == subscription_id, Delivery.digest_key.is_(None),
                 _due(now), ~taken)
    return _claim(session, fresh, now=now, lease=lease, limit=None, extra={"digest_key": key})


def _record(session: Session, claim: Claim, **values: Any) -> bool:
    """Write a claimed delivery's outcome; False when a newer claim has taken it over."""
    stmt = (update(Delivery).where(Delivery.id == claim.delivery_id, Delivery.status == "sending",
                                   Delivery.attempts == claim.attempt)
            .values(**values).execution_options(synchronize_session=False))
    # Session.execute is typed as returning Result; for a DML statement it is a
    # CursorResult, the documented way to read rowcount.
    result = cast(CursorResult[Any], session.execute(stmt))
    return bool(result.rowcount)


def mark_sent(session: Session, claims: Sequence[Claim], *, now: datetime, digest: bool = False) -> int:
    """Record success; returns rows recorded (a claim lost to a newer one is skipped)."""
    now = as_utc(now)
    done = 0
    for claim in claims:
        done += _record(session, claim, status="sent", sent_at=now, next_attempt_at=None, last_error=None)
    for sub_id in {c.subscription_id for c in claims}:
        values: dict[str, Any] = {"state": "active"}
        if digest:
            values["last_digest_at"] = now
        session.execute(update(Subscription).where(Subscription.id == sub_id,
                                                   Subscription.state != "paused")
                        .values(**values).execution_options(synchronize_session=False))
    return done


def mark_failed(session: Session, claims: Sequence[Claim], *, now: datetime, error: str,
                backoff_base: float, max_attempts: int) -> int:
    """Record a failed attempt: retry after ``backoff_base·2^(attempt-1)`` s, or give up.

    Returns how many deliveries went ``dead``; their subscriptions are flagged ``failing``
    so ``alerts log`` and ``subscriptions list`` show them.
    """
    now = as_utc(now)
    dead = 0
    for claim in claims:
        give_up = claim.attempt >= max_attempts
        delay = min(timedelta(seconds=backoff_base * 2 ** max(claim.attempt - 1, 0)), MAX_BACKOFF)
        recorded = _record(session, claim, status="dead" if give_up else "failed",
                           next_attempt_at=None if give_up else now + delay, last_error=error[:2000])
        if give_up and recorded:
            dead += 1
            session.execute(update(Subscription).where(Subscription.id == claim.subscription_id)
                            .values(state="failing").execution_options(synchronize_session=False))
    return dead
