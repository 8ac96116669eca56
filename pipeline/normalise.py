"""First pipeline stage: tidy what parsers produced, drop what is not a notice."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.statscollectors import StatsCollector

from crawler.items import NoticeItem

_SPACES = re.compile(r"[ \t\u00a0\u2002\u2003\u3000]+")


def tidy_line(value: str | None) -> str | None:
    """NFC, folded spaces, no control characters; empty becomes None."""
    if value is None:
        return None
    value = unicodedata.normalize("NFC", value)
    value = "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    value = _SPACES.sub(" ", value).strip()
    return value or None


class NormalisePipeline:
    def __init__(self, *, stats: StatsCollector | None = None, max_title_chars: int = 1000) -> None:
        self.stats = stats
        self.max_title_chars = max_title_chars

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalisePipeline:
        return cls(stats=crawler.stats,
                   max_title_chars=crawler.settings.getint("NORMALISE_MAX_TITLE_CHARS", 1000))

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, NoticeItem):
            return item
        parsed = item.parsed
        title = tidy_line(parsed.title)
        if not title:
            if self.stats is not None:
                self.stats.inc_value("normalise/dropped_untitled")
            raise DropItem(f"{item.url}: no title after normalisation")
        parsed.title = title[: self.max_title_chars]
        for name in ("source", "category", "index_no", "doc_no", "issuing_org", "validity", "subject"):
            value = tidy_line(getattr(parsed, name))
            setattr(parsed, name, None if value in ("无", "-", "—", "/") else value)
        # Body paragraphs keep their breaks; NUL and other controls never reach the store.
        parsed.body_text = "\n\n".join(
            p for p in (tidy_line(x) for x in parsed.body_text.split("\n\n")) if p
        )
        parsed.body_html = parsed.body_html.replace("\x00", "")
        return item
