"""Fallback for unknown templates: meta tags, disclosure block, main-text finder."""

from __future__ import annotations

from parsel import Selector

from .._html import squash
from ..types import ListPage, PageRequest, ParsedNotice
from ._common import absolute, build_notice, first_date, first_text, generic_rows, start

_NEXT_WORDS = ("下一页", "下页", "后一页", "next")


def next_links(sel: Selector, url: str) -> list[PageRequest]:
    """The 下一页 link, if there is one that goes somewhere else."""
    for a in sel.xpath("//a[@href]"):
        text = squash(" ".join(a.xpath(".//text()").getall())).lower()
        if text in _NEXT_WORDS or text.strip("[]【】<> ") in _NEXT_WORDS:
            link = absolute(url, a.attrib.get("href", ""))
            if link and link != url:
                return [PageRequest(url=link, kind="list")]
    return []


class GenericAdapter:
    name = "generic"
    label = "Generic (meta tags + main-text heuristics)"

    def detect(self, html: str, url: str) -> float:
        return 0.05  # always applicable, never preferred over a recognised family

    def parse_list(
        self, body: str, url: str, *, kind: str = "list", request: PageRequest | None = None
    ) -> ListPage:
        sel, _ = start(body)
        return ListPage(entries=generic_rows(sel, url), follow=next_links(sel, url))

    def parse_notice(self, html: str, url: str) -> ParsedNotice:
        sel, html = start(html)
        return build_notice(
            sel, html, url, self.name,
            title=first_text(sel, "//meta[@name='ArticleTitle']/@content", "h1"),
            published=first_date(sel, ".pubtime", ".time", ".date"),
        )  # fmt: skip
