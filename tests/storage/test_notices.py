from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage import repository as repo
from storage.models import (
    AlertEvent,
    Blob,
    Column,
    Notice,
    NoticeColumn,
    NoticeVersion,
    VersionAttachment,
)
from storage.records import AttachmentRecord, NoticeGone, NoticeUnchanged
from tests.storage.factories import BODY, COL_A, COL_B, T0, blob, make_record


def _events(session: Session, notice_id: int) -> list[AlertEvent]:
    return list(session.scalars(select(AlertEvent).where(AlertEvent.notice_id == notice_id).order_by(AlertEvent.id)))


def test_new_then_unchanged_then_changed(session: Session, sites: dict[str, int]) -> None:
    first = repo.apply_notice(session, make_record(etag='"a"'))
    assert (first.kind, first.version, first.duplicate_of) == ("new", 1, None)
    assert first.event_id is not None

    again = repo.apply_notice(session, make_record(etag='"b"', fetched_at=T0 + timedelta(hours=1)))
    assert again.kind == "unchanged" and again.version_id == first.version_id
    assert again.event_id is None
    notice = session.get(Notice, first.notice_id)
    assert notice is not None and notice.etag == '"b"' and notice.version_count == 1

    edited = make_record(body=BODY.replace("380元", "400元"), fetched_at=T0 + timedelta(days=1))
    changed = repo.apply_notice(session, edited)
    assert (changed.kind, changed.version) == ("changed", 2)
    session.refresh(notice)
    assert notice.current_version_id == changed.version_id
    assert notice.last_changed_at.replace(tzinfo=None) == (T0 + timedelta(days=1)).replace(tzinfo=None)
    assert [e.kind for e in _events(session, notice.id)] == ["new", "changed"]
    # Site has no baseline yet: everything so far is a baseline event.
    assert all(e.baseline for e in _events(session, notice.id))


def test_cosmetic_changes_make_no_version(session: Session, sites: dict[str, int]) -> None:
    repo.apply_notice(session, make_record(body=BODY + "\n浏览次数：10"))
    cosmetic = make_record(
        body="\u3000\u3000" + BODY.replace("。", "。\n  ") + " 浏览次数：11",
        title=" 关于开展２０２４年度城乡居民医保参保缴费工作的通知",
    )
    assert repo.apply_notice(session, cosmetic).kind == "unchanged"
    assert session.scalar(select(func.count()).select_from(NoticeVersion)) == 1


def test_two_columns_one_notice(session: Session, sites: dict[str, int]) -> None:
    a = repo.apply_notice(session, make_record(columns=[COL_A]))
    b = repo.apply_notice(session, make_record(columns=[COL_B, COL_A]))
    assert a.notice_id == b.notice_id
    assert session.scalar(select(func.count()).select_from(Notice)) == 1
    links = session.scalars(select(NoticeColumn.column_id).where(NoticeColumn.notice_id == a.notice_id)).all()
    assert len(links) == 2
    # An unknown column URL (a sub-column the spider followed) is created, marked discovered.
    repo.apply_notice(session, make_record(columns=["http://www.mawei.gov.cn/xxgk/new/"]))
    discovered = session.scalar(select(Column).where(Column.url == "http://www.mawei.gov.cn/xxgk/new/"))
    assert discovered is not None and discovered.hints == {"discovered": True}


def test_attachments_shared_by_sha256(session: Session, sites: dict[str, int]) -> None:
    shared = AttachmentRecord(url="http://www.mawei.gov.cn/att/a.pdf", name="附件1.pdf", blob=blob("a"))
    skipped = AttachmentRecord(url="http://www.mawei.gov.cn/att/big.zip", name="big.zip", skipped_reason="over size cap")
    repo.apply_notice(session, make_record(attachments=[shared, skipped]))
    other = AttachmentRecord(url="http://www.gl.gov.cn/att/copy.pdf", name="附件.pdf", blob=blob("a"))
    repo.apply_notice(
        session,
        make_record("http://www.gl.gov.cn/tzgg/t2.htm", site_key="gulou", columns=[], body="另一份通知正文",
                    attachments=[other]),
    )
    assert session.scalar(select(func.count()).select_from(Blob)) == 1
    assert session.scalar(select(func.count()).select_from(VersionAttachment)) == 3
    rows = session.scalars(select(VersionAttachment).order_by(VersionAttachment.id)).all()
    assert [r.blob_sha256 for r in rows] == ["a" * 64, None, "a" * 64]
    assert rows[1].skipped_reason == "over size cap"


