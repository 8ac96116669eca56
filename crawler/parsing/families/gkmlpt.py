"""Family E: Guangdong gkmlpt (/gkmlpt/index SPA, /gkmlpt/api/all/{cat} JSON)."""

from __future__ import annotations

import json
import math
import re
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from .._html import squash
from ..attachments import attachments_from_json
from ..dates import from_epoch, parse_cn_date, parse_cn_datetime
from ..text import clean_body
from ..types import ListEntry, ListPage, PageRequest, ParsedNotice
from ._common import absolute, build_notice, first_date, first_html, first_text, start

_SID = re.compile(r"\bSID\s*:\s*[\"']([^\"']+)[\"']")
_TREE = re.compile(r"\bTREE\s*:\s*\[")
_TREE_ID = re.compile(r"\bid[\"']?\s*:\s*[\"']?(\d+)")
_DETAIL = re.compile(r"\bDETAIL\s*[:=]\s*\{")
_FIELD = r"[\"']?{key}[\"']?\s*:\s*\"((?:[^\"\\]|\\.)*)\""


def _js_string(raw: str) -> str:
    try:
        value = json.loads(f'"{raw}"')
    except (ValueError, RecursionError):
        return raw
    return value if isinstance(value, str) else raw


def _bracket_span(text: str, start: int, open_ch: str = "[", close_ch: str = "]") -> str:
    depth = 0
    for i in range(start, min(len(text), start + 500_000)):
        ch = text[i]
        if ch == open_ch:
            depth += 1
        elif ch == close_ch:
            depth -= 1
            if depth == 0:
                return text[start : i + 1]
    return text[start:]


def _detail(html: str) -> dict[str, Any]:
    """The DETAIL object: JSON if it parses, otherwise the string fields by regex."""
    m = _DETAIL.search(html)
    if not m:
        return {}
    obj_start = m.end() - 1
    try:
        value, _ = json.JSONDecoder().raw_decode(html, obj_start)
        if isinstance(value, dict):
            return value
    except (ValueError, RecursionError):
        pass
    span = _bracket_span(html, obj_start, "{", "}")
    found: dict[str, Any] = {}
    for key in ("title", "content", "publisher", "document_number", "identifier", "source",
                "classify_main_name", "written_date", "validity"):
        fm = re.search(_FIELD.format(key=key), span)
        if fm:
            found[key] = _js_string(fm.group(1))
    dm = re.search(r"[\"']?date[\"']?\s*:\s*[\"']?(\d{10,13})", span)
    if dm:
        found["date"] = dm.group(1)
    return found


def _text(detail: dict[str, Any], key: str) -> str:
    value = detail.get(key)
    return squash(str(value)) if isinstance(value, str | int) and not isinstance(value, bool) else ""


def _empty_to_none(value: str) -> str | None:
    return None if value in ("", "无", "—", "-") else value


class GkmlptAdapter:
    name = "gkmlpt"
    label = "Guangdong gkmlpt (JSON API)"

    def detect(self, html: str, url: str) -> float:
        score = 0.0
        if "window._CONFIG" in html or "_CONFIG" in html and "SID" in html:
            score += 0.6
        if "/gkmlpt/" in url or "/gkmlpt/" in html:
            score += 0.3
        if _DETAIL.search(html) or re.search(r"post_\d+\.html", html):
            score += 0.1
        return min(score, 1.0)

    def parse_list(
        self, body: str, url: str, *, kind: str = "list", request: PageRequest | None = None
    ) -> ListPage:
        text = body if isinstance(body, str) else ""
        if kind == "list_api":
            return self._parse_api(text, url, request)
        sid = _SID.search(text)
        tree = _TREE.search(text)
        if not sid:
            return ListPage()
        ids: list[str] = []
        if tree:
            for cat in _TREE_ID.findall(_bracket_span(text, tree.end() - 1)):
                if cat not in ids:
                    ids.append(cat)
        follow = [
            PageRequest(url=urljoin(url, f"/gkmlpt/api/all/{cat}?page=1&sid={sid.group(1)}"),
                        kind="list_api", page=1)
            for cat in ids or ["0"]
        ]  # fmt: skip
        return ListPage(follow=follow)

    def _parse_api(self, text: str, url: str, request: PageRequest | None) -> ListPage:
        try:
            data: Any = json.loads(text)
        except (ValueError, RecursionError):
            return ListPage()
        if not isinstance(data, dict):
            return ListPage()
        entries: list[ListEntry] = []
        articles = data.get("articles")
        for art in articles if isinstance(articles, list) else []:
            if not isinstance(art, dict):
                continue
            link = absolute(url, str(art.get("url") or ""))
            if not link:
                continue
            extra = tuple(
                (k, squash(str(art[k])))
                for k in ("identifier", "publisher", "document_number")
                if art.get(k) not in (None, "")
            )
            date = art.get("date")
            pub = (
                from_epoch(date)
                if isinstance(date, int | float)
                else parse_cn_datetime(str(date or ""))
            )
            entries.append(ListEntry(url=link, title=squash(str(art.get("title") or "")),
                                     published_at=pub, extra=extra))  # fmt: skip
        page = ListPage(entries=entries)
        total = data.get("total")
        if isinstance(total, int) and not isinstance(total, bool):
            page.record_count = total
            size = data.get("per_page") or data.get("page_size") or data.get("pageSize")
            per = size if isinstance(size, int) and size > 0 else (len(entries) or 1)
            page.page_count = max(1, math.ceil(total / per))
            parts = urlsplit(request.url if request else url)
            qs = parse_qs(parts.query)
            current = qs.get("page", ["1"])[0]
            if current == "1" and entries and page.page_count <= 10_000:
                base = (request.url if request else url).split("?", 1)[0]
                sid = qs.get("sid", [""])[0]
                page.follow = [
                    PageRequest(url=f"{base}?page={n}&sid={sid}", kind="list_api", page=n)
                    for n in range(2, page.page_count + 1)
                ]
        return page

    def parse_notice(self, html: str, url: str) -> ParsedNotice:
        sel, html = start(html)
        detail = _detail(html)
        content = str(detail.get("content") or "")
        body_html = content if content and clean_body(content, url)[0] else ""
        body_html = body_html or first_html(sel, "#zoomcon", ".article-content", ".content")
        date = detail.get("date")
        published = from_epoch(date) if date not in (None, "") else None
        notice = build_notice(
            sel, html, url, self.name,
            title=str(detail.get("title") or "") or first_text(sel, ".content h1", "h1", ".title"),
            body_html=body_html,
            published=published or first_date(sel, ".date", ".time"),
            # An empty "source" means the article has none; publisher is the 发布机构.
            source=str(detail["source"] if "source" in detail else detail.get("publisher") or ""),
        )  # fmt: skip
        notice.doc_no = notice.doc_no or (squash(str(detail.get("document_number") or "")) or None)
        notice.index_no = notice.index_no or (squash(str(detail.get("identifier") or "")) or None)
        notice.issuing_org = notice.issuing_org or (
            squash(str(detail.get("publisher") or "")) or None
        )
        notice.written_date = notice.written_date or parse_cn_date(_text(detail, "written_date"))
        notice.validity = notice.validity or _empty_to_none(_text(detail, "validity"))
        notice.subject = notice.subject or _empty_to_none(
            _text(detail, "classify_main_name") or _text(detail, "subject")
        )
        extra = attachments_from_json(detail.get("attachment") or detail.get("attachments"), url)
        seen = {a.url for a in notice.attachments}
        notice.attachments += [a for a in extra if a.url not in seen]
        return notice
