"""Atom and RSS feeds read back with feedparser: files, builder and web routes."""

from __future__ import annotations

from pathlib import Path

import feedparser
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from noticewatch.config import Settings
from noticewatch.store import Store
from pipeline.alerts.feeds import FeedKind, build_feed, write_static_feeds
from pipeline.alerts.sender import send_due
from storage import alerts
from tests.alerts.conftest import NOW, publish, withdraw


@pytest.fixture
def archive(store: Store, settings: Settings) -> tuple[Store, int, str]:
    with store.factory.begin() as session:
        sub = alerts.create_subscription(session, name="land", channel_url="feed:",
                                         filters={"any": ["土地"]}, now=NOW)
        sub_id, token = sub.id, sub.secret or ""
    publish(store, "a", "关于土地征收的公告 <b>&</b>")
    publish(store, "b", "学校招生")
    withdraw(store, "a")
    report = send_due(store, settings, now=NOW)
    assert report.sent == 0  # feeds push nothing: their deliveries are recorded as published
    return store, sub_id, token


@pytest.mark.parametrize("kind", ["atom", "rss"])
def test_site_and_subscription_feeds_parse(archive: tuple[Store, int, str], kind: FeedKind) -> None:
    store, sub_id, _ = archive
    with store.factory() as session:
        site = feedparser.parse(build_feed(session, site_key="mawei", kind=kind,
                                           base_url="http://archive.example"))
        mine = feedparser.parse(build_feed(session, subscription_id=sub_id, kind=kind,
                                           base_url="http://archive.example"))
    assert not site.bozo and not mine.bozo
    assert site.version.startswith(kind)
    assert [e.title for e in site.entries] == ["【已撤回】关于土地征收的公告 <b>&</b>", "【新发布】学校招生",
                                               "【新发布】关于土地征收的公告 <b>&</b>"]
    assert [e.title for e in mine.entries] == ["【已撤回】关于土地征收的公告 <b>&</b>",
                                               "【新发布】关于土地征收的公告 <b>&</b>"]
    entry = mine.entries[-1]
    assert entry.link == "http://www.mawei.gov.cn/art/a.html"
    assert "http://archive.example/notices/1" in entry.summary
    if kind == "atom":
        assert {link.rel: link.href for link in entry.links}["related"] == "http://archive.example/notices/1"
        assert "&lt;b&gt;" in entry.content[0].value  # the title is escaped inside the HTML


def test_static_feed_files(archive: tuple[Store, int, str], tmp_path: Path) -> None:
    store, sub_id, token = archive
    written = write_static_feeds(store, tmp_path / "out", base_url="http://archive.example")
    names = sorted(p.relative_to(tmp_path / "out").as_posix() for p in written)
    assert names == ["site/mawei.atom", "site/mawei.rss", f"subscription/{sub_id}-{token[:16]}.atom",
                     f"subscription/{sub_id}-{token[:16]}.rss"]
    parsed = feedparser.parse((tmp_path / "out" / "site" / "mawei.rss").read_bytes())
    assert len(parsed.entries) == 3


def test_feed_routes(archive: tuple[Store, int, str], settings: Settings) -> None:
    from noticewatch.web import feeds_routes

    store, sub_id, token = archive
    app = FastAPI()
    app.state.settings = settings
    app.state.store = store
    app.include_router(feeds_routes.router)
    client = TestClient(app)
    site = client.get("/feeds/site/mawei.atom")
    assert site.status_code == 200 and site.headers["content-type"].startswith("application/atom+xml")
    assert len(feedparser.parse(site.content).entries) == 3
    rss = client.get(f"/feeds/subscription/{sub_id}.rss", params={"token": token})
    assert rss.status_code == 200 and len(feedparser.parse(rss.content).entries) == 2
    assert client.get(f"/feeds/subscription/{sub_id}.rss", params={"token": "wrong"}).status_code == 404
    assert client.get("/feeds/site/nowhere.atom").status_code == 404
    assert client.get("/feeds/site/mawei.json").status_code == 404
