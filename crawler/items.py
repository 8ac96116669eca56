"""Typed items the spiders yield; pipelines turn them into storage records."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crawler.parsing.types import ParsedNotice


@dataclass(slots=True)
class NoticeItem:
    site_key: str
    column_urls: list[str]
    url: str
    canonical_url: str
    parsed: ParsedNotice
    fetched_at: datetime
    etag: str | None = None
    last_modified: str | None = None
    raw_sha256: str | None = None
    warc_record: str | None = None
    # FilesPipeline fields: URLs in, results (and our failure records) out.
    file_urls: list[str] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    file_failures: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class NoticeSeenItem:
    """A known notice seen again (in a list, or a 304): no new content."""

    site_key: str
    canonical_url: str
    column_urls: list[str]
    seen_at: datetime


@dataclass(slots=True)
class NoticeGoneItem:
    site_key: str
    canonical_url: str
    reason: str  # "404", "410", "redirect", "refresh"
    seen_at: datetime


@dataclass(slots=True)
class FetchErrorItem:
    site_key: str
    url: str
    kind: str  # blocked, http, parse, cap_exceeded, refused_address, timeout, dns, trap
    detail: str = ""


@dataclass(slots=True)
class ColumnStateItem:
    """Validators of a column's first list page, kept for the next conditional request."""

    site_key: str
    column_url: str
    etag: str | None
    last_modified: str | None
    crawled_at: datetime


@dataclass(slots=True)
class ListPageItem:
    """One list page read: how many entries it parsed to (site health compares yields)."""

    site_key: str
    column_url: str
    entries: int
    not_modified: bool = False  # a 304: unchanged since the last run, nothing parsed
