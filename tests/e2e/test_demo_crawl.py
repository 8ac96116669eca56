"""End to end: crawl the demo web into a temporary archive and check rows and files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from noticewatch.cli import root
from noticewatch.demoweb import DemoWeb
from storage import repository
from storage.models import Blob, CrawlRun, Notice, NoticeColumn, NoticeVersion
from tests.e2e.harness import make_archive

pytestmark = pytest.mark.slow

EXPORT_KEYS = {"id", "site", "site_name", "columns", "url", "title", "published_at", "source", "index_no",
               "doc_no", "issuing_org", "written_date", "validity", "subject", "body_text", "attachments",
               "status", "version", "first_seen_at", "last_changed_at", "duplicate_of"}


def test_crawl_archives_every_demo_notice_once(tmp_path: Path, demo_web: DemoWeb) -> None:
    archive = make_archive(tmp_path)
    truth = demo_web.world.ground_truth()
    result = archive.crawl(demo_web.proxy_url)
    assert result.status == "finished", result
    assert result.counts.get("new", 0) >= len(truth) * 0.95

    with archive.store.factory() as session:
        stored = {n.canonical_url: n for n in session.scalars(select(Notice))}
        urls = {repository.canonicalize_url(t["url"]) if hasattr(repository, "canonicalize_url") else t["url"]
                for t in truth}
        from storage.urls import canonicalize_url

        expected = {canonicalize_url(t["url"]) for t in truth}
        missing = expected - set(stored)
        assert not missing, f"{len(missing)} notices not archived, e.g. {sorted(missing)[:3]}"
        del urls
        # One notice listed in two columns is one notice with two column links.
        multi = [t for t in truth if len(t.get("columns") or []) > 1]
        assert multi, "the demo world should list a notice in two columns"
        for t in multi:
            notice = stored[canonicalize_url(t["url"])]
            links = session.scalar(select(func.count()).select_from(NoticeColumn)
                                   .where(NoticeColumn.notice_id == notice.id))
            assert links == len(t["columns"])
        # Attachments are stored once per digest and the bytes hash to their name.
        blobs = list(session.scalars(select(Blob)))
        assert blobs, "attachments should be archived"
        for blob in blobs:
            assert archive.store.blobs.hash_file(blob.sha256) == blob.sha256
        assert session.scalar(select(func.count()).select_from(NoticeVersion)) == len(stored)
        # Reposts (verbatim and lightly edited) are linked to their original, and nothing else is.
        by_id = {n.id: n for n in stored.values()}
        linked = {url: by_id[n.duplicate_of_id].canonical_url for url, n in stored.items() if n.duplicate_of_id}
        url_of = {t["id"]: canonicalize_url(t["url"]) for t in truth}
        expected_links = {canonicalize_url(t["url"]): url_of[t["repost_of"]] for t in truth if t.get("repost_of")}
        assert linked == expected_links

    # A second crawl of the same world adds no notices and no versions.
    again = archive.crawl(demo_web.proxy_url)
    assert again.status == "finished"
    with archive.store.factory() as session:
        assert session.scalar(select(func.count()).select_from(Notice)) == len(stored)
        assert session.scalar(select(func.count()).select_from(NoticeVersion)) == len(stored)
        assert session.scalar(select(func.count()).select_from(CrawlRun)) == 2
    assert again.counts.get("new", 0) == 0
    assert again.counts.get("changed", 0) == 0


def test_mawei_sample_notice_comes_out_whole(tmp_path: Path, demo_web: DemoWeb) -> None:
    archive = make_archive(tmp_path)
    archive.crawl(demo_web.proxy_url, sites=["mawei"])
    with archive.store.factory() as session:
        rows = [r for r in repository.iter_export_rows(session, site_key="mawei")
                if r["title"] == "区十届人大常委会工作回顾"]
    assert len(rows) == 1
    row = rows[0]
    assert row["published_at"] == "2022-01-04T09:40:00+08:00"
    assert row["source"] == "马尾区"
    assert "聚焦改革发展重点" in row["body_text"]
    assert "全面启用省三级人大代表履职网络服务平台" in row["body_text"]
    assert row["body_text"].count("\n\n") >= 10
    for boilerplate in ("扫一扫在手机上查看当前页面", "相关链接", "附件下载"):
        assert boilerplate not in row["body_text"]


def test_export_jsonl_has_the_stable_schema(tmp_path: Path, demo_web: DemoWeb, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = make_archive(tmp_path)
    archive.crawl(demo_web.proxy_url, sites=["mawei", "gulou"])
    monkeypatch.setenv("NOTICEWATCH_DATA_DIR", str(archive.data_dir))
    out = tmp_path / "notices.jsonl"
    result = CliRunner().invoke(root, ["export", "--format", "jsonl", "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows
    for row in rows:
        assert set(row) >= EXPORT_KEYS
        assert row["status"] in ("active", "withdrawn")
        assert row["first_seen_at"].endswith("+08:00")
        if row["published_at"] and "T" in row["published_at"]:
            assert row["published_at"].endswith("+08:00")
    with_files = [r for r in rows if r["attachments"]]
    assert with_files
    for att in with_files[0]["attachments"]:
        assert {"url", "name", "sha256", "size", "media_type", "path"} <= set(att)
        assert (archive.data_dir / att["path"]).is_file()


def test_a_down_site_is_recorded_and_the_others_are_crawled(tmp_path: Path, demo_web: DemoWeb) -> None:
    archive = make_archive(tmp_path)
    demo_web.set_behaviour("gulou", down=True)
    result = archive.crawl(demo_web.proxy_url, sites=["gulou", "mawei"])
    assert result.status == "finished"
    assert result.counts.get("new", 0) > 0
    assert result.counts.get("failed", 0) > 0
    with archive.store.factory() as session:
        run = repository.get_run(session, result.run_id)
        assert run is not None


def test_malformed_registry_is_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "sites.yaml"
    bad.write_text("sites:\n  - key: x\n    nmae: typo\n", encoding="utf-8")
    monkeypatch.setenv("NOTICEWATCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NOTICEWATCH_REGISTRY", str(bad))
    result = CliRunner().invoke(root, ["crawl"])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert "nmae" in result.output and "name" in result.output


def test_export_filters_by_publication_date(tmp_path: Path, demo_web: DemoWeb, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = make_archive(tmp_path)
    archive.crawl(demo_web.proxy_url, sites=["mawei"])
    monkeypatch.setenv("NOTICEWATCH_DATA_DIR", str(archive.data_dir))
    runner = CliRunner()
    everything = runner.invoke(root, ["export", "--site", "mawei"])
    in_2022 = runner.invoke(root, ["export", "--site", "mawei", "--from", "2022-01-01", "--to", "2022-12-31"])
    assert everything.exit_code == 0 and in_2022.exit_code == 0, in_2022.output
    all_rows = [json.loads(line) for line in everything.output.splitlines()]
    rows = [json.loads(line) for line in in_2022.output.splitlines()]
    expected = [r for r in all_rows if (r["published_at"] or "").startswith("2022")]
    assert rows and len(rows) == len(expected) < len(all_rows)
    assert all(r["published_at"].startswith("2022") for r in rows)
    later = runner.invoke(root, ["export", "--site", "mawei", "--changed-since", "2999-01-01"])
    assert later.exit_code == 0 and later.output == ""
