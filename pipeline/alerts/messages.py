"""Alert messages: one subject, a plain-text and an HTML body, a JSON payload.

Everything taken from a crawled page (titles, diffs, names) is data: the HTML body
escapes it, so a notice titled ``<script>`` cannot inject markup into an e-mail.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from typing import Any

from noticewatch.timefmt import cst, iso_cst
from storage.alert_items import AlertItem, Change

__all__ = ["KIND_LABELS", "AlertMessage", "archive_url", "digest_message", "instant_message", "item_html", "item_text",
           "sample_item", "sample_message", "web_link"]

_WEB_URL = re.compile(r"https?://[^\x00-\x20\x7f]+", re.I)
KIND_LABELS = {"new": "新发布", "changed": "已更新", "withdrawn": "已撤回"}
_ATTACHMENT_VERBS = {"added": "新增", "removed": "删除", "replaced": "替换"}


@dataclass(frozen=True)
class AlertMessage:
    kind: str  # alert, digest, test
    subject: str
    text: str
    html: str
    idempotency_key: str
    payload: dict[str, Any] = field(default_factory=dict)


def archive_url(base_url: str, notice_id: int) -> str:
    return f"{base_url.rstrip('/')}/notices/{notice_id}"


def _item_payload(item: AlertItem, base_url: str) -> dict[str, Any]:
    return {
        "event_id": item.event_id,
        "kind": item.kind,
        "created_at": iso_cst(item.created_at),
        "notice": {
            "id": item.notice_id, "site": item.site_key, "site_name": item.site_name,
            "title": item.title, "url": item.url, "status": item.status,
            "published_at": item.published_at, "issuing_org": item.issuing_org,
            "doc_no": item.doc_no, "version": item.version, "columns": list(item.columns),
        },
        "links": {"live": item.url, "archive": archive_url(base_url, item.notice_id)},
        "changes": [{"field": c.field, "change": c.change, "old": c.old, "new": c.new}
                    for c in item.changes],
    }


def _change_text(change: Change) -> str:
    if change.field == "body_text":
        return "正文有改动"
    if change.field == "attachment":
        verb = _ATTACHMENT_VERBS.get(change.change, change.change)
        return f"附件{verb}：{change.new or change.old}"
    return f"{change.field}：{change.old or '（空）'} → {change.new or '（空）'}"


def item_text(item: AlertItem, base_url: str) -> str:
    lines = [f"【{KIND_LABELS.get(item.kind, item.kind)}】{item.title}",
             f"网站：{item.site_name}" + (f" · {'、'.join(item.columns)}" if item.columns else "")]
    if item.published_at:
        lines.append(f"发布日期：{item.published_at}")
    if item.issuing_org:
        lines.append(f"发布机构：{item.issuing_org}")
    if item.doc_no:
        lines.append(f"文号：{item.doc_no}")
    lines.extend(f"  · {_change_text(c)}" for c in item.changes)
    lines.append(f"原文：{item.url}")
    lines.append(f"存档：{archive_url(base_url, item.notice_id)}")
    return "\n".join(lines)


def web_link(url: str) -> str:
    """The URL if it is plain http(s), else ``#``: a stored URL is site data, and a
    ``javascript:`` link in a mail client or feed reader is script."""
    return url if _WEB_URL.fullmatch(url or "") else "#"


def item_html(item: AlertItem, base_url: str) -> str:
    meta = [f"{escape(item.site_name)}" + (f" · {escape('、'.join(item.columns))}" if item.columns else "")]
    for label, value in (("发布日期", item.published_at), ("发布机构", item.issuing_org), ("文号", item.doc_no)):
        if value:
            meta.append(f"{label}：{escape(value)}")
    changes = "".join(f"<li>{escape(_change_text(c))}</li>" for c in item.changes)
    return (
        f"<h3>【{escape(KIND_LABELS.get(item.kind, item.kind))}】{escape(item.title)}</h3>"
        f"<p>{'<br>'.join(meta)}</p>"
        + (f"<ul>{changes}</ul>" if changes else "")
        + f'<p><a href="{escape(web_link(item.url), quote=True)}">原文</a> · '
        f'<a href="{escape(archive_url(base_url, item.notice_id), quote=True)}">存档副本</a></p>'
    )


def _html_page(title: str, parts: Sequence[str]) -> str:
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'</head><body>{"<hr>".join(parts)}<p style="color:#888">noticewatch</p></body></html>')


def instant_message(subscription_name: str, subscription_id: int, item: AlertItem, *, key: str,
                    base_url: str) -> AlertMessage:
    subject = f"[{item.site_name}] {KIND_LABELS.get(item.kind, item.kind)}：{item.title}"
    return AlertMessage(
        kind="alert", subject=subject, idempotency_key=key,
        text=item_text(item, base_url) + f"\n\n— 订阅：{subscription_name}\n",
        html=_html_page(subject, [item_html(item, base_url),
                                  f"<p>订阅：{escape(subscription_name)}</p>"]),
        payload={"type": "alert", "idempotency_key": key,
                 "subscription": {"id": subscription_id, "name": subscription_name},
                 "events": [_item_payload(item, base_url)]},
    )


def digest_message(subscription_name: str, subscription_id: int, items: Sequence[AlertItem], *,
                   key: str, period: str, base_url: str) -> AlertMessage:
    subject = f"noticewatch 摘要 {period}：{len(items)} 条（{subscription_name}）"
    return AlertMessage(
        kind="digest", subject=subject, idempotency_key=key,
        text="\n\n".join([subject, *(item_text(i, base_url) for i in items)]) + "\n",
        html=_html_page(subject, [f"<h2>{escape(subject)}</h2>", *(item_html(i, base_url) for i in items)]),
        payload={"type": "digest", "idempotency_key": key, "period": period,
                 "subscription": {"id": subscription_id, "name": subscription_name},
                 "events": [_item_payload(i, base_url) for i in items]},
    )


def sample_item(now: datetime | None = None) -> AlertItem:
    """A made-up notice for ``subscriptions test``."""
    return AlertItem(
        event_id=0, kind="new", created_at=now or datetime.now(UTC), notice_id=0,
        site_key="example", site_name="示例区人民政府", title="关于测试 noticewatch 提醒的通知",
        url="http://www.example.gov.cn/tzgg/202401/t20240101_1.html", status="active",
        published_at="2024-01-01", issuing_org="示例区人民政府办公室", doc_no="示政办〔2024〕1号",
        version=1, summary="这是一条测试提醒。", columns=("通知公告",))


def sample_message(subscription_name: str, subscription_id: int, *, base_url: str,
                 now: datetime | None = None) -> AlertMessage:
    now = now or datetime.now(UTC)
    key = "nw-test-" + hashlib.sha256(f"{subscription_id}:{now.isoformat()}".encode()).hexdigest()[:32]
    message = instant_message(subscription_name, subscription_id, sample_item(now), key=key,
                              base_url=base_url)
    return AlertMessage(kind="test", subject="[测试] " + message.subject + f"（{cst(now)}）",
                        text=message.text, html=message.html, idempotency_key=key,
                        payload={**message.payload, "type": "test"})
