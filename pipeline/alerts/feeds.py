"""Atom and RSS feeds: per site (every event) and per subscription (its matches).

One entry per event, so an edit or a withdrawal shows up as its own item. Entries link
to the live page and, as ``related``, to the archived copy. A subscription's feed
URL carries its secret as a token (saved searches are private).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from feedgen.feed import FeedGenerator
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.alerts.messages import KIND_LABELS, archive_url, item_html, item_text, web_link
from storage.alert_items import AlertItem, load_alert_items, recent_events
from storage.models import Site, Subscription

if TYPE_CHECKING:
    from noticewatch.store import Store

__all__ = ["FeedKind", "FeedNotFound", "build_feed", "feed_path", "write_static_feeds"]

FeedKind = Literal["atom", "rss"]
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_ATOM = "http://www.w3.org/2005/Atom"


class FeedNotFound(LookupError):
    pass


def feed_path(*, site_key: str | None = None, subscription: Subscription | None = None,
              kind: FeedKind = "atom") -> str:
    """Path of a feed under the web app (and under a static output directory)."""
    if site_key is not None:
        return f"feeds/site/{site_key}.{kind}"
    assert subscription is not None
    return f"feeds/subscription/{subscription.id}.{kind}?token={subscription.secret or ''}"


def _fill(fg: FeedGenerator, items: Sequence[AlertItem], base_url: str) -> None:
    for item in items:  # newest first, as read from the store
        entry = fg.add_entry(order="append")
        entry.id(f"{base_url.rstrip('/')}/events/{item.event_id}")
        entry.guid(f"noticewatch-event-{item.event_id}", permalink=False)
        entry.title(f"【{KIND_LABELS.get(item.kind, item.kind)}】{item.title}")
        entry.link(href=web_link(item.url), rel="alternate")
        entry.link(href=archive_url(base_url, item.notice_id), rel="related", title="存档副本")
        entry.published(item.created_at)
        entry.updated(item.created_at)
        entry.author({"name": item.site_name})
        # Escaped and typed html: RSS readers render <description> as HTML, so plain text
        # holding "<script>" would be markup there.
        entry.summary(escape(item_text(item, base_url)), type="html")
        entry.content(item_html(item, base_url), type="html")


def build_feed(session: Session, *, site_key: str | None = None, subscription_id: int | None = None,
               kind: FeedKind = "atom", base_url: str = "http://127.0.0.1:8080", limit: int = 50) -> bytes:
    """The feed document; raises FeedNotFound for an unknown site or subscription."""
    if (site_key is None) == (subscription_id is None):
        raise ValueError("give exactly one of site_key and subscription_id")
    base = base_url.rstrip("/")
    fg = FeedGenerator()
    fg.language("zh-CN")
    fg.generator("noticewatch")
    if site_key is not None:
        site = session.scalar(select(Site).where(Site.key == site_key))
        if site is None:
            raise FeedNotFound(f"no site {site_key!r}")
        title, subtitle, alternate = f"{site.name} · noticewatch", f"{site.name}的公告与变更", site.base_url
        self_path = feed_path(site_key=site.key, kind=kind)
    else:
        sub = session.get(Subscription, subscription_id)
        if sub is None:
            raise FeedNotFound(f"no subscription {subscription_id}")
        title, subtitle, alternate = f"{sub.name} · noticewatch", f"订阅“{sub.name}”匹配的公告", base
        self_path = feed_path(subscription=sub, kind=kind)
    fg.id(f"{base}/{self_path.split('?', 1)[0]}")
    fg.title(title)
    fg.subtitle(subtitle)  # RSS requires a description: feedgen takes it from the subtitle
    fg.link(href=alternate, rel="alternate")
    fg.link(href=f"{base}/{self_path}", rel="self")
    ids = recent_events(session, site_key=site_key, subscription_id=subscription_id, limit=limit)
    by_id = load_alert_items(session, ids)
    items = [by_id[i] for i in ids if i in by_id]
    fg.updated(items[0].created_at if items else _EPOCH)
    _fill(fg, items, base)
    if kind == "rss":
        return fg.rss_str(pretty=True)
    return _restore_link_relations(fg.atom_str(pretty=True), {archive_url(base, i.notice_id) for i in items})


def _restore_link_relations(atom: bytes, related: set[str]) -> bytes:
    """feedgen 1.0 drops ``rel``/``title`` of entry links (a shadowed variable in its
    ``atom_entry``), which would make the archive link a second "alternate"; put them back."""
    root = etree.fromstring(atom)
    for link in root.iterfind(f"{{{_ATOM}}}entry/{{{_ATOM}}}link"):
        if link.get("href") in related and link.get("rel") is None:
            link.set("rel", "related")
            link.set("title", "存档副本")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_bytes(data)
    tmp.replace(path)  # readers never see half a feed


def write_static_feeds(store: Store, out_dir: str | Path, *, base_url: str = "http://127.0.0.1:8080",
                       limit: int = 50) -> list[Path]:
    """Write every site's and subscription's feeds under ``out_dir``; returns the files.

    Layout: ``site/<key>.atom|.rss`` and ``subscription/<id>-<token>.atom|.rss`` (the
    token keeps saved searches unguessable when the directory is served publicly).
    """
    out = Path(out_dir)
    written: list[Path] = []
    with store.factory() as session:
        site_keys = list(session.scalars(select(Site.key).order_by(Site.key)))
        subs = list(session.execute(select(Subscription.id, Subscription.secret).order_by(Subscription.id)))
        for kind in ("atom", "rss"):
            for key in site_keys:
                path = out / "site" / f"{key}.{kind}"
                _write(path, build_feed(session, site_key=key, kind=kind, base_url=base_url, limit=limit))
                written.append(path)
            for sub_id, secret in subs:
                path = out / "subscription" / f"{sub_id}-{(secret or '')[:16]}.{kind}"
                _write(path, build_feed(session, subscription_id=sub_id, kind=kind, base_url=base_url,
                                        limit=limit))
                written.append(path)
    return written