def test_duplicate_of_exact_and_near(session: Session, sites: dict[str, int]) -> None:
    original = repo.apply_notice(session, make_record())
    exact = repo.apply_notice(
        session, make_record("http://www.gl.gov.cn/tzgg/t9.htm", site_key="gulou", columns=[],
                             body=BODY + "\n浏览次数：3", fetched_at=T0 + timedelta(hours=5)),
    )
    assert exact.duplicate_of == original.notice_id
    edited = BODY.replace("380元", "400元").replace("本区户籍", "我区户籍")
    near = repo.apply_notice(
        session, make_record("http://www.gl.gov.cn/tzgg/t10.htm", site_key="gulou", columns=[], body=edited,
                             published_at="2024-05-02", fetched_at=T0 + timedelta(days=1)),
    )
    assert near.duplicate_of == original.notice_id
    unrelated = repo.apply_notice(
        session, make_record("http://www.gl.gov.cn/tzgg/t11.htm", site_key="gulou", columns=[],
                             body="关于2024年五一劳动节期间道路施工交通管制的通告。" * 3),
    )
    assert unrelated.duplicate_of is None
    short = repo.apply_notice(session, make_record("http://www.mawei.gov.cn/t12.htm", body="详见附件。"))
    short2 = repo.apply_notice(session, make_record("http://www.mawei.gov.cn/t13.htm", body="详见附件。"))
    assert short.duplicate_of is None and short2.duplicate_of is None


def test_gone_withdraws_with_event_in_same_transaction(session: Session, sites: dict[str, int]) -> None:
    new = repo.apply_notice(session, make_record())
    url = make_record().canonical_url
    savepoint = session.begin_nested()
    out = repo.mark_gone(session, NoticeGone(site_key="mawei", canonical_url=url, reason="404", seen_at=T0))
    assert out is not None and out.kind == "withdrawn" and out.version_id == new.version_id
    notice = session.get(Notice, new.notice_id)
    assert notice is not None and notice.status == "withdrawn" and notice.withdrawn_at is not None
    assert [e.kind for e in _events(session, new.notice_id)] == ["new", "withdrawn"]
    savepoint.rollback()  # the change and its event go together
    session.expire_all()
    assert [e.kind for e in _events(session, new.notice_id)] == ["new"]
    assert session.get(Notice, new.notice_id).status == "active"  # type: ignore[union-attr]

    assert repo.mark_gone(session, NoticeGone(site_key="mawei", canonical_url=url, reason="410")) is not None
    assert repo.mark_gone(session, NoticeGone(site_key="mawei", canonical_url=url, reason="410")) is None
    assert session.scalar(select(func.count()).select_from(NoticeVersion)) == 1  # versions kept


def test_reactivated(session: Session, sites: dict[str, int]) -> None:
    new = repo.apply_notice(session, make_record())
    url = make_record().canonical_url
    repo.mark_gone(session, NoticeGone(site_key="mawei", canonical_url=url, reason="404"))
    back = repo.apply_notice(session, make_record(fetched_at=T0 + timedelta(days=2)))
    assert (back.kind, back.version, back.version_id) == ("reactivated", 1, new.version_id)
    repo.mark_gone(session, NoticeGone(site_key="mawei", canonical_url=url, reason="404"))
    back2 = repo.apply_notice(session, make_record(body=BODY + "补充说明。", fetched_at=T0 + timedelta(days=3)))
    assert (back2.kind, back2.version) == ("reactivated", 2)
    assert [e.kind for e in _events(session, new.notice_id)] == ["new", "withdrawn", "changed", "withdrawn", "changed"]


def test_baseline_flag(session: Session, sites: dict[str, int]) -> None:
    a = repo.apply_notice(session, make_record())
    assert repo.mark_baseline(session, "mawei") is True
    assert repo.mark_baseline(session, "mawei") is False
    b = repo.apply_notice(session, make_record("http://www.mawei.gov.cn/t2.htm", body="新的通知正文内容"))
    flags = {e.notice_id: e.baseline for e in session.scalars(select(AlertEvent))}
    assert flags == {a.notice_id: True, b.notice_id: False}


def test_mark_unchanged_touches_only_known_notices(session: Session, sites: dict[str, int]) -> None:
    old = make_record("http://www.mawei.gov.cn/t1.htm", etag='"e1"', last_modified="Wed, 01 May 2024 02:00:00 GMT")
    fresh = make_record("http://www.mawei.gov.cn/t2.htm", body="另一份通知", columns=[COL_B])
    repo.apply_notice(session, old)
    repo.apply_notice(session, fresh)
    later = T0 + timedelta(days=3)
    assert repo.mark_unchanged(
        session, NoticeUnchanged(site_key="mawei", canonical_url=fresh.canonical_url, column_urls=[COL_B], seen_at=later)
    )
    assert not repo.mark_unchanged(session, NoticeUnchanged(site_key="mawei", canonical_url="http://nope/"))
