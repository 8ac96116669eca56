from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from storage import repository as repo
from storage.export import EXPORT_FIELDS
from storage.models import Column, Site
from storage.records import AttachmentRecord, NoticeGone
from tests.storage.factories import BODY, COL_A, COL_B, SITE_ROWS, T0, blob, make_record


def test_sync_sites_upserts_and_never_deletes(session: Session) -> None:
    ids = repo.sync_sites(session, SITE_ROWS)
    assert set(ids) == {"mawei", "gulou"}
    renamed = [{**SITE_ROWS[0], "name": "马尾区政府", "columns": [{"url": COL_A, "name": "公告", "hints": {"x": 1}}]}]
    assert repo.sync_sites(session, renamed) == {"mawei": ids["mawei"]}
    site = session.get(Site, ids["mawei"])
    assert site is not None and site.name == "马尾区政府" and site.domain == "www.mawei.gov.cn"
    cols = {c.url: c for c in session.scalars(select(Column).where(Column.site_id == site.id))}
    assert set(cols) == {COL_A, COL_B} and cols[COL_A].name == "公告" and cols[COL_A].hints == {"x": 1}


def test_export_schema_and_times(session: Session, sites: dict[str, int]) -> None:
    att = AttachmentRecord(url="http://www.mawei.gov.cn/a.pdf", name="附件1.pdf", blob=blob("c"))
    first = repo.apply_notice(session, make_record(columns=[COL_A, COL_B], attachments=[att], doc_no="马政〔2024〕1号"))
    repo.apply_notice(session, make_record("http://www.gl.gov.cn/tzgg/t1.htm", site_key="gulou", columns=[]))
    rows = list(repo.iter_export_rows(session, batch_size=1))
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows) and len(rows) == 2
    row = rows[0]
    assert tuple(row) == EXPORT_FIELDS
    assert row["id"] == first.notice_id and row["site"] == "mawei" and row["site_name"] == "马尾区人民政府"
    assert row["columns"] == ["通知公告", "政府信息公开"]
    assert row["first_seen_at"] == "2024-05-01T10:00:00+08:00"
    assert row["last_changed_at"].endswith("+08:00")
    assert (row["status"], row["version"], row["doc_no"], row["duplicate_of"]) == ("active", 1, "马政〔2024〕1号", None)
    assert row["attachments"] == [{
        "url": "http://www.mawei.gov.cn/a.pdf", "name": "附件1.pdf", "sha256": "c" * 64, "size": 1234,
        "media_type": "application/pdf", "path": "blobs/cc/" + "c" * 64,
        "text": "附件正文",
    }]
    assert rows[1]["duplicate_of"] == first.notice_id

    assert [r["site"] for r in repo.iter_export_rows(session, site_key="gulou")] == ["gulou"]
    assert list(repo.iter_export_rows(session, since=T0 + timedelta(days=1))) == []
    assert len(list(repo.iter_export_rows(session, until=T0 + timedelta(seconds=1)))) == 2
    repo.mark_gone(session, NoticeGone(site_key="mawei", canonical_url=make_record().canonical_url, reason="404"))
    assert [r["status"] for r in repo.iter_export_rows(session, status="withdrawn")] == ["withdrawn"]


