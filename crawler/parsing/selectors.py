"""Explicit selectors from the registry, overriding a family adapter field by field.

An odd site (a template no family adapter reads well) gets selectors in its column::

    columns:
      - url: http://www.example.gov.cn/xxgk/tzgg/
        selectors:
          list_item: "ul.notice-rows > li"
          list_link: "a.row-title"
          list_date: "xpath:.//em[@class='day']"
          title: "div.headline"
          body: "#article-text"
          attachments: "div.files a"

A selector is CSS unless it starts with ``xpath:``; CSS may end in ``::attr(name)`` and
XPath may select an attribute (``//meta[@name='PubDate']/@content``). List selectors
are evaluated inside each ``list_item`` match when one is given. Fields without a
selector come from the base adapter; a selector that matches nothing on a page falls
back to the base adapter too (a site can have several templates), and when neither
yields a title or a body the page is an ``ExtractionError``, never a half-empty notice.
Selectors apply to HTML pages only: JSON/XML list APIs (``kind="list_api"``) stay with
the base adapter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from cssselect import SelectorError as CssSyntaxError
from lxml import etree
from parsel import Selector, SelectorList

from ._html import squash
from .attachments import name_from_url
from .dates import parse_cn_datetime
from .families._common import absolute, build_notice, start, strip_label
from .text import clean_body
from .titles import full_title
from .types import AttachmentLink, ExtractionError, ListEntry, ListPage, PageRequest, ParsedNotice

if TYPE_CHECKING:
    from .families import FamilyAdapter

SELECTOR_KEYS = frozenset(
    [
        "list_item",
        "list_link",
        "list_date",
        "next_page",
        "title",
        "date",
        "source",
        "body",
        "attachments",
    ]
)
XPATH_PREFIX = "xpath:"
_PROBE = Selector(text="<html><body><p>probe</p></body></html>")


def _query(node: Selector | SelectorList[Selector], spec: str) -> SelectorList[Selector]:
    spec = spec.strip()
    if spec.startswith(XPATH_PREFIX):
        return node.xpath(spec[len(XPATH_PREFIX) :].strip())
    return node.css(spec)


def selector_problems(selectors: Mapping[str, object]) -> list[str]:
    """One line per unknown key or selector that does not compile; ``[]`` when fine."""
    problems: list[str] = []
    for key, spec in selectors.items():
        if key not in SELECTOR_KEYS:
            problems.append(
                f"selectors: unknown key {key!r} (valid: {', '.join(sorted(SELECTOR_KEYS))})"
            )
            continue
        if not isinstance(spec, str) or not spec.strip():
            problems.append(f"selectors: {key}: must be a non-empty string")
            continue
        try:
            _query(_PROBE, spec)
        except (CssSyntaxError, ValueError, etree.XPathError) as exc:
            problems.append(f"selectors: {key}: {spec!r} is not a valid selector ({exc})")
    return problems


def _texts(nodes: SelectorList[Selector]) -> list[str]:
    """Squashed text of each match: attribute/text results as they are, elements' text."""
    out: list[str] = []
    for node in nodes:
        if isinstance(node.root, str):
            text = squash(node.root)
        else:
            text = squash(
                " ".join(
                    node.xpath(".//text()[not(ancestor::script)][not(ancestor::style)]").getall()
                )
            )
        if text:
            out.append(text)
    return out


def _href(node: Selector) -> str:
    if isinstance(node.root, str):
        return node.root
    return node.attrib.get("href", "") or (node.xpath(".//a/@href").get() or "")


