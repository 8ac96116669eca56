"""Webhooks and Apprise against a local receiver; retries, dead letters, crash recovery."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import select

from noticewatch.config import Settings
from noticewatch.store import Store
from pipeline.alerts.channels import sign_webhook
from pipeline.alerts.sender import send_due
from storage import alerts
from storage.models import Delivery, Subscription
from tests.alerts.conftest import NOW, WebhookReceiver, publish


def _hook(store: Store, webhook: WebhookReceiver, name: str = "hook", **filters: object) -> int:
    path = f"/hooks/{name}"
    with store.factory.begin() as session:
        sub = alerts.create_subscription(session, name=name, channel_url=f"webhook+{webhook.url}{path}",
                                         filters=filters, now=NOW)
        webhook.secrets[path] = sub.secret or ""
        return sub.id


def test_signed_json_with_idempotency_key(store: Store, settings: Settings, webhook: WebhookReceiver) -> None:
    sub_id = _hook(store, webhook)
    event = publish(store, "a", "关于公布土地征收补偿标准的通知", issuing_org="马尾区人民政府")
    publish(store, "a", "关于公布土地征收补偿标准的通知（修订）", issuing_org="马尾区人民政府")
    report = send_due(store, settings, now=NOW)
    assert report.sent == 2 and report.failed == 0
    assert [r["verified"] for r in webhook.received] == [True, True]
    first, second = (r["payload"] for r in webhook.received)
    assert first["type"] == "alert" and first["events"][0]["kind"] == "new"
    assert first["events"][0]["event_id"] == event
    assert first["events"][0]["links"] == {"live": "http://www.mawei.gov.cn/art/a.html",
                                           "archive": "http://archive.example/notices/1"}
    assert second["events"][0]["kind"] == "changed"
    assert {"field": "title", "change": "changed", "old": "关于公布土地征收补偿标准的通知",
            "new": "关于公布土地征收补偿标准的通知（修订）"} in second["events"][0]["changes"]
    assert webhook.keys()[0] == alerts.idempotency_key(event, sub_id) == first["idempotency_key"]


def test_signature_covers_timestamp_and_body() -> None:
    sig = sign_webhook("s3cret", "1700000000", b'{"a":1}')
    assert sig == sign_webhook("s3cret", "1700000000", b'{"a":1}')
    assert sig != sign_webhook("s3cret", "1700000001", b'{"a":1}')
    assert sig != sign_webhook("other", "1700000000", b'{"a":1}')


def test_rerunning_send_due_sends_nothing_twice(store: Store, settings: Settings,
                                                webhook: WebhookReceiver) -> None:
    _hook(store, webhook)
    publish(store, "a", "公告一")
    publish(store, "b", "公告二")
    assert send_due(store, settings, now=NOW).sent == 2
    assert send_due(store, settings, now=NOW).sent == 0
    assert send_due(store, settings, now=NOW + timedelta(days=2)).sent == 0
    assert len(webhook.received) == 2 and len(set(webhook.keys())) == 2


def test_failures_back_off_then_give_up_and_flag_the_subscription(
        store: Store, settings: Settings, webhook: WebhookReceiver) -> None:
    sub_id = _hook(store, webhook)
    publish(store, "a", "公告")
    webhook.fail_next = 10
    first = send_due(store, settings, now=NOW)
    assert (first.sent, first.failed, first.dead) == (0, 1, 0)
    assert send_due(store, settings, now=NOW + timedelta(seconds=59)).failed == 0  # backing off
    second = send_due(store, settings, now=NOW + timedelta(seconds=60))
    assert second.failed == 1
    assert send_due(store, settings, now=NOW + timedelta(seconds=60 + 119)).failed == 0  # doubled
    third = send_due(store, settings, now=NOW + timedelta(seconds=180))
    assert (third.failed, third.dead) == (0, 1)  # max attempts (3) reached
    assert send_due(store, settings, now=NOW + timedelta(days=1)).failed == 0  # dead stays dead
    assert len(webhook.received) == 3 and len(set(webhook.keys())) == 1  # same key each time
    with store.factory() as session:
        delivery = session.scalar(select(Delivery))
        assert delivery is not None and delivery.status == "dead" and delivery.attempts == 3
        assert delivery.last_error == "webhook answered HTTP 500"
        sub = session.get(Subscription, sub_id)
        assert sub is not None and sub.state == "failing"
        assert [r.status for r in alerts.delivery_log(session, failed_only=True)] == ["dead"]
    # The channel recovers: new alerts flow and the flag clears; the dead letter stays logged.
    webhook.fail_next = 0
    publish(store, "b", "另一条公告")
    assert send_due(store, settings, now=NOW + timedelta(days=1, seconds=1)).sent == 1
    with store.factory() as session:
        recovered = session.get(Subscription, sub_id)
        assert recovered is not None and recovered.state == "active"
        assert len(alerts.delivery_log(session, failed_only=True)) == 1


def test_crash_between_send_and_record_resends_with_the_same_key(
        store: Store, settings: Settings, webhook: WebhookReceiver) -> None:
    _hook(store, webhook)
    publish(store, "a", "公告")

    def crash(claims: Sequence[alerts.Claim]) -> None:
        raise SystemExit("killed after the channel call, before mark_sent")

    with pytest.raises(SystemExit):
        send_due(store, settings, now=NOW, after_send=crash)
    assert len(webhook.accepted()) == 1
    # Within the lease nobody touches it (the first sender might still be recording).
    assert send_due(store, settings, now=NOW + timedelta(minutes=5)).sent == 0
    retry = send_due(store, settings, now=NOW + alerts.DEFAULT_LEASE + timedelta(seconds=1))
    assert retry.sent == 1
    keys = [r["key"] for r in webhook.accepted()]
    assert len(keys) == 2 and keys[0] == keys[1]  # the receiver can drop the duplicate
    assert send_due(store, settings, now=NOW + timedelta(days=1)).sent == 0


def test_apprise_channel_reaches_an_ntfy_server(store: Store, settings: Settings,
                                                webhook: WebhookReceiver) -> None:
    # Apprise's ntfy plugin POSTs JSON to the server given in the URL: our receiver.
    port = webhook.url.rsplit(":", 1)[1]
    with store.factory.begin() as session:
        alerts.create_subscription(session, name="ntfy", channel_url=f"ntfy://127.0.0.1:{port}/notices",
                                   now=NOW)
    publish(store, "a", "关于开展消防检查的通知")
    report = send_due(store, settings, now=NOW)
    assert report.sent == 1, report.errors
    assert len(webhook.received) == 1
    payload = webhook.received[0]["payload"]
    assert "关于开展消防检查的通知" in payload["title"]
    assert "http://archive.example/notices/1" in payload["message"]