def test_summary_get_notice_and_diff(session: Session, sites: dict[str, int]) -> None:
    a1 = AttachmentRecord(url="http://x/a.pdf", name="a.pdf", blob=blob("a"))
    a2 = AttachmentRecord(url="http://x/b.pdf", name="b.pdf", blob=blob("b"))
    a1_new = AttachmentRecord(url="http://x/a.pdf", name="a.pdf", blob=blob("d"))
    out = repo.apply_notice(session, make_record(attachments=[a1, a2]))
    repo.apply_notice(session, make_record(title="更正：医保缴费通知", body=BODY.replace("380元", "400元"),
                                           attachments=[a1_new], fetched_at=T0 + timedelta(days=1)))
    notice = repo.get_notice(session, out.notice_id)
    assert notice is not None and [v.version for v in notice.versions] == [1, 2]
    changes = repo.version_diff(notice.versions[0], notice.versions[1])
    by_field = {(c.field, c.change, c.old or c.new) for c in changes}
    assert ("title", "changed", "关于开展2024年度城乡居民医保参保缴费工作的通知") in by_field
    assert ("attachment", "replaced", "a.pdf") in by_field and ("attachment", "removed", "b.pdf") in by_field
    body = next(c for c in changes if c.field == "body_text")
    assert body.diff and "-" in body.diff and "400元" in body.diff
    summary = repo.summary(session)
    assert summary["sites"] == 2 and summary["columns"] == 3 and summary["notices"] == 1
    assert (summary["notices_active"], summary["notices_withdrawn"], summary["versions"], summary["blobs"]) == (1, 0, 2, 3)
    assert summary["runs"] == 0


def test_runs_and_fetch_errors(session: Session, sites: dict[str, int]) -> None:
    run = repo.start_run(session, site_key="mawei", trigger="manual")
    assert run.id is not None and run.status == "running"
    repo.record_fetch_error(session, run_id=run.id, site_key="mawei", url="http://www.mawei.gov.cn/x", kind="http", detail="503")
    repo.finish_run(session, run.id, status="finished", counts={"new": 3}, stats={"downloader/request_count": 9})
    session.expire_all()
    got = repo.get_run(session, run.id)
    assert got is not None and got.status == "finished" and got.counts == {"new": 3} and got.finished_at is not None
    assert [e.kind for e in got.fetch_errors] == ["http"] and got.site is not None and got.site.key == "mawei"
    repo.start_run(session, site_key=None, trigger="cron")
    assert [r.trigger for r in repo.list_runs(session, limit=1)] in (["cron"], ["manual"])
    assert len(repo.list_runs(session)) == 2


def test_lock_contention_and_expiry(session: Session) -> None:
    now = datetime(2024, 5, 1, tzinfo=UTC)
    ttl = timedelta(minutes=10)
    assert repo.acquire_lock(session, name="site:mawei", holder="host-a:1", ttl=ttl, now=now)
    assert not repo.acquire_lock(session, name="site:mawei", holder="host-b:2", ttl=ttl, now=now + timedelta(minutes=5))
    # The holder may renew; others still wait.
    assert repo.acquire_lock(session, name="site:mawei", holder="host-a:1", ttl=ttl, now=now + timedelta(minutes=5))
    assert not repo.acquire_lock(session, name="site:mawei", holder="host-b:2", ttl=ttl, now=now + timedelta(minutes=12))
    # After expiry the lease can be stolen, and the old holder cannot release it.
    assert repo.acquire_lock(session, name="site:mawei", holder="host-b:2", ttl=ttl, now=now + timedelta(minutes=16))
    assert not repo.release_lock(session, name="site:mawei", holder="host-a:1")
    assert repo.release_lock(session, name="site:mawei", holder="host-b:2")
    assert repo.acquire_lock(session, name="site:mawei", holder="host-a:1", ttl=ttl, now=now + timedelta(minutes=17))
    assert repo.acquire_lock(session, name="site:gulou", holder="host-b:2", ttl=ttl, now=now)


def test_lock_across_connections(engine: Engine) -> None:
    """Committed leases seen from separate connections, as two processes would."""
    name = f"test:{uuid.uuid4().hex}"
    ttl = timedelta(minutes=5)
    try:
        with Session(engine) as s1, s1.begin():
            assert repo.acquire_lock(s1, name=name, holder="a", ttl=ttl)
        with Session(engine) as s2, s2.begin():
            assert not repo.acquire_lock(s2, name=name, holder="b", ttl=ttl)
            assert repo.acquire_lock(s2, name=name, holder="b", ttl=ttl, now=datetime.now(UTC) + ttl * 2)
    finally:
        with Session(engine) as s3, s3.begin():
            repo.release_lock(s3, name=name, holder="b")
            repo.release_lock(s3, name=name, holder="a")
