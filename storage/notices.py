"""Applying crawl results to the archive: versions, columns, attachments, outbox events.

One call handles one notice inside the caller's transaction; the outbox row
(``AlertEvent``) is written by the same call, so a change and its alert commit or roll
back together. Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.clock import as_utc, utcnow
from storage.dedupe import find_duplicate
from storage.fingerprint import body_fingerprint, content_fingerprint, minhash_signature
from storage.models import (
    AlertEvent,
    Base,
    Blob,
    Column,
    Notice,
    NoticeColumn,
    NoticeVersion,
    Site,
    VersionAttachment,
)
from storage.records import NoticeGone, NoticeRecord, NoticeUnchanged, StoredBlob
from storage.sites import get_site
from storage.urls import canonicalize_url

__all__ = [
    "Outcome",
    "apply_notice",
    "mark_gone",
    "mark_unchanged",
]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What ``apply_notice``/``mark_gone`` did.

    ``kind``: new, changed, unchanged, reactivated (``apply_notice``) or withdrawn
    (``mark_gone``). ``version_id``/``version`` name the notice's current version.
    """

    kind: str
    notice_id: int
    version_id: int | None
    version: int
    duplicate_of: int | None = None
    event_id: int | None = None
    # A new notice that joined a duplicate group, either as a copy or as the original
    # of copies crawled before it (which are then re-linked to it).
    joined_duplicates: bool = False


def _fit(model: type[Base], name: str, value: str | None) -> str | None:
    """Clip to the column's length: PostgreSQL rejects what SQLite silently keeps."""
    if value is None:
        return None
    length = getattr(model.__table__.c[name].type, "length", None)
    return value[:length] if length else value


_VERSION_FIELDS = (
    "title", "published_at", "source", "category", "index_no", "doc_no", "issuing_org",
    "written_date", "validity", "subject", "body_text", "body_html", "warc_record", "raw_sha256",
)


def apply_notice(session: Session, record: NoticeRecord) -> Outcome:
    """Store one fetched notice; see the module docs for the version and event rules.

    A withdrawn notice that is fetched again becomes active ("reactivated") and emits a
    ``changed`` event — subscribers already received ``withdrawn``, so "it is back" is a
    change of a notice they know, not a new one. A new version is added only when the
    content fingerprint differs from the current one.
    """
    site = get_site(session, record.site_key)
    fetched_at = as_utc(record.fetched_at) if record.fetched_at is not None else utcnow()
    fingerprint = content_fingerprint(record)
    notice = session.scalar(select(Notice).where(Notice.canonical_url == record.canonical_url))
    if notice is None:
        return _create(session, site, record, fingerprint, fetched_at)

    _touch(notice, record, fetched_at)
    _link_columns(session, notice, site, record.column_urls, fetched_at)
    reactivated = notice.status != "active"
    if reactivated:
        notice.status = "active"
        notice.withdrawn_at = None
    if notice.content_fingerprint != fingerprint:
        _fill_missing_attachments(session, notice, record, fingerprint)
    if notice.content_fingerprint == fingerprint and notice.current_version_id is not None:
        session.flush()
        if not reactivated:
            return Outcome("unchanged", notice.id, notice.current_version_id, notice.version_count,
                           notice.duplicate_of_id)
        version_id = notice.current_version_id
    else:
        version_id = _add_version(session, notice, record, fingerprint, fetched_at).id
    event = _event(session, kind="changed", notice=notice, version_id=version_id, run_id=record.run_id)
    return Outcome("reactivated" if reactivated else "changed", notice.id, version_id,
                   notice.version_count, notice.duplicate_of_id, event.id)


def _fill_missing_attachments(session: Session, notice: Notice, record: NoticeRecord, fingerprint: str) -> bool:
    """Complete the current version with attachments an earlier fetch could not store.

    A download that failed (full disk, transient error) left a version attachment
    without a blob. When the notice is fetched again and differs only in now having
    those files, the files belong to the same version: filling them in is not an edit.
    """
    version = session.get(NoticeVersion, notice.current_version_id) if notice.current_version_id else None
    if version is None:
        return False
    missing = {canonicalize_url(a.url): a for a in version.attachments if a.blob_sha256 is None}
    if not missing:
        return False
    as_before = replace(record, attachments=[
        replace(a, blob=None) if canonicalize_url(a.url) in missing else a for a in record.attachments
    ])
    if content_fingerprint(as_before) != notice.content_fingerprint:
        return False  # something else changed too: that is a new version
    for attachment in record.attachments:
        row = missing.get(canonicalize_url(attachment.url))
        if row is not None and attachment.blob is not None:
            row.blob_sha256 = _upsert_blob(session, attachment.blob)
            row.skipped_reason = None
    version.content_fingerprint = fingerprint
    notice.content_fingerprint = fingerprint
    return True


