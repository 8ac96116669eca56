"""Delivery channels, chosen by the subscription's channel URL.

* ``mailto:a@b.cn[,c@d.cn]`` — e-mail through the ``smtp_*`` settings;
  ``smtp://[user:password@]host[:port]/?to=a@b.cn`` (``smtps://`` for TLS) names the
  server in the URL instead (missing parts fall back to the settings).
* ``webhook+https://…`` (or a plain ``https://``/``http://`` URL) — JSON POST, signed.
* ``feed:`` — nothing is pushed; the subscription's Atom/RSS feed is the channel.
* anything else — handed to Apprise (``wecombot://``, ``dingtalk://``, ``feishu://``,
  ``tgram://``, ``ntfy://`` …).

Every push carries the delivery's idempotency key (``Idempotency-Key`` header, the
e-mail ``Message-ID``): a retry after a crash re-sends with the same key so receivers
can drop the duplicate.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from pipeline.alerts.messages import AlertMessage

if TYPE_CHECKING:
    from noticewatch.config import Settings

__all__ = ["Channel", "DeliveryError", "EmailChannel", "FeedChannel", "WebhookChannel",
           "AppriseChannel", "parse_channel", "sign_webhook"]

USER_AGENT = "noticewatch-alerts"


class DeliveryError(Exception):
    """The channel did not accept the message; the text says why (stored in the log)."""


class Channel(Protocol):
    @property
    def pushes(self) -> bool:
        """False for feeds: nothing to send."""
        ...

    def send(self, message: AlertMessage, *, secret: str | None) -> str:
        """Deliver or raise DeliveryError; returns a short description of what happened."""
        ...


# ── e-mail ─────────────────────────────────────────────────────────────────────────────

@dataclass(frozen=True)
class EmailChannel:
    to: tuple[str, ...]
    host: str
    port: int
    user: str
    password: str
    sender: str
    starttls: bool = False
    ssl: bool = False
    timeout: float = 30.0
    pushes: bool = True

    def build(self, message: AlertMessage) -> EmailMessage:
        # The SMTP policy writes CRLF lines and RFC 2047-encodes non-ASCII headers, so a
        # Chinese subject survives any mail server (SMTPUTF8 is not assumed).
        msg = EmailMessage(policy=SMTP_POLICY)
        msg["Subject"] = message.subject
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.to)
        msg["Date"] = formatdate(localtime=False)
        domain = self.sender.rpartition("@")[2].strip(">") or "noticewatch.invalid"
        msg["Message-ID"] = f"<{message.idempotency_key}@{domain}>"
        msg["X-Noticewatch-Idempotency-Key"] = message.idempotency_key
        msg.set_content(message.text, charset="utf-8")
        msg.add_alternative(message.html, subtype="html", charset="utf-8")
        return msg

    def send(self, message: AlertMessage, *, secret: str | None) -> str:
        del secret
        if not self.host:
            raise DeliveryError("no SMTP server: set smtp_host (or use an smtp:// channel URL)")
        if not self.sender:
            raise DeliveryError("no sender address: set smtp_from")
        msg = self.build(message)
        try:
            smtp_class = smtplib.SMTP_SSL if self.ssl else smtplib.SMTP
            with smtp_class(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls and not self.ssl:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password)
                refused = smtp.send_message(msg, from_addr=self.sender, to_addrs=list(self.to))
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"smtp {self.host}:{self.port}: {exc}") from exc
        if refused:
            raise DeliveryError(f"smtp refused recipients: {', '.join(sorted(refused))}")
        return f"mailed {', '.join(self.to)}"


def _email_channel(url: str, settings: Settings) -> EmailChannel:
    parts = urlsplit(url)
    base: dict[str, Any] = {"host": settings.smtp_host, "port": settings.smtp_port, "user": settings.smtp_user,
            "password": settings.smtp_password, "sender": settings.smtp_from,
            "starttls": settings.smtp_starttls, "ssl": settings.smtp_ssl,
            "timeout": settings.webhook_timeout * 3}
    if parts.scheme == "mailto":
        to = tuple(a.strip() for a in unquote(parts.path).split(",") if a.strip())
        if not to or any("@" not in a for a in to):
            raise ValueError(f"mailto: needs e-mail addresses, got {url!r}")
        return EmailChannel(to=to, **base)
    query = parse_qs(parts.query)
    to = tuple(a.strip() for v in query.get("to", []) for a in v.split(",") if a.strip())
    if not to:
        raise ValueError("smtp:// channel needs ?to=address")
    ssl = parts.scheme == "smtps"
    base.update(host=parts.hostname or base["host"],
                port=parts.port or (465 if ssl else base["port"]),
                user=unquote(parts.username) if parts.username else base["user"],
                password=unquote(parts.password) if parts.password else base["password"],
                sender=query.get("from", [base["sender"]])[0], ssl=ssl or base["ssl"])
    if "starttls" in query:
        base["starttls"] = query["starttls"][0].lower() in ("1", "true", "yes")
    return EmailChannel(to=to, **base)


# ── webhooks ───────────────────────────────────────────────────────────────────────────

def sign_webhook(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` HMAC-SHA256 over ``"<timestamp>.<body>"``: receivers recompute it
    and reject stale timestamps, so a captured request cannot be replayed later."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


@dataclass(frozen=True)
class WebhookChannel:
    url: str
    timeout: float = 10.0
    pushes: bool = True

    def request(self, message: AlertMessage, *, secret: str | None,
                timestamp: str | None = None) -> urllib.request.Request:
        body = json.dumps(message.payload, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = timestamp or str(int(time.time()))
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
                   "Idempotency-Key": message.idempotency_key, "X-Noticewatch-Timestamp": timestamp,
                   "X-Noticewatch-Event": message.kind}
        if secret:
            headers["X-Noticewatch-Signature"] = sign_webhook(secret, timestamp, body)
        return urllib.request.Request(self.url, data=body, headers=headers, method="POST")

    def send(self, message: AlertMessage, *, secret: str | None) -> str:
        req = self.request(message, secret=secret)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 (http/https only)
                status = resp.status
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"webhook answered HTTP {exc.code}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise DeliveryError(f"webhook unreachable: {getattr(exc, 'reason', exc)}") from exc
        if not 200 <= status < 300:
            raise DeliveryError(f"webhook answered HTTP {status}")
        return f"webhook HTTP {status}"


# ── feeds and Apprise ──────────────────────────────────────────────────────────────────

@dataclass(frozen=True)
class FeedChannel:
    pushes: bool = False

    def send(self, message: AlertMessage, *, secret: str | None) -> str:
        return "published in the subscription feed"


@dataclass(frozen=True)
class AppriseChannel:
    url: str
    pushes: bool = True

    def send(self, message: AlertMessage, *, secret: str | None) -> str:
        import apprise  # heavy import (hundreds of plugins): only when a chat channel is used

        client = apprise.Apprise()
        if not client.add(self.url):
            raise DeliveryError("Apprise does not understand this channel URL")
        # Chat services have no idempotency header: the key goes at the end of the text.
        body = f"{message.text}\n[{message.idempotency_key}]"
        with apprise.LogCapture(level=apprise.logging.WARNING, fmt="%(message)s") as log:
            ok = client.notify(body=body, title=message.subject, body_format=apprise.NotifyFormat.TEXT)
        if not ok:
            detail = log.getvalue().strip().splitlines()
            raise DeliveryError("apprise: " + (detail[-1] if detail else "notification failed"))
        return f"sent via {self.url.split(':', 1)[0]}"


def _redact(url: str) -> str:
    return url.split("://", 1)[0] + "://…" if "://" in url else url


def parse_channel(url: str, settings: Settings) -> Channel:
    """The channel for a subscription URL; raises ValueError when it cannot be used."""
    url = url.strip()
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if not scheme:
        raise ValueError(f"channel {url!r} has no scheme (mailto:, webhook+https://, feed:, …)")
    if scheme in ("mailto", "smtp", "smtps"):
        return _email_channel(url, settings)
    if scheme in ("webhook+https", "webhook+http", "https", "http"):
        target = url.split("+", 1)[1] if scheme.startswith("webhook+") else url
        if not urlsplit(target).hostname:
            raise ValueError(f"webhook URL {target!r} has no host")
        return WebhookChannel(url=target, timeout=settings.webhook_timeout)
    if scheme == "feed":
        return FeedChannel()
    import apprise

    if not apprise.Apprise().add(url):
        raise ValueError(f"channel {_redact(url)}: unknown scheme {scheme!r} (not e-mail, webhook, "
                         "feed or an Apprise URL)")
    return AppriseChannel(url=url)
