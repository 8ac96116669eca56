"""The main crawl path on PostgreSQL: the same archive as on SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from noticewatch.demoweb import DemoWeb
from storage import repository
from storage.models import Notice, NoticeVersion
from storage.urls import canonicalize_url
from tests.e2e.harness import make_archive
from tests.pg import create_temp_database, drop_database, require_pg

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def test_crawl_into_postgresql(tmp_path: Path, demo_web: DemoWeb) -> None:
    require_pg()
    url = create_temp_database()
    try:
        archive = make_archive(tmp_path, database_url=url)
        try:
            first = archive.crawl(demo_web.proxy_url, sites=["mawei", "gulou"])
            assert first.status == "finished", first
            truth = [t for t in demo_web.world.ground_truth() if t["site"] in ("mawei", "gulou")]
            with archive.store.factory() as session:
                stored = set(session.scalars(select(Notice.canonical_url)))
                assert {canonicalize_url(t["url"]) for t in truth} <= stored
                rows = {r["title"]: r for r in repository.iter_export_rows(session, site_key="mawei")}
            sample = rows["区十届人大常委会工作回顾"]
            assert sample["published_at"] == "2022-01-04T09:40:00+08:00" and sample["source"] == "马尾区"
            again = archive.crawl(demo_web.proxy_url, sites=["mawei", "gulou"])
            assert again.counts.get("new", 0) == 0 and again.counts.get("changed", 0) == 0
            with archive.store.factory() as session:
                assert session.scalar(select(func.count()).select_from(NoticeVersion)) == len(stored)
        finally:
            archive.store.close()
    finally:
        drop_database(url)