def _create(
    session: Session, site: Site, record: NoticeRecord, fingerprint: str, fetched_at: datetime
) -> Outcome:
    notice = Notice(
        site_id=site.id,
        canonical_url=_fit(Notice, "canonical_url", record.canonical_url),
        url=_fit(Notice, "url", record.url),
        version_count=0,
        status="active",
        first_seen_at=fetched_at,
        last_changed_at=fetched_at,
    )
    _touch(notice, record, fetched_at)
    session.add(notice)
    session.flush()
    _link_columns(session, notice, site, record.column_urls, fetched_at)
    version = _add_version(session, notice, record, fingerprint, fetched_at)
    root_id = find_duplicate(
        session,
        notice_id=notice.id,
        body_text=record.body_text,
        body_fp=notice.body_fingerprint or "",
        signature=notice.minhash or b"",
        published_at=notice.published_at,
    )
    notice.duplicate_of_id = _choose_original(session, notice, root_id)
    event = _event(session, kind="new", notice=notice, version_id=version.id, run_id=record.run_id)
    return Outcome("new", notice.id, version.id, 1, notice.duplicate_of_id, event.id,
                   joined_duplicates=root_id is not None)


def _choose_original(session: Session, notice: Notice, root_id: int | None) -> int | None:
    """The original of a duplicate group is the earliest published copy, not the first
    crawled: a repost found before its original hands the group over to the original."""
    if root_id is None:
        return None
    root = session.get(Notice, root_id)
    if root is None or not notice.published_at or not root.published_at:
        return root_id
    if notice.published_at[:10] >= root.published_at[:10]:
        return root_id
    for member in session.scalars(select(Notice).where(Notice.duplicate_of_id == root_id)):
        member.duplicate_of_id = notice.id
    root.duplicate_of_id = notice.id
    return None


def _touch(notice: Notice, record: NoticeRecord, fetched_at: datetime) -> None:
    notice.last_seen_at = fetched_at
    notice.last_fetched_at = fetched_at
    notice.missing_since = None
    # A response without validators clears the old ones: they no longer describe the page.
    notice.etag = _fit(Notice, "etag", record.etag)
    notice.last_modified = _fit(Notice, "last_modified", record.last_modified)


def _add_version(
    session: Session, notice: Notice, record: NoticeRecord, fingerprint: str, fetched_at: datetime
) -> NoticeVersion:
    values: dict[str, Any] = {
        name: _fit(NoticeVersion, name, getattr(record, name)) for name in _VERSION_FIELDS
    }
    values["title"] = values["title"] or ""
    values["body_text"] = values["body_text"] or ""
    values["body_html"] = values["body_html"] or ""
    version = NoticeVersion(
        notice_id=notice.id,
        version=notice.version_count + 1,
        content_fingerprint=fingerprint,
        fetched_at=fetched_at,
        run_id=record.run_id,
        **values,
    )
    for position, att in enumerate(record.attachments):
        sha = _upsert_blob(session, att.blob) if att.blob is not None else None
        version.attachments.append(
            VersionAttachment(
                blob_sha256=sha,
                url=_fit(VersionAttachment, "url", att.url) or "",
                name=_fit(VersionAttachment, "name", att.name) or "",
                position=position,
                skipped_reason=att.skipped_reason,
            )
        )
    session.add(version)
    session.flush()
    # The FK column, not the relationship: avoids loading ``versions`` for every edit.
    notice.current_version_id = version.id
    notice.version_count = version.version
    notice.title = version.title
    notice.published_at = version.published_at
    notice.content_fingerprint = fingerprint
    notice.body_fingerprint = body_fingerprint(record.body_text)
    notice.minhash = minhash_signature(record.body_text)
    notice.last_changed_at = fetched_at
    session.flush()
    return version


def _upsert_blob(session: Session, blob: StoredBlob) -> str:
    """One ``blob`` row per digest however many notices link it; race-safe across runs."""
    values = {
        "sha256": blob.sha256,
        "size": blob.size,
        "media_type": _fit(Blob, "media_type", blob.media_type),
        "path": _fit(Blob, "path", blob.path),
        "text": blob.text,
        "extraction_error": blob.extraction_error,
        "created_at": utcnow(),
    }
    dialect = session.get_bind().dialect.name
    ins: Any = postgresql.insert(Blob) if dialect == "postgresql" else sqlite.insert(Blob)
    session.execute(ins.values(**values).on_conflict_do_nothing(index_elements=[Blob.sha256]))
    if blob.text is not None:
        # An earlier run may have stored the file before text extraction worked.
        session.execute(
            update(Blob)
            .where(Blob.sha256 == blob.sha256, Blob.text.is_(None))
            .values(text=blob.text, extraction_error=None)
            .execution_options(synchronize_session=False)
        )
    return blob.sha256


