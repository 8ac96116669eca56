"""Recovering full titles when list anchors are cut with an ellipsis."""

from __future__ import annotations

import re

from ._html import squash

_ELLIPSIS = re.compile(r"(…+|\.{2,}|。。+)\s*$")
# "<title>" often ends with the site name: "标题-马尾区人民政府" / "标题_xx区政府网".
_SITE_SUFFIX = re.compile(r"\s*[-_|—–]+\s*[^-_|—–]*$")


def is_truncated(text: str) -> bool:
    return bool(_ELLIPSIS.search(text or ""))


def _stem(text: str) -> str:
    return _ELLIPSIS.sub("", squash(text)).strip()


def full_title(
    text: str | None,
    title_attr: str | None = None,
    meta_title: str | None = None,
    page_title: str | None = None,
) -> str:
    """Best full title: anchor text unless cut, then title attr, ArticleTitle, <title>.

    A candidate replaces a cut text only if it starts with the visible stem, so an
    unrelated ``title`` attribute ("点击查看") never overwrites a real title.
    """
    shown = squash(text)
    attr = squash(title_attr)
    if not shown:
        return attr or squash(meta_title) or _strip_site(squash(page_title))
    if not is_truncated(shown):
        return shown
    stem = _stem(shown)
    for cand in (attr, squash(meta_title), squash(page_title), _strip_site(squash(page_title))):
        if cand and len(cand) >= len(stem) and cand.startswith(stem):
            return _strip_site(cand) if cand == squash(page_title) else cand
    return shown


def _strip_site(title: str) -> str:
    stripped = _SITE_SUFFIX.sub("", title).strip()
    return stripped or title
