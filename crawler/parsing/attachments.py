"""Attachment links on notice pages, wherever and however they are written."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, unquote, urljoin, urlsplit, urlunsplit

from parsel import Selector

from ._html import selector, squash
from .types import AttachmentLink

FILE_EXTENSIONS = frozenset(
    [
        "pdf",
        "doc",
        "docx",
        "xls",
        "xlsx",
        "wps",
        "et",
        "ofd",
        "zip",
        "rar",
        "7z",
        "txt",
        "ppt",
        "pptx",
        "csv",
        "tif",
        "tiff",
    ]
)
_BLOCK_XPATH = (
    "//*[contains(@class,'attachment') or contains(@class,'fujian') or "
    "contains(@class,'appendix') or contains(@id,'attachment') or contains(@id,'fujian')]//a[@href]"
)
# Links inside scripts: document.write('<a href="./P0...pdf">name</a>') and friends.
_SCRIPT_LINK = re.compile(
    r"<a\b[^>]*?href\s*=\s*\\?[\"']([^\"'\\]+)\\?[\"'][^>]*>(.*?)<\\?/a>", re.I | re.S
)
_TAGS = re.compile(r"<[^>]+>")
_GENERIC_NAMES = {"下载", "点击下载", "附件下载", "附件", "查看", "点击查看", "download", "详情"}
_DEAD = ("javascript:", "mailto:", "tel:", "#", "data:")


def _extension(url: str) -> str:
    path = urlsplit(url).path
    last = path.rsplit("/", 1)[-1]
    return last.rsplit(".", 1)[-1].lower() if "." in last else ""


def is_downfile(url: str) -> bool:
    return "/module/download/downfile.jsp" in url.lower()


def looks_like_file(url: str) -> bool:
    """True if ``url`` points at a document (by extension, ignoring the query) or a
    Hanweb ``downfile.jsp`` redirector."""
    if is_downfile(url):
        return True
    return _extension(url) in FILE_EXTENSIONS


def name_from_url(url: str) -> str:
    parts = urlsplit(url)
    if is_downfile(url):
        qs = parse_qs(parts.query)
        for key in ("filename", "fileName", "name"):
            if qs.get(key):
                return unquote(qs[key][0])
    return unquote(parts.path.rsplit("/", 1)[-1])


def _absolute(href: str, base_url: str) -> str | None:
    href = html_lib.unescape(href.strip())
    if not href or href.lower().startswith(_DEAD):
        return None
    url = urljoin(base_url, href) if base_url else href
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https", "ftp", ""}:
        return None
    return urlunsplit(parts._replace(fragment=""))


def _name(text: str, title: str, url: str) -> str:
    text, title = squash(text), squash(title)
    if text and text.lower() not in _GENERIC_NAMES:
        return text
    if title and title.lower() not in _GENERIC_NAMES:
        return title
    return name_from_url(url)


class _Collector:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.seen: set[str] = set()
        self.links: list[AttachmentLink] = []

    def add(self, href: str, text: str, title: str = "", force: bool = False) -> None:
        url = _absolute(href, self.base_url)
        if url is None or url in self.seen:
            return
        if not force and not looks_like_file(url):
            return
        if (
            force
            and url.lower().rstrip("/").endswith((".html", ".htm", ".shtml", ".jsp"))
            and not is_downfile(url)
        ):
            return  # pages linked from an attachment block (相关链接) are not files
        self.seen.add(url)
        self.links.append(AttachmentLink(url=url, name=_name(text, title, url)))


def find_attachments(html: str | Selector, base_url: str = "") -> list[AttachmentLink]:
    """All attachment links of a page in page order, de-duplicated by absolute URL.

    Sources: links in attachment blocks, ``appendix="true"`` links, any link to a
    document extension or ``downfile.jsp``, and links written from ``<script>``.
    """
    sel = selector(html)
    col = _Collector(base_url or "")
    # Hold the elements themselves: lxml proxies are rebuilt on access, so the id() of a
    # proxy that was already freed can be reused by an unrelated element (header links).
    in_block = {n.root for n in sel.xpath(_BLOCK_XPATH)}
    for a in sel.xpath("//a[@href] | //script"):
        root = a.root
        if getattr(root, "tag", "") == "script":
            _from_script(a.xpath("string()").get() or "", col)
            continue
        href = a.attrib.get("href", "")
        text = " ".join(a.xpath(".//text()").getall())
        force = root in in_block or (a.attrib.get("appendix") or "").lower() == "true"
        col.add(href, text, a.attrib.get("title", ""), force=force)
    return col.links


def _from_script(script: str, col: _Collector) -> None:
    if "href" not in script:
        return
    for m in _SCRIPT_LINK.finditer(script):
        href = m.group(1)
        text = html_lib.unescape(_TAGS.sub("", m.group(2).replace("\\", "")))
        col.add(href, text, force="appendix" in m.group(0).lower() and "true" in m.group(0).lower())


_URL_KEYS = ("url", "href", "link", "path", "fileurl", "file_url", "fileUrl", "src", "download_url")
_NAME_KEYS = ("name", "title", "filename", "file_name", "fileName", "text", "alias")


def attachments_from_json(items: Iterable[Any] | None, base_url: str = "") -> list[AttachmentLink]:
    """Attachments from a JSON ``attachment`` array (gkmlpt and similar APIs).

    Each item is a dict with a URL key (url/href/link/path/fileurl) and optional name
    key (name/title/filename); non-dict items and items without a URL are skipped.
    """
    col = _Collector(base_url or "")
    if not isinstance(items, Iterable) or isinstance(items, str | bytes | Mapping):
        return col.links
    for item in items:
        if not isinstance(item, Mapping):
            continue
        href = next((str(item[k]) for k in _URL_KEYS if item.get(k)), "")
        name = next((str(item[k]) for k in _NAME_KEYS if item.get(k)), "")
        if href:
            col.add(href, name, force=True)
    return col.links