def _link_columns(
    session: Session, notice: Notice, site: Site, column_urls: list[str], seen_at: datetime
) -> None:
    """Link the notice to every column that listed it (one notice, many columns).

    Column URLs are matched exactly, then by canonical form; a column the registry
    does not know (a spider followed a sub-column) is created, marked ``discovered``.
    """
    urls = list(dict.fromkeys(u for u in column_urls if u))
    if not urls:
        return
    by_url: dict[str, Column] = {}
    for existing in session.scalars(select(Column).where(Column.site_id == site.id)):
        by_url.setdefault(canonicalize_url(existing.url), existing)
        by_url[existing.url] = existing
    column_ids: list[int] = []
    for url in urls:
        column: Column | None = by_url.get(url) or by_url.get(canonicalize_url(url))
        if column is None:
            fitted = _fit(Column, "url", url) or url
            column = Column(site_id=site.id, url=fitted, name=_fit(Column, "name", url) or url,
                            hints={"discovered": True})
            session.add(column)
            session.flush()
            by_url[url] = column
        column_ids.append(column.id)
    column_ids = list(dict.fromkeys(column_ids))
    linked = {
        nc.column_id: nc
        for nc in session.scalars(
            select(NoticeColumn).where(
                NoticeColumn.notice_id == notice.id, NoticeColumn.column_id.in_(column_ids)
            )
        )
    }
    for column_id in column_ids:
        link = linked.get(column_id)
        if link is None:
            session.add(NoticeColumn(notice_id=notice.id, column_id=column_id,
                                     first_seen_at=seen_at, last_listed_at=seen_at))
        elif as_utc(link.last_listed_at) < seen_at:
            link.last_listed_at = seen_at
    session.flush()


def _event(
    session: Session, *, kind: str, notice: Notice, version_id: int | None, run_id: int | None
) -> AlertEvent:
    site = session.get(Site, notice.site_id)
    event = AlertEvent(
        kind=kind,
        notice_id=notice.id,
        version_id=version_id,
        site_id=notice.site_id,
        run_id=run_id,
        created_at=utcnow(),
        fanned_out=False,
        # Before a site's first complete crawl everything is "new": alerts skip these
        # unless a subscription opts into backfill.
        baseline=site is None or site.baseline_at is None,
    )
    session.add(event)
    session.flush()
    return event


def _by_url(session: Session, canonical_url: str) -> Notice | None:
    # Canonical URLs are unique across sites, as in ``apply_notice``.
    return session.scalar(select(Notice).where(Notice.canonical_url == canonical_url))


def mark_unchanged(session: Session, item: NoticeUnchanged) -> bool:
    """A list row or a 304 for a known notice: touch ``last_seen_at`` and column links.

    Returns False for an unknown notice. A withdrawn notice is not re-activated here:
    only a successful fetch (``apply_notice``) proves it is back.
    """
    notice = _by_url(session, item.canonical_url)
    if notice is None:
        return False
    seen_at = as_utc(item.seen_at) if item.seen_at is not None else utcnow()
    if notice.last_seen_at is None or as_utc(notice.last_seen_at) < seen_at:
        notice.last_seen_at = seen_at
    notice.missing_since = None
    _link_columns(session, notice, notice.site, item.column_urls, seen_at)
    session.flush()
    return True


def mark_gone(session: Session, item: NoticeGone) -> Outcome | None:
    """Withdraw an active notice (404/410/redirect/removal stub) and write its event.

    Versions are kept. Returns None when the notice is unknown or already withdrawn.
    """
    notice = _by_url(session, item.canonical_url)
    if notice is None or notice.status != "active":
        return None
    notice.status = "withdrawn"
    notice.withdrawn_at = as_utc(item.seen_at) if item.seen_at is not None else utcnow()
    session.flush()
    event = _event(session, kind="withdrawn", notice=notice, version_id=notice.current_version_id,
                   run_id=item.run_id)
    return Outcome("withdrawn", notice.id, notice.current_version_id, notice.version_count,
                   notice.duplicate_of_id, event.id)
