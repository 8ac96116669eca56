"""``send_due``: fan out the outbox, deliver instant alerts, send digests that are due.

Each step is its own short transaction: a claim is committed before the channel is
called, and each result is recorded right after its call, so a crash loses at most the
record of one send. That send is then repeated once its lease runs out, with the same
idempotency key (at-least-once delivery; receivers dedupe on the key).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pipeline.alerts.channels import Channel, DeliveryError, parse_channel
from pipeline.alerts.messages import AlertMessage, digest_message, instant_message
from storage import alerts
from storage.alert_items import load_alert_items
from storage.clock import as_utc, utcnow
from storage.models import Subscription

if TYPE_CHECKING:
    from noticewatch.config import Settings
    from noticewatch.store import Store

__all__ = ["SendReport", "send_due"]

log = logging.getLogger(__name__)

# Called after a channel accepted a message and before the result is recorded; tests
# raise from it to simulate a crash at the worst moment.
AfterSend = Callable[[Sequence[alerts.Claim]], None]


@dataclass
class SendReport:
    fanned_out: int = 0
    sent: int = 0  # messages accepted by a channel (a digest counts once)
    failed: int = 0  # attempts that failed and will be retried
    dead: int = 0  # deliveries given up on
    digests: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"fanned out {self.fanned_out}, sent {self.sent} (digests {self.digests}), "
                f"failed {self.failed}, given up {self.dead}")


@dataclass
class _Subscriber:
    id: int
    name: str
    mode: str
    secret: str | None
    channel: Channel | None
    problem: str | None  # channel URL that cannot be used: every attempt fails with it


def _subscriber(store: Store, settings: Settings, sub_id: int,
                cache: dict[int, _Subscriber]) -> _Subscriber | None:
    if sub_id in cache:
        return cache[sub_id]
    with store.factory() as session:
        sub = session.get(Subscription, sub_id)
        if sub is None:
            return None
        channel: Channel | None = None
        problem: str | None = None
        try:
            channel = parse_channel(sub.channel_url, settings)
        except ValueError as exc:
            problem = str(exc)
        cache[sub_id] = _Subscriber(sub.id, sub.name, sub.mode, sub.secret, channel, problem)
    return cache[sub_id]


def _deliver(store: Store, settings: Settings, subscriber: _Subscriber,
             claims: Sequence[alerts.Claim], message: AlertMessage | None, *, now: datetime,
             report: SendReport, after_send: AfterSend | None, digest: bool = False) -> None:
    error = subscriber.problem
    if message is None:
        error = error or "the notice of this alert is gone"
    if error is None and subscriber.channel is not None and message is not None:
        try:
            subscriber.channel.send(message, secret=subscriber.secret)
        except DeliveryError as exc:
            error = str(exc)
        except Exception as exc:  # a channel bug must not stop the other deliveries
            log.exception("channel failed for subscription %s", subscriber.name)
            error = f"{type(exc).__name__}: {exc}"
    if error is None and after_send is not None:
        after_send(claims)
    with store.factory.begin() as session:
        if error is None:
            alerts.mark_sent(session, claims, now=now, digest=digest)
            report.sent += 1
            report.digests += int(digest)
            return
        dead = alerts.mark_failed(session, claims, now=now, error=error,
                                  backoff_base=settings.alert_backoff_base,
                                  max_attempts=settings.alert_max_attempts)
    report.failed += len(claims) - dead
    report.dead += dead
    report.errors.append(f"{subscriber.name}: {error}")
    log.warning("alert to %s failed: %s", subscriber.name, error)


def send_due(store: Store, settings: Settings, *, now: datetime | None = None,
             worker: str | None = None, batch: int = 50, lease: timedelta = alerts.DEFAULT_LEASE,
             after_send: AfterSend | None = None) -> SendReport:
    """Deliver everything due at ``now``; safe to run from several processes at once."""
    now = as_utc(now) if now is not None else utcnow()
    worker = worker or f"{socket.gethostname()}:{os.getpid()}"
    report = SendReport()
    base_url = settings.public_base_url
    with store.factory.begin() as session:
        report.fanned_out = alerts.fan_out(session, now=now)
    cache: dict[int, _Subscriber] = {}

    # Instant alerts. Claimed rows leave the due set (sent, retried later or leased),
    # so the loop ends even when every channel fails.
    while True:
        with store.factory.begin() as session:
            claims = alerts.claim_due(session, now=now, limit=batch, worker=worker, lease=lease)
        if not claims:
            break
        with store.factory() as session:
            items = load_alert_items(session, [c.event_id for c in claims])
        for claim in claims:
            subscriber = _subscriber(store, settings, claim.subscription_id, cache)
            if subscriber is None:
                continue
            item = items.get(claim.event_id)
            message = None if item is None else instant_message(
                subscriber.name, subscriber.id, item, key=claim.idempotency_key, base_url=base_url)
            _deliver(store, settings, subscriber, [claim], message, now=now, report=report,
                     after_send=after_send)

    # Digests: one message per subscription and period.
    with store.factory() as session:
        due = alerts.due_digest_subscriptions(session, now=now)
    for sub_id in due:
        with store.factory.begin() as session:
            claims = alerts.claim_digest(session, sub_id, now=now, lease=lease)
        subscriber = _subscriber(store, settings, sub_id, cache)
        if not claims or subscriber is None:
            continue
        with store.factory() as session:
            items = load_alert_items(session, [c.event_id for c in claims])
        digest_key = claims[0].digest_key or f"digest:{sub_id}"
        period = digest_key.rsplit(":", 1)[-1]
        ordered = [items[c.event_id] for c in claims if c.event_id in items]
        message = digest_message(subscriber.name, sub_id, ordered, period=period, base_url=base_url,
                                 key=alerts.digest_idempotency_key(digest_key)) if ordered else None
        _deliver(store, settings, subscriber, claims, message, now=now, report=report,
                 after_send=after_send, digest=True)
    return report
