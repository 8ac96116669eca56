"""Family A: TRS WCM static pages (index.html, index_1.html ... 0-based)."""

from __future__ import annotations

import re
from urllib.parse import urljoin

from parsel import Selector

from ..types import ListPage, PageRequest, ParsedNotice
from ._common import (
    build_notice,
    first_date,
    first_html,
    first_text,
    generic_rows,
    js_strings_html,
    row_entries,
    start,
)

_CREATE_PAGE = re.compile(
    r"createPage(?:HTML)?\s*\(\s*(\d+)\s*,\s*(\d+)\s*,\s*[\"'](\w+)[\"']\s*,\s*[\"'](\w+)[\"']"
)
BODY_SELECTORS = (".TRS_Editor", ".trs_editor_view", "#zoom", "#mainText", ".Custom_UnionStyle")


def _script_rows(sel: Selector, url: str) -> list:
    html = "".join(js_strings_html(s) for s in sel.xpath("//script/text()").getall())
    if "<a" not in html:
        return []
    inner = Selector(text=f"<ul>{html}</ul>")
    return row_entries(inner.xpath("//li[.//a[@href]] | //tr[.//a[@href]]"), url)


class TrsWcmAdapter:
    name = "trs_wcm"
    label = "TRS WCM (static pages)"

    def detect(self, html: str, url: str) -> float:
        score = 0.0
        if _CREATE_PAGE.search(html):
            score += 0.5
        if re.search(r"t\d{8}_\d+\.s?html?", html):
            score += 0.25
        if "TRS_Editor" in html or "trs_editor" in html.lower():
            score += 0.2
        if re.search(r"/index(_\d+)?\.s?html?$", url):
            score += 0.1
        if "ms-visible" in html or "pageChnlInfo" in html:
            score -= 0.4  # family B is TRS-based too but has its own markers
        return max(0.0, min(score, 1.0))

    def parse_list(
        self, body: str, url: str, *, kind: str = "list", request: PageRequest | None = None
    ) -> ListPage:
        sel, html = start(body)
        entries = generic_rows(sel, url)
        known = {e.url for e in entries}
        entries += [e for e in _script_rows(sel, url) if e.url not in known]
        page = ListPage(entries=entries)
        m = _CREATE_PAGE.search(html)
        if m:
            count, current, prefix, ext = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
            page.page_count = count
            if current == 0 and count > 1 and count < 100_000:
                page.follow = [
                    PageRequest(url=urljoin(url, f"{prefix}_{i}.{ext}"), kind="list", page=i)
                    for i in range(1, count)
                ]
        return page

    def parse_notice(self, html: str, url: str) -> ParsedNotice:
        sel, html = start(html)
        return build_notice(
            sel, html, url, self.name,
            title=first_text(sel, ".article_title", ".title h1", "h1", ".tit", ".detail-title"),
            body_html=first_html(sel, *BODY_SELECTORS),
            published=first_date(sel, ".article_time", ".time", ".date", ".pubtime", ".info"),
            source=first_text(sel, ".article_source", ".source", ".ly"),
        )  # fmt: skip
