"""Body text and sanitised body HTML; a generic main-content finder.

Sanitising choice for images: every ``<img src>`` is rewritten to ``data-src`` (made
absolute) and ``src`` removed, whatever the origin, so viewing an archived body never
loads anything remote; the archiver may fetch ``data-src`` itself.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

import nh3
from lxml import etree
from lxml import html as lxml_html

from ._html import block_text, clean_chars, squash
from .disclosure import field_pairs as _disclosure_fields

_DROP_WITH_CONTENT = (
    "script", "style", "iframe", "object", "embed", "noscript", "template", "form",
    "input", "button", "select", "textarea", "link", "meta", "svg", "math", "frame",
    "frameset", "applet", "audio", "video", "canvas",
)  # fmt: skip
_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "center", "code", "col", "colgroup",
    "dd", "del", "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "i", "img", "ins", "li", "ol", "p", "pre", "s", "small", "span", "strong", "sub", "sup",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
_ALLOWED_ATTRS = {
    "a": {"href", "title"},
    "img": {"data-src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align"},
    "p": {"align"},
    "div": {"align"},
}
_SAFE_SCHEMES = {"http", "https", "mailto", "ftp"}

# Whole lines that are page furniture, not notice text (site-families.md list).
_BOILER_EXACT = re.compile(
    r"^(扫一扫在手机上查看当前页面|扫一扫在手机打开当前页|相关链接|相关文件|附件下载|附件|"
    r"打印本页|关闭窗口|我要纠错|返回顶部|分享到|放大字体|缩小字体)[:：]?$"
)
# Lines made only of print/close/font-size controls: 【打印】【关闭】, 字号：大 中 小 ...
_BOILER_TOKENS = re.compile(
    r"打印本页|打印|关闭窗口|关闭|字号|字体|放大|缩小|默认|收藏|大|中|小|分享到|分享|"
    r"[【】\[\]()（）:：|/\s·]"
)
_BOILER_PREFIX = re.compile(
    r"^(当前位置|您现在的位置|您当前的位置|浏览次数|阅读次数|点击数|访问量|分享到|上一篇|下一篇|"
    r"网站标识码|版权所有|主办单位|承办单位|技术支持|ICP备|京ICP|闽ICP|粤ICP|浙ICP)"
)
_CONTROL_WORDS = ("打印", "关闭", "字号", "字体", "放大", "缩小")


def is_boilerplate_line(line: str) -> bool:
    """True for a line of page furniture (share bars, print/close, copyright ...)."""
    flat = re.sub(r"[\s\u3000\xa0]+", "", line)
    if not flat:
        return True
    if _BOILER_EXACT.match(flat):
        return True
    if len(flat) <= 200 and _BOILER_PREFIX.match(flat):
        return True
    # Only control tokens left after removing them, and at least one real control word.
    return (
        len(flat) <= 40
        and not _BOILER_TOKENS.sub("", flat)
        and any(w in flat for w in _CONTROL_WORDS)
    )


def _fragment(html_fragment: str) -> etree._Element:
    text = clean_chars(html_fragment or "")
    try:
        root = lxml_html.fragment_fromstring(text or "<div></div>", create_parent="div")
    except (etree.ParserError, ValueError):
        root = lxml_html.fragment_fromstring("<div></div>", create_parent="div")
    return root


def _prune(root: etree._Element, base_url: str) -> None:
    for el in list(root.iter()):
        if not isinstance(el.tag, str):  # comments / processing instructions
            parent = el.getparent()
            if parent is not None:
                el.drop_tree() if hasattr(el, "drop_tree") else parent.remove(el)
    for el in list(root.iter(*_DROP_WITH_CONTENT)):
        if el is not root and el.getparent() is not None:
            el.drop_tree()
    # Elements whose whole text is furniture (QR block, 相关链接 heading ...).
    for el in list(root.iter()):
        if el is root or el.getparent() is None or not isinstance(el.tag, str):
            continue
        if el.tag == "img" or el.find(".//img") is not None:
            continue
        txt = squash(el.text_content())
        if txt and is_boilerplate_line(txt):
            el.drop_tree()
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        if href:
            a.set("href", urljoin(base_url, href) if base_url else href)
    for img in root.iter("img"):
        src = (img.get("src") or img.get("data-src") or "").strip()
        for attr in ("src", "srcset", "data-src"):
            img.attrib.pop(attr, None)
        if src and not src.lower().startswith(("javascript:", "data:", "vbscript:")):
            img.set("data-src", urljoin(base_url, src) if base_url else src)


def sanitise_html(root: etree._Element) -> str:
    raw = lxml_html.tostring(root, encoding="unicode", method="html")
    return nh3.clean(
        raw,
        tags=_ALLOWED_TAGS,
        clean_content_tags=set(_DROP_WITH_CONTENT) - {"link", "meta", "input"},
        attributes=_ALLOWED_ATTRS,
        url_schemes=_SAFE_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    ).strip()


def paragraphs(root: etree._Element) -> list[str]:
    lines = (squash(line) for line in block_text(root).split("\n"))
    return [line for line in lines if line and not is_boilerplate_line(line)]


def clean_body(html_fragment: str, base_url: str = "") -> tuple[str, str]:
    """Return ``(body_text, body_html)`` for a content fragment.

    ``body_text``: one paragraph per block, joined by blank lines; whitespace,
    ``&nbsp;`` and U+3000 indentation collapsed; furniture lines dropped.
    ``body_html``: nh3-sanitised, links absolute, images inert (``data-src``).
    """
    root = _fragment(html_fragment if isinstance(html_fragment, str) else "")
    _prune(root, base_url if isinstance(base_url, str) else "")
    return "\n\n".join(paragraphs(root)), sanitise_html(root)


# --- generic main-content finder ----------------------------------------------

_NOISE = re.compile(
    r"nav|menu|foot|header|top|crumb|share|sidebar|side|copyright|banner|search|link|"
    r"related|xgwz|xglj|qr|ewm|print|login|logo|dh|bottom",
    re.I,
)
_PARA_TAGS = ("p", "br", "li", "h3", "h4", "td")


def _text_len(el: etree._Element) -> int:
    return len(re.sub(r"\s+", "", el.text_content()))


def _link_len(el: etree._Element) -> int:
    return sum(_text_len(a) for a in el.iter("a"))


def find_main_block(html: str) -> etree._Element | None:
    """The element most likely to hold the article text (readability-style scoring).

    Each paragraph credits its parent with its text length (links excluded) and its
    grandparent with half; navigation-looking ids/classes are skipped.
    """
    try:
        doc = lxml_html.document_fromstring(clean_chars(html or "") or "<html></html>")
    except (etree.ParserError, ValueError):
        return None
    for el in list(doc.iter(*_DROP_WITH_CONTENT, "header", "footer", "nav", "aside")):
        if el.getparent() is not None:
            el.drop_tree()
    # The disclosure block (索引号/发文字号 ...) is metadata, not article text; its table
    # cells would otherwise outscore a short body.
    for el in list(doc.iter("table", "dl", "ul")):
        if el.getparent() is not None and len(_disclosure_fields(block_text(el))) >= 2:
            el.drop_tree()
    scores: dict[etree._Element, float] = {}
    for para in doc.iter("p", "div", "td", "span", "font"):
        if para.tag in {"div", "td", "span", "font"} and any(
            child.tag in {"p", "div", "table", "ul"} for child in para
        ):
            continue
        length = _text_len(para) - 2 * _link_len(para)
        if length < 20:
            continue
        parent = para.getparent()
        if parent is None:
            continue
        scores[parent] = scores.get(parent, 0.0) + length
        grand = parent.getparent()
        if grand is not None:
            scores[grand] = scores.get(grand, 0.0) + length / 2
    best: etree._Element | None = None
    best_score = 0.0
    for el, score in scores.items():
        ident = f"{el.get('id', '')} {el.get('class', '')}"
        if (
            ident.strip()
            and _NOISE.search(ident)
            and not re.search(r"content|article|zoom|main|text|detail", ident, re.I)
        ):
            score *= 0.2
        if score > best_score:
            best, best_score = el, score
    return best


_META_LINE = re.compile(
    r"^(发布时间|发布日期|日期|时间|来源|信息来源|文章来源|作者|编辑|责任编辑)\s*[:：]|"
    r"^\[?\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?\]?(\s+\d{1,2}:\d{2}(:\d{2})?)?$|"
    r"^\d{1,2}:\d{2}(:\d{2})?\s+来源"
)


def extract_main_text(html: str, url: str = "", *, title: str = "") -> tuple[str, str]:
    """``(body_text, body_html)`` of the main block of an unknown template ('' if none).

    Leading/trailing date and 来源 lines of the block are dropped (only at the edges,
    so a 时间：… line inside a meeting notice stays), as is a leading copy of ``title``.
    """
    block = find_main_block(html if isinstance(html, str) else "")
    if block is None:
        return "", ""
    fragment = lxml_html.tostring(block, encoding="unicode", method="html")
    text, body = clean_body(fragment, url)
    paras = text.split("\n\n") if text else []
    flat_title = re.sub(r"\s+", "", title or "")
    while (
        paras
        and len(paras[0]) < 200
        and (
            _META_LINE.search(paras[0])
            or (flat_title and re.sub(r"\s+", "", paras[0]) == flat_title)
        )
    ):
        paras.pop(0)
    while paras and len(paras[-1]) < 120 and _META_LINE.search(paras[-1]):
        paras.pop()
    return "\n\n".join(paras), body
