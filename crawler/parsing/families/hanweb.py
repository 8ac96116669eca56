"""Family C: Hanweb (大汉) JCMS: /col/colN/index.html, datastore XML, dataproxy.jsp."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urljoin, urlsplit

from parsel import Selector

from ..types import ListPage, PageRequest, ParsedNotice
from ._common import build_notice, first_date, first_html, first_text, row_entries, start

_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S | re.I)
_TOTAL = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>", re.I)
_TOTAL_PAGE = re.compile(r"<totalpage>\s*(\d+)\s*</totalpage>", re.I)
_TOTAL_JS = re.compile(r"\btotalRecord\s*[:=]\s*[\"']?(\d+)", re.I)
_PERPAGE = re.compile(r"\bperpage\s*[:=]\s*[\"']?(\d+)", re.I)
_PARAM_KEYS = ("col", "appid", "webid", "path", "columnid", "unitid", "permissiontype")
_CONTENT = re.compile(r"<!--\s*ContentStart\s*-->(.*?)<!--\s*ContentEnd\s*-->", re.S | re.I)
PROXY = "/module/web/jpage/dataproxy.jsp"
GROUP_PAGES = 3  # Hanweb fetches three pages of records per proxy call


def _params(html: str) -> tuple[tuple[str, str], ...]:
    found: dict[str, str] = {}
    for key in _PARAM_KEYS:
        m = re.search(rf"\b{key}\b\s*[:=]\s*[\"']?([^\"',;&}}\s]*)", html)
        if m:
            found[key] = m.group(1)
    return tuple(found.items())


def _records(text: str, url: str) -> list:
    html = "".join(_RECORD.findall(text))
    if not html:
        return []
    sel = Selector(text=f"<ul>{html}</ul>")
    return row_entries(
        sel.xpath("//li[.//a[@href]] | //tr[.//a[@href]] | //div[.//a[@href]][not(.//div)]"), url
    )


def _proxy_request(
    url: str, start_rec: int, perpage: int, form: tuple[tuple[str, str], ...]
) -> PageRequest:
    end = start_rec + perpage * GROUP_PAGES - 1
    target = urljoin(url, f"{PROXY}?startrecord={start_rec}&endrecord={end}&perpage={perpage}")
    return PageRequest(
        url=target, kind="list_api", method="POST", formdata=form,
        page=max(2, (start_rec - 1) // perpage + 1),
    )  # fmt: skip


class HanwebAdapter:
    name = "hanweb"
    label = "Hanweb JCMS (datastore + dataproxy.jsp)"

    def detect(self, html: str, url: str) -> float:
        score = 0.0
        if "<datastore" in html.lower():
            score += 0.5
        if "dataproxy.jsp" in html or "/module/download/downfile.jsp" in html:
            score += 0.3
        if re.search(r"/col/col\d+/", url) or re.search(r"art_\d+_\d+\.html", html):
            score += 0.2
        if "xxgk_table" in html or "ContentStart" in html:
            score += 0.1
        return min(score, 1.0)

    def parse_list(
        self, body: str, url: str, *, kind: str = "list", request: PageRequest | None = None
    ) -> ListPage:
        text = body if isinstance(body, str) else ""
        entries = _records(text, url)
        total_m = _TOTAL.search(text) or _TOTAL_JS.search(text)
        total = int(total_m.group(1)) if total_m else None
        per_m = _PERPAGE.search(text)
        perpage = max(1, int(per_m.group(1))) if per_m else 15
        pages_m = _TOTAL_PAGE.search(text)
        page = ListPage(entries=entries, record_count=total)
        page.page_count = (
            int(pages_m.group(1))
            if pages_m
            else (-(-total // perpage) if total is not None else None)
        )
        if kind == "list_api":
            # Chain: each proxy answer asks for the next group while records remain.
            if request is None or not entries:
                return page
            qs = parse_qs(urlsplit(request.url).query)
            try:
                end = int(qs["endrecord"][0])
                perpage = int(qs.get("perpage", [str(perpage)])[0]) or perpage
            except (KeyError, ValueError, IndexError):
                return page
            if total is not None and end < total:
                page.follow = [_proxy_request(request.url, end + 1, perpage, request.formdata)]
            return page
        if not entries and not total:
            sel, _ = start(text)
            page.entries = row_entries(sel.xpath("//li[.//a[@href]]"), url, need_date=True)
            return page
        form = _params(text)
        if total is None or len(entries) < total:
            page.follow = [_proxy_request(url, len(entries) + 1, perpage, form)]
        return page

    def parse_notice(self, html: str, url: str) -> ParsedNotice:
        sel, html = start(html)
        body = ""
        zoom = sel.css("#zoom").get() or ""
        m = _CONTENT.search(zoom) or _CONTENT.search(html)
        if m:
            body = m.group(1)
        body = body or first_html(sel, "#zoom", ".zoom", "#content", ".bt_content", ".article")
        return build_notice(
            sel, html, url, self.name,
            title=first_text(sel, ".title", ".bt_title", "h1", ".tit"),
            body_html=body,
            published=first_date(sel, ".pubtime", ".time", ".date", "//*[contains(text(),'发布日期')]"),
            source=first_text(sel, ".source", "//*[starts-with(normalize-space(text()),'来源')]"),
        )  # fmt: skip
