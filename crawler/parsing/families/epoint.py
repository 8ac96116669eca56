"""Family F: Epoint (国泰新点): .ewb-* classes, subPage.html or iList.jsp?cur_page=N."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from ..types import ListPage, PageRequest, ParsedNotice
from ._common import (
    build_notice,
    first_date,
    first_html,
    first_text,
    generic_rows,
    row_entries,
    start,
)
from .generic import next_links

_PAGES = re.compile(r"共\s*(\d+)\s*页|\bpageCount\s*[:=]\s*[\"']?(\d+)|\d+\s*/\s*(\d+)\s*页")


def _with_page(url: str, n: int) -> str:
    parts = urlsplit(url)
    qs = parse_qs(parts.query, keep_blank_values=True)
    qs["cur_page"] = [str(n)]
    return urlunsplit(parts._replace(query=urlencode(qs, doseq=True)))


class EpointAdapter:
    name = "epoint"
    label = "Epoint (ewb-* templates)"

    def detect(self, html: str, url: str) -> float:
        score = 0.0
        hits = len(re.findall(r"class=[\"'][^\"']*\bewb-", html))
        if hits:
            score += min(0.3 + 0.1 * hits, 0.7)
        if "subPage.html" in url or "iList.jsp" in url or "cur_page" in url:
            score += 0.3
        return min(score, 1.0)

    def parse_list(
        self, body: str, url: str, *, kind: str = "list", request: PageRequest | None = None
    ) -> ListPage:
        sel, html = start(body)
        # Pager items (下一页, page numbers) sit in ewb- lists too; they are not notices.
        rows = sel.xpath(
            "//*[contains(@class,'ewb-')]//li[.//a[@href]]"
            "[not(ancestor-or-self::*[contains(@class,'page') or contains(@class,'next')"
            " or contains(@class,'prev')])]"
        )
        entries = row_entries(rows, url) if rows else generic_rows(sel, url)
        page = ListPage(entries=entries)
        m = _PAGES.search(html)
        count = int(next(g for g in m.groups() if g)) if m else None
        page.page_count = count
        qs = parse_qs(urlsplit(url).query)
        if "cur_page" in qs and count:
            if qs["cur_page"][0] in {"1", "0"} and count < 100_000:
                page.follow = [
                    PageRequest(url=_with_page(url, n), kind="list", page=n)
                    for n in range(2, count + 1)
                ]
        else:
            page.follow = next_links(sel, url)
        return page

    def parse_notice(self, html: str, url: str) -> ParsedNotice:
        sel, html = start(html)
        return build_notice(
            sel, html, url, self.name,
            title=first_text(sel, ".ewb-article-tt", ".article-title", ".ewb-details-title", "h1"),
            body_html=first_html(sel, ".ewb-article-info", ".ewb-details-info", ".article-info"),
            published=first_date(sel, ".ewb-article-sources", ".ewb-article-date", ".ewb-date"),
            source=first_text(sel, ".ewb-article-source"),
        )  # fmt: skip
