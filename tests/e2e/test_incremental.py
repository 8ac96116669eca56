"""Incremental crawling against a changing demo world: new, edited, withdrawn, restored."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from noticewatch.demoweb import DemoWeb
from storage.models import AlertEvent, Notice, NoticeVersion
from storage.urls import canonicalize_url
from tests.e2e.harness import make_archive

pytestmark = pytest.mark.slow


def _truth_for(web: DemoWeb, site: str) -> list[dict]:
    return [t for t in web.world.ground_truth() if t["site"] == site and not t.get("repost_of")]


def test_second_run_over_unchanged_world_is_cheap(tmp_path: Path, demo_web: DemoWeb) -> None:
    archive = make_archive(tmp_path)
    first = archive.crawl(demo_web.proxy_url, sites=["mawei", "gulou"])
    assert first.counts.get("new", 0) > 0
    demo_web.clear_requests()
    second = archive.crawl(demo_web.proxy_url, sites=["mawei", "gulou"])
    assert second.counts.get("new", 0) == 0 and second.counts.get("changed", 0) == 0
    columns = sum(len(s.columns) for s in archive.registry.select(["mawei", "gulou"]))
    made = [r for r in demo_web.requests if not r[2].startswith("/robots.txt")]
    # Target from the issue: at most one request per column beyond robots.txt.
    assert len(made) <= columns, made


def test_changes_are_caught_exactly(tmp_path: Path, demo_web: DemoWeb, monkeypatch: pytest.MonkeyPatch) -> None:
    # A wide re-check window: every known notice is re-fetched conditionally, so a quiet
    # edit (same list, new body) is found.
    monkeypatch.setenv("NOTICEWATCH_RECHECK_DAYS", "36500")
    archive = make_archive(tmp_path)
    first = archive.crawl(demo_web.proxy_url, sites=["mawei"])
    assert first.status == "finished"
    truth = _truth_for(demo_web, "mawei")
    edited, gone_404, gone_refresh, gone_redirect = truth[3], truth[5], truth[6], truth[7]
    world = demo_web.world
    world.edit_notice(edited["id"], body_text="第一段修改后的正文。\n\n第二段新增的内容，说明有关事项。")
    world.withdraw_notice(gone_404["id"], how="404")
    world.withdraw_notice(gone_refresh["id"], how="refresh")
    world.withdraw_notice(gone_redirect["id"], how="redirect")
    added = world.add_notice("mawei", "/xjwz/zwgk/zcwjk/", title="关于开展2026年度安全生产检查的通知")

    second = archive.crawl(demo_web.proxy_url, sites=["mawei"])
    assert second.status == "finished", second
    assert second.counts.get("new", 0) == 1
    assert second.counts.get("changed", 0) == 1
    assert second.counts.get("withdrawn", 0) == 3
    with archive.store.factory() as session:
        by_url = {n.canonical_url: n for n in session.scalars(select(Notice))}
        assert by_url[canonicalize_url(edited["url"])].version_count == 2
        for gone in (gone_404, gone_refresh, gone_redirect):
            notice = by_url[canonicalize_url(gone["url"])]
            assert notice.status == "withdrawn" and notice.withdrawn_at is not None
            assert notice.versions, "the archived copy stays"
        assert any(n.title == added.title for n in by_url.values())
        kinds = [k for (k,) in session.execute(select(AlertEvent.kind).where(AlertEvent.run_id == second.run_id))]
        assert sorted(kinds) == ["changed", "new", "withdrawn", "withdrawn", "withdrawn"]

    # Restored notices come back; an unchanged third run records nothing new.
    world.restore_notice(gone_404["id"])
    third = archive.crawl(demo_web.proxy_url, sites=["mawei"])
    with archive.store.factory() as session:
        notice = session.scalar(select(Notice).where(Notice.canonical_url == canonicalize_url(gone_404["url"])))
        assert notice is not None and notice.status == "active"
        versions = session.scalar(select(func.count()).select_from(NoticeVersion))
    fourth = archive.crawl(demo_web.proxy_url, sites=["mawei"])
    assert fourth.counts.get("new", 0) == 0 and fourth.counts.get("changed", 0) == 0
    assert fourth.counts.get("withdrawn", 0) == 0
    with archive.store.factory() as session:
        assert session.scalar(select(func.count()).select_from(NoticeVersion)) == versions
    assert third.status == "finished"
