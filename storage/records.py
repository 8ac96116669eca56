"""Plain records handed to the store by the pipeline (no Scrapy, no ORM objects).

The persist pipeline builds these from crawler items; ``storage.repository`` turns
them into rows inside one transaction per notice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(slots=True)
class StoredBlob:
    """An attachment already written to the blob store (content-addressed)."""

    sha256: str
    size: int
    media_type: str
    path: str  # relative to the data directory
    text: str | None = None
    extraction_error: str | None = None


@dataclass(slots=True)
class AttachmentRecord:
    url: str
    name: str  # human file name: data only, never a path
    blob: StoredBlob | None = None  # None when skipped (see skipped_reason)
    skipped_reason: str | None = None


@dataclass(slots=True)
class NoticeRecord:
    """One fetched notice, normalised, ready to be compared with what the store holds."""

    site_key: str
    column_urls: list[str]  # the columns whose lists linked this notice (may be empty on re-check)
    url: str
    canonical_url: str
    title: str
    published_at: str | None = None  # ISO 8601 +08:00, or a bare date
    source: str | None = None
    category: str | None = None
    index_no: str | None = None
    doc_no: str | None = None
    issuing_org: str | None = None
    written_date: str | None = None
    validity: str | None = None
    subject: str | None = None
    body_text: str = ""
    body_html: str = ""
    attachments: list[AttachmentRecord] = field(default_factory=list)
    fetched_at: datetime | None = None
    etag: str | None = None
    last_modified: str | None = None
    warc_record: str | None = None
    raw_sha256: str | None = None
    run_id: int | None = None


@dataclass(slots=True)
class NoticeGone:
    """A notice whose page now 404s/410s, redirects to its column, or is a removal stub."""

    site_key: str
    canonical_url: str
    reason: str  # "404", "410", "redirect", "refresh"
    seen_at: datetime | None = None
    run_id: int | None = None


@dataclass(slots=True)
class NoticeUnchanged:
    """A conditional re-fetch answered 304, or a list row of a known notice: touch last_seen."""

    site_key: str
    canonical_url: str
    column_urls: list[str] = field(default_factory=list)
    seen_at: datetime | None = None
    run_id: int | None = None
