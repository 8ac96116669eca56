"""Small HTML helpers shared by the parsing modules (lxml/parsel, no Scrapy)."""

from __future__ import annotations

import re

from lxml import etree
from parsel import Selector

# Characters lxml refuses in text (C0 controls except tab/newline/CR); real pages
# sometimes contain them and they must not make parsing fail.
_BAD_XML_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_WS = re.compile(r"[\s\u2002\u2003\u2009\u200b\u3000\xa0\ufeff]+")

BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "li",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "tr",
        "td",
        "th",
        "table",
        "tbody",
        "thead",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "br",
        "hr",
        "section",
        "article",
        "header",
        "footer",
        "blockquote",
        "pre",
        "center",
        "form",
        "address",
        "nav",
        "aside",
        "main",
        "figure",
        "figcaption",
        "caption",
    ]
)


def clean_chars(text: str) -> str:
    return _BAD_XML_CHARS.sub("", text)


def selector(html: str | Selector) -> Selector:
    """A parsel Selector for ``html``; never raises on odd input."""
    if isinstance(html, Selector):
        return html
    text = clean_chars(html if isinstance(html, str) else str(html))
    try:
        return Selector(text=text or "<html></html>", type="html")
    except (ValueError, etree.ParserError):
        return Selector(text="<html></html>", type="html")


def squash(text: str | None) -> str:
    """Collapse all whitespace (incl. &ensp;, &nbsp;, U+3000) to single spaces."""
    return _WS.sub(" ", text or "").strip()


def nospace(text: str | None) -> str:
    """Remove all whitespace: for comparing labels padded with &ensp; or U+3000."""
    return _WS.sub("", text or "")


def block_text(node: object) -> str:
    """Text of an lxml element with newlines at block boundaries, inline runs joined."""
    parts: list[str] = []

    def walk(root: etree._Element) -> None:
        # An explicit stack, not recursion: hostile pages nest 10,000 elements deep.
        stack: list[tuple[etree._Element, bool]] = [(root, False)]
        while stack:
            el, closing = stack.pop()
            tag = el.tag if isinstance(el.tag, str) else ""
            block = tag.lower().split("}")[-1] in BLOCK_TAGS
            if closing:
                if block:
                    parts.append("\n")
                if el.tail:
                    parts.append(el.tail)
                continue
            if tag in {"script", "style", "noscript", "template"} or not isinstance(el.tag, str):
                if el.tail:
                    parts.append(el.tail)
                continue
            if block:
                parts.append("\n")
            if el.text:
                parts.append(el.text)
            stack.append((el, True))
            stack.extend((child, False) for child in reversed(el))

    if isinstance(node, etree._Element):
        tail = node.tail
        node.tail = None
        try:
            walk(node)
        finally:
            node.tail = tail
    return "".join(parts)


def text_of(sel: Selector | None) -> str:
    """Squashed text of the first node in a selector list/selector, or ''."""
    if sel is None:
        return ""
    return squash(
        " ".join(sel.xpath(".//text()[not(ancestor::script)][not(ancestor::style)]").getall())
    )
