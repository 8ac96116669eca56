"""Family B: Fujian provincial platform (Fuzhou districts, Mawei)."""

from __future__ import annotations

import json
import math
import re
from typing import Any
from urllib.parse import urljoin

from .._html import squash
from ..dates import parse_cn_datetime
from ..text import is_boilerplate_line
from ..titles import full_title
from ..types import ExtractionError, ListEntry, ListPage, PageRequest, ParsedNotice
from ._common import absolute, build_notice, first_date, first_html, first_text, row_entries, start

_SITEINFO = re.compile(r"SiteInfo\s*=\s*\{[^}]*?searchId\s*:\s*[\"']?([\w-]+)", re.S)
_CHNLINFO = re.compile(r"pageChnlInfo\s*=\s*\{([^}]*)\}", re.S)
_CHNLID = re.compile(r"\b(?:chnlid|chnlId|channelId|channelid|chnl_id)\b\s*[:=]\s*[\"']?(\d+)")
_LABEL_LINE = re.compile(r"^([\u4e00-\u9fff]{2,12})\s*[:：]$")
_NOT_CATEGORY = {"来源", "时间", "日期", "附件下载", "附件", "分享到", "字号", "索引号", "发文字号"}
SORT = "-docorderpri,-docreltime"
_EXTRA_KEYS = ("fileno", "puborg", "idxid", "docsourcename", "chnlid")


def _num(block: str, key: str) -> int | None:
    m = re.search(rf"\b{key}\s*:\s*[\"']?(\d+)", block)
    return int(m.group(1)) if m else None


class FujianAdapter:
    name = "fujian"
    label = "Fujian provincial platform (TRS, static + /fjdzapp/search)"

    def detect(self, html: str, url: str) -> float:
        score = 0.0
        if "$showStatic(" in html or "ms-visible" in html:
            score += 0.5
        if "pageChnlInfo" in html or "fjdzapp" in html:
            score += 0.3
        if "bf-pass" in html or "trt-row" in html or "article_component" in html:
            score += 0.15
        if "/xjwz/" in url:
            score += 0.1
        return min(score, 1.0)

    def parse_list(
        self, body: str, url: str, *, kind: str = "list", request: PageRequest | None = None
    ) -> ListPage:
        if kind == "list_api":
            return self._parse_api(body, url)
        sel, html = start(body)
        rows = sel.xpath("//div[@ms-visible]//li[.//a[@href]]") or sel.xpath(
            "//li[.//a[@href]][.//span[contains(@class,'bf-pass')]]"
        )
        page = ListPage(entries=row_entries(rows, url))
        info = _CHNLINFO.search(html)
        if not info:
            return page
        records = _num(info.group(1), "recordCount")
        prepage = _num(info.group(1), "prepage") or 15
        page.record_count = records
        if records is None or prepage <= 0:
            return page
        page.page_count = max(1, math.ceil(records / prepage))
        chnl = _CHNLID.search(info.group(1)) or _CHNLID.search(html)
        site = _SITEINFO.search(html)
        if chnl is None or page.page_count > 10_000:
            return page
        endpoint = urljoin(url, "/fjdzapp/search")
        page.follow = [
            PageRequest(
                url=endpoint,
                kind="list_api",
                method="POST",
                page=n,
                formdata=(
                    ("channelid", site.group(1) if site else ""),
                    ("sortfield", SORT),
                    ("classsql", f"chnlid={chnl.group(1)}"),
                    ("page", str(n)),
                    ("prepage", str(prepage)),
                ),
            )  # fmt: skip
            for n in range(2, page.page_count + 1)
        ]
        return page

    def _parse_api(self, body: str, url: str) -> ListPage:
        try:
            data: Any = json.loads(body)
        except (ValueError, TypeError, RecursionError):
            return ListPage()
        if not isinstance(data, dict):
            return ListPage()
        entries: list[ListEntry] = []
        for item in data.get("data") or []:
            if not isinstance(item, dict):
                continue
            link = absolute(url, str(item.get("docpuburl") or item.get("url") or ""))
            if link is None:
                continue
            extra = tuple(
                (k, squash(str(item[k]))) for k in _EXTRA_KEYS if item.get(k) not in (None, "")
            )
            entries.append(
                ListEntry(
                    url=link,
                    title=full_title(str(item.get("doctitle") or ""), None),
                    published_at=parse_cn_datetime(str(item.get("docreltime") or "")),
                    extra=extra,
                )
            )
        count = data.get("pageCount")
        return ListPage(entries=entries, page_count=count if isinstance(count, int) else None)

    def parse_notice(self, html: str, url: str) -> ParsedNotice:
        sel, html = start(html)
        if not isinstance(html, str):
            raise ExtractionError(url, "no html")
        category = None
        for text in sel.css(".article_component *::text, .article_type::text").getall():
            m = _LABEL_LINE.match(squash(text))
            if m and m.group(1) not in _NOT_CATEGORY and not is_boilerplate_line(m.group(1)):
                category = m.group(1)
                break
        meta_col = sel.xpath("//meta[@name='ColumnName']/@content").get()
        return build_notice(
            sel, html, url, self.name,
            title=first_text(sel, ".article_title", ".article_component h1", "h1"),
            body_html=first_html(
                sel, ".article_content .TRS_Editor", ".article_content", ".TRS_Editor",
                ".article_component .content",
            ),
            published=first_date(sel, ".article_time", ".article_info .time"),
            source=first_text(sel, ".article_source"),
            category=squash(meta_col) or category,
        )  # fmt: skip
