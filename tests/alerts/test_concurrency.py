"""Two senders at once (threads, each with its own sessions) never deliver twice."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from noticewatch.config import Settings
from noticewatch.store import Store, open_store
from pipeline.alerts.sender import SendReport, send_due
from storage import alerts
from tests.alerts.conftest import NOW, WebhookReceiver, add_site, make_settings, publish
from tests.pg import create_temp_database, drop_database, require_pg


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Settings, Store]]:
    url = ""
    if request.param == "postgresql":
        require_pg()
        url = create_temp_database("nw_alerts")
    settings = make_settings(tmp_path, database_url=url)
    store = open_store(settings)
    try:
        yield settings, store
    finally:
        store.close()
        if url:
            drop_database(url)


def test_two_senders_never_deliver_one_event_twice(backend: tuple[Settings, Store],
                                                   webhook: WebhookReceiver) -> None:
    settings, store = backend
    add_site(store)
    with store.factory.begin() as session:
        for name in ("one", "two"):
            sub = alerts.create_subscription(session, name=name, channel_url=f"{webhook.url}/{name}", now=NOW)
            webhook.secrets[f"/{name}"] = sub.secret or ""
    for i in range(30):
        publish(store, f"n{i}", f"公告 {i}")

    start = threading.Barrier(2)
    reports: list[SendReport] = []
    errors: list[BaseException] = []

    def sender(worker: str) -> None:
        try:
            start.wait()
            reports.append(send_due(store, settings, now=NOW, worker=worker, batch=5))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=sender, args=(f"w{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    counts = Counter(webhook.keys())
    assert len(counts) == 60 and set(counts.values()) == {1}
    assert sum(r.sent for r in reports) == 60
    assert sum(r.fanned_out for r in reports) == 60  # each event fanned out once
    assert all(r["verified"] for r in webhook.received)
