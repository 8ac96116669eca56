"""Alert fixtures: a store with a site past its baseline, and REAL peers on loopback —
an aiosmtpd SMTP server and an HTTP webhook receiver that verifies signatures."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from noticewatch.config import Settings, load_settings
from noticewatch.store import Store, open_store
from storage import notices, sites
from storage.records import AttachmentRecord, NoticeGone, NoticeRecord, StoredBlob

SITE = "mawei"
SITE_BASE = "http://www.mawei.gov.cn/"
COLUMN = "http://www.mawei.gov.cn/xxgk/tzgg/"
NOW = datetime(2024, 5, 6, 2, 0, tzinfo=UTC)  # 10:00 in China


# ── peers ──────────────────────────────────────────────────────────────────────────────

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Collect:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.raw: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd hook)
        msg = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        self.raw.append(envelope.original_content)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, _Collect]]:
    handler = _Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, handler
    finally:
        controller.stop()


@dataclass
class WebhookReceiver:
    """Records every POST; ``fail_next`` makes the next N answer 500."""

    url: str
    secrets: dict[str, str] = field(default_factory=dict)  # path → subscription secret
    received: list[dict[str, Any]] = field(default_factory=list)
    fail_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def keys(self) -> list[str]:
        return [r["key"] for r in self.received]

    def accepted(self) -> list[dict[str, Any]]:
        return [r for r in self.received if r["status"] == 200]


def _handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server hook)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            timestamp = self.headers.get("X-Noticewatch-Timestamp", "")
            secret = receiver.secrets.get(self.path, "")
            expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body,
                                            hashlib.sha256).hexdigest()
            verified = hmac.compare_digest(expected, self.headers.get("X-Noticewatch-Signature", ""))
            with receiver.lock:
                signed = self.path in receiver.secrets  # other paths play a plain server (ntfy)
                status = 500 if receiver.fail_next > 0 else (200 if verified or not signed else 401)
                receiver.fail_next = max(receiver.fail_next - 1, 0)
                receiver.received.append({
                    "path": self.path, "key": self.headers.get("Idempotency-Key"), "verified": verified,
                    "status": status, "payload": json.loads(body), "headers": dict(self.headers)})
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            return

    return Handler


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(WebhookReceiver(url="")))
    receiver = WebhookReceiver(url=f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler(receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


# ── archive ────────────────────────────────────────────────────────────────────────────

def make_settings(tmp_path: Path, *, smtp_port: int = 25, database_url: str = "", **extra: str) -> Settings:
    env = {"NOTICEWATCH_DATA_DIR": str(tmp_path / "data"), "NOTICEWATCH_SMTP_HOST": "127.0.0.1",
           "NOTICEWATCH_SMTP_PORT": str(smtp_port), "NOTICEWATCH_SMTP_FROM": "alerts@noticewatch.test",
           "NOTICEWATCH_ALERT_MAX_ATTEMPTS": "3", "NOTICEWATCH_ALERT_BACKOFF_BASE": "60",
           "NOTICEWATCH_PUBLIC_BASE_URL": "http://archive.example", "NOTICEWATCH_WEBHOOK_TIMEOUT": "5"}
    if database_url:
        env["NOTICEWATCH_DATABASE_URL"] = database_url
    env.update({f"NOTICEWATCH_{k.upper()}": v for k, v in extra.items()})
    return load_settings(env=env, cwd=tmp_path)


def add_site(store: Store, *, key: str = SITE, baseline: bool = True) -> None:
    with store.factory.begin() as session:
        sites.sync_sites(session, [{"key": key, "name": "福州市马尾区人民政府" if key == SITE else key,
                                    "base_url": SITE_BASE if key == SITE else f"http://www.{key}.gov.cn/",
                                    "family": "generic",
                                    "columns": [{"url": COLUMN, "name": "通知公告"}] if key == SITE else []}])
        if baseline:
            sites.mark_baseline(session, key, at=datetime(2024, 1, 1, tzinfo=UTC))


def publish(store: Store, slug: str, title: str, body: str = "正文。", *, site: str = SITE,
            attachment_text: str | None = None, **fields: Any) -> int:
    """Store a notice (new or a new version); returns the outbox event id."""
    url = f"{SITE_BASE if site == SITE else f'http://www.{site}.gov.cn/'}art/{slug}.html"
    attachments = []
    if attachment_text is not None:
        sha = hashlib.sha256(attachment_text.encode()).hexdigest()
        attachments.append(AttachmentRecord(url=url + ".pdf", name="附件.pdf", blob=StoredBlob(
            sha256=sha, size=len(attachment_text), media_type="application/pdf",
            path=f"blobs/{sha}", text=attachment_text)))
    record = NoticeRecord(site_key=site, column_urls=[COLUMN] if site == SITE else [], url=url,
                          canonical_url=url, title=title, body_text=body, body_html=f"<p>{body}</p>",
                          attachments=attachments, **fields)
    with store.factory.begin() as session:
        outcome = notices.apply_notice(session, record)
    assert outcome.event_id is not None
    return outcome.event_id


def withdraw(store: Store, slug: str) -> int:
    with store.factory.begin() as session:
        outcome = notices.mark_gone(session, NoticeGone(site_key=SITE, canonical_url=f"{SITE_BASE}art/{slug}.html",
                                                        reason="404"))
    assert outcome is not None and outcome.event_id is not None
    return outcome.event_id


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    store = open_store(settings)
    add_site(store)
    yield store
    store.close()