class SelectorAdapter:
    """``base`` with registry selectors taking precedence where they are given."""

    def __init__(self, base: FamilyAdapter, selectors: Mapping[str, str]) -> None:
        self.base = base
        self.selectors = {k: v for k, v in selectors.items() if v}
        self.name = base.name
        self.label = f"{base.label} + selectors"
        self.problems = selector_problems(self.selectors)

    def _check(self, url: str) -> None:
        # The registry loader does not compile selectors: a bad one fails per page, not per crawl.
        if self.problems:
            raise ExtractionError(url, "; ".join(self.problems))

    def detect(self, html: str, url: str) -> float:
        return self.base.detect(html, url)

    # -- lists ---------------------------------------------------------------------------

    def parse_list(
        self, body: str, url: str, *, kind: str = "list", request: PageRequest | None = None
    ) -> ListPage:
        self._check(url)
        page = self.base.parse_list(body, url, kind=kind, request=request)
        if kind != "list":
            return page
        sel, _ = start(body)
        s = self.selectors
        if "list_item" in s or "list_link" in s:
            page.entries = self._entries(sel, url)
        if "next_page" in s:
            links = [absolute(url, _href(n)) for n in _query(sel, s["next_page"])]
            nxt = next((link for link in links if link and link != url), None)
            page.follow = [PageRequest(url=nxt, kind="list")] if nxt else []
        return page

    def _entries(self, sel: Selector, url: str) -> list[ListEntry]:
        s = self.selectors
        rows: list[Selector] = list(_query(sel, s["list_item"])) if "list_item" in s else []
        pairs: list[tuple[Selector | None, Selector]] = []
        if rows:
            for item in rows:
                links = (
                    _query(item, s["list_link"]) if "list_link" in s else item.xpath(".//a[@href]")
                )
                if links:
                    pairs.append((item, links[0]))
        else:
            pairs = [(None, link) for link in _query(sel, s["list_link"])]
        entries: list[ListEntry] = []
        seen: set[str] = set()
        for row, link in pairs:
            target = absolute(url, _href(link))
            if not target or target in seen:
                continue
            attr_title = link.attrib.get("title") if not isinstance(link.root, str) else None
            title = full_title(" ".join(_texts(SelectorList([link]))), attr_title)
            date = None
            if row is not None and "list_date" in s:
                date = parse_cn_datetime(" ".join(_texts(_query(row, s["list_date"]))))
            elif row is not None:
                date = parse_cn_datetime(
                    " ".join(row.xpath(".//text()[not(ancestor::a)]").getall())
                )
            seen.add(target)
            entries.append(ListEntry(url=target, title=title, published_at=date))
        return entries

    # -- notices -------------------------------------------------------------------------

    def parse_notice(self, html: str, url: str) -> ParsedNotice:
        self._check(url)
        sel, text = start(html)
        s = self.selectors
        title = " ".join(_texts(_query(sel, s["title"]))) if "title" in s else ""
        body_html = (
            "".join(n.root if isinstance(n.root, str) else n.get() for n in _query(sel, s["body"]))
            if "body" in s
            else ""
        )
        body_text, clean_html = clean_body(body_html, url) if body_html else ("", "")
        try:
            notice = self.base.parse_notice(html, url)
        except ExtractionError:
            if not (title or body_text):
                raise
            # The base adapter gave up, but the selectors may be exactly what this page needs.
            notice = build_notice(sel, text, url, self.name, title=title, body_html=body_html)
        if notice.withdrawn_hint:
            return notice
        if title:
            notice.title = title
        if body_text:
            notice.body_text, notice.body_html = body_text, clean_html
        if "date" in s:
            notice.published_at = (
                parse_cn_datetime(" ".join(_texts(_query(sel, s["date"])))) or notice.published_at
            )
        if "source" in s:
            notice.source = strip_label(" ".join(_texts(_query(sel, s["source"])))) or notice.source
        if "attachments" in s:
            found = self._attachments(sel, url)
            notice.attachments = found or notice.attachments
        return notice

    def _attachments(self, sel: Selector, url: str) -> list[AttachmentLink]:
        links: list[AttachmentLink] = []
        seen: set[str] = set()
        for node in _query(sel, self.selectors["attachments"]):
            anchors = (
                [node]
                if isinstance(node.root, str) or node.attrib.get("href")
                else node.xpath(".//a[@href]")
            )
            for anchor in anchors:
                target = absolute(url, _href(anchor))
                if not target or target in seen:
                    continue
                seen.add(target)
                name = (
                    " ".join(_texts(SelectorList([anchor])))
                    if not isinstance(anchor.root, str)
                    else ""
                )
                links.append(AttachmentLink(url=target, name=name or name_from_url(target)))
        return links
