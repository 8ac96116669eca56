"""Pure parsing functions: ``(html, url) -> records``; no Scrapy imports here."""

from __future__ import annotations

from .attachments import attachments_from_json, find_attachments
from .dates import from_epoch, parse_cn_date, parse_cn_datetime
from .disclosure import parse_disclosure
from .encoding import decode_html, filename_from_content_disposition
from .meta import read_meta
from .text import clean_body, extract_main_text
from .titles import full_title
from .types import AttachmentLink, ExtractionError, ListEntry, ListPage, PageRequest, ParsedNotice

__all__ = [
    "AttachmentLink", "ExtractionError", "ListEntry", "ListPage", "PageRequest", "ParsedNotice",
    "attachments_from_json", "clean_body", "decode_html", "extract_main_text",
    "filename_from_content_disposition", "find_attachments", "from_epoch", "full_title",
    "parse_cn_date", "parse_cn_datetime", "parse_disclosure", "read_meta",
]  # fmt: skip
