"""Family D: Kaipu (开普云) UCAP: list.shtml, list_2.shtml ... (1-based, no _1)."""

from __future__ import annotations

import re
from urllib.parse import urljoin

from ..types import ListPage, PageRequest, ParsedNotice
from ._common import build_notice, first_date, first_html, first_text, generic_rows, start

# createPageHTML('page_div', 11, 1, 'list', 'shtml', 154): pages, current, prefix, ext, records
_CREATE_PAGE = re.compile(
    r"createPageHTML\s*\(\s*[\"'][^\"']*[\"']\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*[\"'](\w+)[\"']\s*,"
    r"\s*[\"'](\w+)[\"']\s*(?:,\s*(\d+))?"
)


class KaipuAdapter:
    name = "kaipu"
    label = "Kaipu UCAP (list.shtml, list_2.shtml ...)"

    def detect(self, html: str, url: str) -> float:
        score = 0.0
        low = html.lower()
        if _CREATE_PAGE.search(html):
            score += 0.6
        if "ucaptitle" in low or "ucapcontent" in low:
            score += 0.4
        if re.search(r"/list(_\d+)?\.shtml$", url):
            score += 0.15
        if "zoomcon" in low and "_config" not in low:
            score += 0.05
        return min(score, 1.0)

    def parse_list(
        self, body: str, url: str, *, kind: str = "list", request: PageRequest | None = None
    ) -> ListPage:
        sel, html = start(body)
        page = ListPage(entries=generic_rows(sel, url))
        m = _CREATE_PAGE.search(html)
        if m:
            count, current, prefix, ext = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
            page.page_count = count
            page.record_count = int(m.group(5)) if m.group(5) else None
            if current <= 1 and 1 < count < 100_000:
                page.follow = [
                    PageRequest(url=urljoin(url, f"{prefix}_{i}.{ext}"), kind="list", page=i)
                    for i in range(2, count + 1)
                ]
        return page

    def parse_notice(self, html: str, url: str) -> ParsedNotice:
        sel, html = start(html)
        return build_notice(
            sel, html, url, self.name,
            title=first_text(sel, "//ucaptitle", ".title", "h1"),
            body_html=first_html(sel, "//ucapcontent", "#zoomcon", "#zoom", ".content"),
            published=first_date(sel, "//publishtime", ".time", ".date"),
            source=first_text(sel, "//ucapsource", ".source"),
        )  # fmt: skip
