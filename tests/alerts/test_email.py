"""E-mail alerts through a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from noticewatch.config import Settings
from noticewatch.store import Store, open_store
from pipeline.alerts.sender import send_due
from storage import alerts
from tests.alerts.conftest import NOW, add_site, make_settings, publish


def _part(msg: EmailMessage, subtype: str) -> str:
    body = msg.get_body(preferencelist=(subtype,))
    assert body is not None and body.get_content_type() == f"text/{subtype}"
    return str(body.get_content())


@contextmanager
def _subscribed_store(settings: Settings, **subscription: Any) -> Iterator[Store]:
    """A store holding the test site and one subscription; closed on the way out."""
    store = open_store(settings)
    try:
        add_site(store)
        with store.factory.begin() as session:
            alerts.create_subscription(session, now=NOW, **subscription)
        yield store
    finally:
        store.close()


def test_instant_email_with_chinese_subject_and_both_links(tmp_path: Path, smtp_server) -> None:
    port, inbox = smtp_server
    settings = make_settings(tmp_path, smtp_port=port)
    with _subscribed_store(settings, name="土地", channel_url="mailto:reporter@example.cn",
                           filters={"any": ["土地"]}) as store:
        publish(store, "a", "关于<script>alert(1)</script>土地征收的公告", published_at="2024-05-05",
                doc_no="马政〔2024〕12号")
        publish(store, "b", "无关公告")
        report = send_due(store, settings, now=NOW)

    assert report.sent == 1 and report.failed == 0
    assert len(inbox.messages) == 1
    msg = inbox.messages[0]
    headers = inbox.raw[0].split(b"\r\n\r\n", 1)[0]
    subject = re.search(rb"^Subject:(.*(?:\r\n[ \t].*)*)", headers, re.MULTILINE | re.IGNORECASE)
    assert subject is not None
    assert subject.group(1).isascii() and b"=?utf-8?" in subject.group(1).lower()  # RFC 2047 on the wire
    assert str(msg["Subject"]) == "[福州市马尾区人民政府] 新发布：关于<script>alert(1)</script>土地征收的公告"
    assert inbox.envelopes[0] == ("alerts@noticewatch.test", ["reporter@example.cn"])
    key = msg["X-Noticewatch-Idempotency-Key"]
    assert key and msg["Message-ID"] == f"<{key}@noticewatch.test>"

    text = _part(msg, "plain")
    html = _part(msg, "html")
    live = "http://www.mawei.gov.cn/art/a.html"
    assert live in text and "http://archive.example/notices/1" in text
    assert "马政〔2024〕12号" in text
    assert f'href="{live}"' in html and 'href="http://archive.example/notices/1"' in html
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_daily_digest_is_one_message_per_period(tmp_path: Path, smtp_server) -> None:
    port, inbox = smtp_server
    settings = make_settings(tmp_path, smtp_port=port)
    with _subscribed_store(settings, name="daily", channel_url="mailto:d@example.cn",
                           mode="daily") as store:
        publish(store, "a", "第一条公告")
        publish(store, "b", "第二条公告")
        assert send_due(store, settings, now=NOW).sent == 0  # same day it was created
        next_day = NOW + timedelta(days=1)
        first = send_due(store, settings, now=next_day)
        publish(store, "c", "第三条公告")
        again = send_due(store, settings, now=next_day + timedelta(hours=1))  # same period
        later = send_due(store, settings, now=next_day + timedelta(days=1))
    assert (first.digests, again.digests, later.digests) == (1, 0, 1)
    assert len(inbox.messages) == 2
    first_text = _part(inbox.messages[0], "plain")
    assert "第一条公告" in first_text and "第二条公告" in first_text and "第三条公告" not in first_text
    assert "2024-05-07" in str(inbox.messages[0]["Subject"])
    assert "第三条公告" in _part(inbox.messages[1], "plain")
    assert inbox.messages[0]["Message-ID"] != inbox.messages[1]["Message-ID"]
