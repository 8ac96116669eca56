"""Keeping the search index in step with the archive.

``reindex_notice`` rewrites one notice's search row from its current version (title,
fields, body, attachment names and extracted text). The store calls it through ORM
session events registered here: every flush records which notices changed, and just
before the transaction commits their rows are rewritten inside that same transaction,
so the index never disagrees with committed data. ``rebuild_index`` redoes everything
(after an upgrade, or if the n-gram rules ever change).
"""

from __future__ import annotations

from itertools import chain
from typing import Any

from sqlalchemy import event, inspect, select, text
from sqlalchemy.orm import Session

from storage.models import Blob, Notice, NoticeVersion, VersionAttachment
from storage.search_keys import index_keys, sort_key
from storage.search_text import normalize

__all__ = ["index_available", "reindex_notice", "rebuild_index"]

_PENDING_NOTICES = "search_pending_notices"
_PENDING_VERSIONS = "search_pending_versions"
# Notice attributes that change what the index holds (last_seen_at and friends do not).
_INDEXED_NOTICE_ATTRS = ("title", "status", "current_version_id", "published_at", "site_id")


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def index_available(session: Session) -> bool:
    """Whether the search tables exist (migration 0003 ran) on this session's database."""
    if _dialect(session) == "postgresql":
        return session.execute(text("SELECT to_regclass('search_doc') IS NOT NULL")).scalar() is True
    found = session.execute(text(
        "SELECT count(*) FROM sqlite_master WHERE name IN ('search_doc', 'search_grams')")).scalar()
    return found == 2


def _document(session: Session, notice_id: int) -> dict[str, Any] | None:
    notice = session.get(Notice, notice_id)
    if notice is None or notice.current_version_id is None:
        return None
    version = session.get(NoticeVersion, notice.current_version_id)
    if version is None:
        return None
    attachments = session.execute(
        select(VersionAttachment.name, Blob.text)
        .outerjoin(Blob, Blob.sha256 == VersionAttachment.blob_sha256)
        .where(VersionAttachment.version_id == version.id)
        .order_by(VersionAttachment.position)
    ).all()
    parts = [version.title, version.doc_no, version.issuing_org, version.subject, version.body_text]
    parts += list(chain.from_iterable((name, body) for name, body in attachments))
    doc = "\n".join(normalize(p) for p in parts if p)
    return {
        "notice_id": notice.id,
        "sort_key": sort_key(notice.published_at, notice.id),
        "site_id": notice.site_id,
        "published_at": notice.published_at,
        "status": notice.status,
        "issuing_org": normalize(version.issuing_org) or None,
        "doc_no": normalize(version.doc_no) or None,
        "title": normalize(version.title),
        "doc": doc,
    }


def _keys(row: Any) -> list[str]:
    get = row.get if isinstance(row, dict) else row._mapping.get
    return index_keys(doc=str(get("doc") or ""), title=str(get("title") or ""),
                      issuing_org=get("issuing_org"), doc_no=get("doc_no"),
                      site_id=int(get("site_id") or 0), status=str(get("status") or ""))


def reindex_notice(session: Session, notice_id: int) -> None:
    """Rewrite (or drop) one notice's search row. Never commits."""
    values = _document(session, notice_id)
    if _dialect(session) == "postgresql":
        if values is None:
            session.execute(text("DELETE FROM search_doc WHERE notice_id = :id"), {"id": notice_id})
            return
        session.execute(text("""
            INSERT INTO search_doc (notice_id, sort_key, site_id, published_at, status, issuing_org,
                                    doc_no, title, doc, grams)
            VALUES (:notice_id, :sort_key, :site_id, :published_at, :status, :issuing_org, :doc_no,
                    :title, :doc, array_to_tsvector(CAST(:grams AS text[])))
            ON CONFLICT (notice_id) DO UPDATE SET
                sort_key = excluded.sort_key, site_id = excluded.site_id,
                published_at = excluded.published_at, status = excluded.status,
                issuing_org = excluded.issuing_org, doc_no = excluded.doc_no, title = excluded.title,
                doc = excluded.doc, grams = excluded.grams"""), {**values, "grams": _keys(values)})
        return
    _reindex_sqlite(session, notice_id, values)


