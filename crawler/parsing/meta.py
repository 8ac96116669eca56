"""The national government-site meta tags (SiteName, ArticleTitle, PubDate, ...)."""

from __future__ import annotations

from parsel import Selector

from ._html import selector, squash

META_NAMES = (
    "SiteName", "SiteDomain", "SiteIDCode", "ColumnName", "ColumnType", "ArticleTitle",
    "PubDate", "ContentSource", "Keywords", "Description", "Url",
)  # fmt: skip
_CANON = {name.lower(): name for name in META_NAMES}
# Real pages misspell Description; keep the canonical key so callers need one name.
_CANON["desctiption"] = "Description"


def read_meta(html: str | Selector) -> dict[str, str]:
    """Return the national meta tags present and non-empty, keyed by canonical name.

    Names are matched case-insensitively; the first non-empty occurrence wins.
    """
    sel = selector(html)
    found: dict[str, str] = {}
    for node in sel.xpath("//meta[@name][@content]"):
        name = (node.attrib.get("name") or "").strip().lower()
        key = _CANON.get(name)
        if key is None or key in found:
            continue
        value = squash(node.attrib.get("content"))
        if value:
            found[key] = value
    return found
