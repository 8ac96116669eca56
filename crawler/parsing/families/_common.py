"""Helpers shared by the family adapters: list rows, pagination bits, notice assembly."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from lxml import etree
from parsel import Selector

from .._html import block_text, selector, squash
from ..attachments import find_attachments
from ..dates import parse_cn_datetime
from ..disclosure import parse_disclosure
from ..meta import read_meta
from ..text import clean_body, extract_main_text, is_boilerplate_line
from ..titles import full_title
from ..types import ExtractionError, ListEntry, ParsedNotice

# Detail-page URL shapes across families (t20220104_123, art_12_345, post_123, content/).
NOTICE_HREF = re.compile(
    r"t\d{8}_\d+|/art_\d+_\d+|/art/\d{4}/|post_\d+|/content/|/\d{6}/[^/]+\.s?html?$|"
    r"detail|info_\d+|\d{5,}\.s?html?$",
    re.I,
)
_DEAD_HREF = ("javascript:", "mailto:", "tel:", "#")
_LABEL_PREFIX = re.compile(r"^(来源|信息来源|文章来源|时间|日期|发布时间|发布日期)\s*[:：]\s*")
_REFRESH = re.compile(r"<meta[^>]+http-equiv\s*=\s*[\"']?refresh", re.I)


def absolute(url: str, href: str) -> str | None:
    href = (href or "").strip()
    if not href or href.lower().startswith(_DEAD_HREF):
        return None
    joined = urljoin(url, href)
    return joined if urlsplit(joined).scheme in {"http", "https"} else None


def row_entries(nodes: list[Selector], url: str, *, need_date: bool = False) -> list[ListEntry]:
    """List entries from row nodes (``li``/``tr``/...), each with one notice link.

    The title comes from the longest anchor (title attr when the text is cut with …);
    the date from the row's text outside the anchor (dates may be split over lines).
    """
    entries: list[ListEntry] = []
    seen: set[str] = set()
    for row in nodes:
        anchors = row.xpath(".//a[@href]")
        best = None
        best_len = 0
        for a in anchors:
            text = squash(" ".join(a.xpath(".//text()").getall()))
            size = max(len(text), len(squash(a.attrib.get("title"))))
            if size > best_len:
                best, best_len = a, size
        if best is None or best_len < 2:
            continue
        link = absolute(url, best.attrib.get("href", ""))
        if link is None or link in seen:
            continue
        text = squash(" ".join(best.xpath(".//text()").getall()))
        outside = " ".join(row.xpath(".//text()[not(ancestor::a)]").getall())
        date = parse_cn_datetime(outside) or parse_cn_datetime(text)
        if need_date and date is None and not NOTICE_HREF.search(link):
            continue
        title = full_title(text, best.attrib.get("title"))
        if not title or is_boilerplate_line(title):
            continue
        seen.add(link)
        entries.append(ListEntry(url=link, title=title, published_at=date))
    return entries


def generic_rows(sel: Selector, url: str) -> list[ListEntry]:
    """Rows anywhere on a page that look like notice links (dated or notice-shaped)."""
    rows = sel.xpath("//li[.//a[@href]] | //tr[.//a[@href]][not(.//tr)] | //dd[.//a[@href]]")
    return row_entries(rows, url, need_date=True)


def js_strings_html(script: str) -> str:
    """Concatenate the string literals of ``document.write(...)`` calls into HTML."""
    out: list[str] = []
    for call in re.finditer(r"document\.write(?:ln)?\s*\((.*?)\)\s*;?\s*$", script, re.S | re.M):
        for lit in re.finditer(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"", call.group(1)):
            raw = lit.group(1) if lit.group(1) is not None else lit.group(2) or ""
            out.append(re.sub(r"\\(.)", r"\1", raw))
    return "".join(out)


def is_removal_stub(sel: Selector, html: str) -> bool:
    """A bare ``<meta http-equiv=refresh>`` page with no real content."""
    if not _REFRESH.search(html[:5000]):
        return False
    body = sel.xpath("//body")
    text = squash(" ".join(body.xpath(".//text()[not(ancestor::script)]").getall())) if body else ""
    return len(text) < 40


def strip_label(text: str) -> str:
    return _LABEL_PREFIX.sub("", squash(text)).strip()


def first_text(sel: Selector, *queries: str) -> str:
    for q in queries:
        nodes = sel.css(q) if not q.startswith(("/", "(")) else sel.xpath(q)
        for node in nodes:
            text = squash(" ".join(node.xpath(".//text()[not(ancestor::script)]").getall()))
            if text:
                return text
    return ""


def first_date(sel: Selector, *queries: str) -> str | None:
    """The first date among the nodes matched by ``queries`` that actually parses."""
    for q in queries:
        nodes = sel.css(q) if not q.startswith(("/", "(")) else sel.xpath(q)
        for node in nodes:
            text = " ".join(node.xpath(".//text()[not(ancestor::script)]").getall())
            value = parse_cn_datetime(text)
            if value:
                return value
    return None


def first_html(sel: Selector, *queries: str) -> str:
    """Outer HTML of the first matching node that has text."""
    for q in queries:
        nodes = sel.css(q) if not q.startswith(("/", "(")) else sel.xpath(q)
        for node in nodes:
            root = node.root
            if isinstance(root, etree._Element) and squash(block_text(root)):
                return node.get()
    return ""


def page_title(sel: Selector) -> str:
    return squash(sel.xpath("string(//title)").get())


def breadcrumb_category(sel: Selector) -> str | None:
    """Last link text of the 当前位置 breadcrumb, if any."""
    q = (
        "//*[contains(@class,'crumb') or contains(@class,'position') or contains(@class,'location')"
        " or contains(@class,'dqwz') or contains(@id,'position')]"
    )
    for node in sel.xpath(q):
        links = [squash(t) for t in node.xpath(".//a//text()").getall() if squash(t)]
        if links and links[-1] not in {"首页", "正文"}:
            return links[-1]
    return None


def build_notice(
    sel: Selector,
    html: str,
    url: str,
    family: str,
    *,
    title: str = "",
    body_html: str = "",
    published: str | None = None,
    source: str | None = None,
    category: str | None = None,
    generic_body: bool = True,
) -> ParsedNotice:
    """Assemble a ParsedNotice; national meta tags and the disclosure block fill gaps.

    Raises ExtractionError("no title"/"no body") rather than return a half-empty notice.
    A removal stub yields ``ParsedNotice(title="", withdrawn_hint=True)``.
    """
    if is_removal_stub(sel, html):
        return ParsedNotice(url=url, title="", family=family, withdrawn_hint=True)
    meta = read_meta(sel)
    disc = parse_disclosure(sel)
    title = squash(title) or (disc.get("title") or "") or meta.get("ArticleTitle", "")
    if not title:
        title = full_title("", None, None, page_title(sel))
    text, clean_html = clean_body(body_html, url) if body_html else ("", "")
    if not text and generic_body:
        text, clean_html = extract_main_text(html, url, title=title)
    if not title:
        raise ExtractionError(url, "no title")
    if not text:
        raise ExtractionError(url, "no body")
    pub = parse_cn_datetime(published) if published else None
    pub = pub or parse_cn_datetime(meta.get("PubDate")) or disc.get("published_at")
    return ParsedNotice(
        url=url,
        title=title,
        published_at=pub,
        source=strip_label(source or "") or meta.get("ContentSource") or None,
        category=squash(category) or meta.get("ColumnName") or breadcrumb_category(sel),
        index_no=disc.get("index_no"),
        doc_no=disc.get("doc_no"),
        issuing_org=disc.get("issuing_org"),
        written_date=disc.get("written_date"),
        validity=disc.get("validity"),
        subject=disc.get("subject"),
        body_text=text,
        body_html=clean_html,
        attachments=find_attachments(sel, url),
        family=family,
    )


def start(html: str) -> tuple[Selector, str]:
    text = html if isinstance(html, str) else ""
    return selector(text), text