def _reindex_sqlite(session: Session, notice_id: int, values: dict[str, Any] | None) -> None:
    # doc_id is the sort key (published minute << 32 | notice id) and the FTS rowid, so the
    # index itself is ordered newest first. It changes with published_at: delete + insert.
    old = session.execute(text("SELECT doc_id, site_id, status, issuing_org, doc_no, title, doc "
                               "FROM search_doc WHERE notice_id = :id"), {"id": notice_id}).first()
    if old is not None:
        # A contentless FTS5 table forgets a row only when told exactly what it indexed;
        # the keys are recomputed from the stored normalised columns.
        session.execute(text("INSERT INTO search_grams (search_grams, rowid, grams) "
                             "VALUES ('delete', :doc_id, :grams)"),
                        {"doc_id": old.doc_id, "grams": " ".join(_keys(old))})
        session.execute(text("DELETE FROM search_doc WHERE notice_id = :id"), {"id": notice_id})
    if values is None:
        return
    session.execute(text("""
        INSERT INTO search_doc (doc_id, notice_id, site_id, published_at, status, issuing_org, doc_no,
                                title, doc)
        VALUES (:sort_key, :notice_id, :site_id, :published_at, :status, :issuing_org, :doc_no,
                :title, :doc)"""), values)
    session.execute(text("INSERT INTO search_grams (rowid, grams) VALUES (:doc_id, :grams)"),
                    {"doc_id": values["sort_key"], "grams": " ".join(_keys(values))})


def rebuild_index(session: Session, *, batch_size: int = 500) -> int:
    """Empty the index and rebuild it from every notice; returns the rows written."""
    if _dialect(session) == "postgresql":
        session.execute(text("DELETE FROM search_doc"))
    else:
        session.execute(text("INSERT INTO search_grams (search_grams) VALUES ('delete-all')"))
        session.execute(text("DELETE FROM search_doc"))
    written = 0
    last_id = 0
    while True:
        ids = list(session.scalars(select(Notice.id).where(Notice.id > last_id)
                                   .order_by(Notice.id).limit(batch_size)))
        if not ids:
            return written
        for notice_id in ids:
            reindex_notice(session, notice_id)
            written += 1
        session.expunge_all()  # bounded memory on a large archive
        last_id = ids[-1]


# -- automatic sync through session events --------------------------------------------------


def _notice_changed(obj: Notice) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in _INDEXED_NOTICE_ATTRS)


def _after_flush(session: Session, _flush_context: Any) -> None:
    # Attribute history is still intact here (it is reset after this hook), so a notice
    # whose only change is last_seen_at does not cost a reindex.
    notices: set[int] = session.info.setdefault(_PENDING_NOTICES, set())
    versions: set[int] = session.info.setdefault(_PENDING_VERSIONS, set())
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, Notice):
            if obj in session.new or obj in session.deleted or _notice_changed(obj):
                notices.add(obj.id)
        elif isinstance(obj, NoticeVersion):
            notices.add(obj.notice_id)
        elif isinstance(obj, VersionAttachment) and obj.version_id is not None:
            versions.add(obj.version_id)


def _before_commit(session: Session) -> None:
    if not session.info.get(_PENDING_NOTICES) and not session.info.get(_PENDING_VERSIONS):
        return
    session.flush()
    notices: set[int] = session.info.pop(_PENDING_NOTICES, set())
    versions: set[int] = session.info.pop(_PENDING_VERSIONS, set())
    if versions:
        notices.update(session.scalars(
            select(NoticeVersion.notice_id).where(NoticeVersion.id.in_(sorted(versions)))))
    notices.discard(None)  # type: ignore[arg-type]
    # Databases created without migrations (metadata.create_all in some tests) have no
    # index; the archive must still work there.
    if not notices or not index_available(session):
        return
    for notice_id in sorted(notices):
        reindex_notice(session, notice_id)


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(_PENDING_NOTICES, None)
    session.info.pop(_PENDING_VERSIONS, None)


def install_sync() -> None:
    """Register the session hooks (idempotent; done when this module is imported)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_rollback", _forget)


install_sync()
