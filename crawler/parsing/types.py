"""Plain data types shared by the pure parsing functions.

Nothing here imports Scrapy: parsers take ``(html, url)`` (or a JSON/XML body) and
return these records, so they can be tested and fuzzed without a crawler.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A follow-up request a parser asks for (next list page, JSON/XML list API).

    ``kind`` tells the spider which parse function handles the answer:
    ``"list"`` (an HTML list page), ``"list_api"`` (a JSON/XML list endpoint for the
    same family) or ``"notice"``.
    """

    url: str
    kind: str = "list"
    method: str = "GET"
    formdata: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    page: int | None = None


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One row of a column list: a link to a notice."""

    url: str
    title: str = ""
    published_at: str | None = None  # ISO 8601 in +08:00, or a bare date
    # Fields some list APIs already carry (family B/E JSON); the notice page wins.
    extra: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class ListPage:
    """What a list page (or list API answer) yields."""

    entries: list[ListEntry] = field(default_factory=list)
    follow: list[PageRequest] = field(default_factory=list)
    page_count: int | None = None
    record_count: int | None = None


@dataclass(frozen=True, slots=True)
class AttachmentLink:
    """A link to a file found on a notice page; ``name`` is the human name (data only)."""

    url: str
    name: str = ""


@dataclass(slots=True)
class ParsedNotice:
    """One notice as read from its page, before normalisation and storage.

    Every text field is already stripped; empty disclosure fields (``无``) are ``None``.
    Dates are ISO 8601 strings: ``2022-01-04T09:40:00+08:00`` where the page gives a
    time, ``2022-01-04`` where it gives only a date.
    """

    url: str
    title: str
    published_at: str | None = None
    source: str | None = None  # 来源
    category: str | None = None  # column / 栏目 name as shown on the page
    index_no: str | None = None  # 索引号
    doc_no: str | None = None  # 文号 / 发文字号
    issuing_org: str | None = None  # 发文机关 / 发布机构
    written_date: str | None = None  # 成文日期
    validity: str | None = None  # 有效性
    subject: str | None = None  # 主题分类
    body_text: str = ""  # paragraphs separated by "\n\n", boilerplate removed
    body_html: str = ""  # sanitised: no script, no event handlers, no remote loads
    attachments: list[AttachmentLink] = field(default_factory=list)
    family: str = ""
    withdrawn_hint: bool = False  # the page is a bare meta-refresh / removal stub


class ExtractionError(ValueError):
    """A page could not be parsed into a notice; the message names what was missing."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
