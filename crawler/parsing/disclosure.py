"""The 政府信息公开 metadata block (索引号, 发文字号, 成文日期 ...) in any layout.

Strategy: render candidate containers to block-aware text (newlines at cell/row
boundaries, inline runs joined), find label occurrences (``label：`` anywhere, or a
bare label alone on a line as in 2/4-column tables and ``<dt>``), and read each value
up to the next label. The container with the most distinct labels wins, so a block
anywhere on the page is found without knowing its class name.
"""

from __future__ import annotations

import re

from lxml import etree
from parsel import Selector

from ._html import block_text, selector, squash
from .dates import parse_cn_date, parse_cn_datetime

# field -> label spellings (ParsedNotice field names; keywords/unified_no are extras).
LABELS: dict[str, tuple[str, ...]] = {
    "index_no": ("索引号",),
    "subject": ("主题分类", "组配分类", "分类"),
    "issuing_org": ("发文机关", "发布机构", "发文机构", "发文单位"),
    "written_date": ("成文日期", "生成日期", "印发日期"),
    "published_at": ("发布日期", "发文日期", "公开日期"),
    "doc_no": ("发文字号", "文号", "文件编号"),
    "title": ("标题", "名称"),
    "validity": ("有效性",),
    "keywords": ("主题词",),
    "unified_no": ("统一编号",),
}
_PAD = r"[\s\u2002\u2003\u3000\xa0]*"
_VARIANTS = sorted(((v, f) for f, vs in LABELS.items() for v in vs), key=lambda item: -len(item[0]))
_FIELD_OF = dict(_VARIANTS)
_ALT = "|".join(_PAD.join(map(re.escape, v)) for v, _ in _VARIANTS)
# "label：" anywhere, or a bare label alone on its line (table cell, <dt>).
_LABEL_RE = re.compile(
    rf"(?P<a>{_ALT}){_PAD}[:：]|^[ \t\u2002\u2003\u3000\xa0]*(?P<b>{_ALT})[ \t\u2002\u2003\u3000\xa0]*$",
    re.M,
)
_EMPTY = {"", "无", "—", "-", "--", "——", "/", "暂无", "null", "None"}
_CONTAINERS = "//table|//ul|//ol|//dl|//div|//section|//tbody"
_MAX_CONTAINER_TEXT = 6000  # a disclosure block is short; skip whole-page wrappers


def _field_of(label: str) -> str | None:
    return _FIELD_OF.get(re.sub(r"[\s\u2002\u2003\u3000\xa0]", "", label))


def _pairs(text: str) -> list[tuple[str, str]]:
    matches = list(_LABEL_RE.finditer(text))
    out: list[tuple[str, str]] = []
    for i, m in enumerate(matches):
        field = _field_of(m.group("a") or m.group("b") or "")
        if field is None:
            continue
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        lines = [squash(line) for line in text[m.end() : end].split("\n")]
        value = next((line for line in lines if line), "")
        out.append((field, value.lstrip(":： ").strip()))
    return out


def field_pairs(text: str) -> set[str]:
    """Distinct disclosure fields labelled in block-aware ``text``."""
    return {field for field, _ in _pairs(text)}


def _clean_value(field: str, value: str) -> str | None:
    value = squash(value)
    if value in _EMPTY:
        return None
    if field == "written_date":
        return parse_cn_date(value)
    if field == "published_at":
        return parse_cn_datetime(value)
    return value


def parse_disclosure(html_or_selector: str | Selector) -> dict[str, str | None]:
    """Fields of the disclosure block keyed by ParsedNotice names; ``{}`` if none.

    Empty values (``无``, ``—``, blank) map to ``None``; dates are normalised
    (``written_date`` to a bare date, ``published_at`` keeps a time if given).
    Extra keys ``keywords`` (主题词) and ``unified_no`` (统一编号) may appear.
    """
    sel = selector(html_or_selector)
    best: list[tuple[str, str]] = []
    best_key: tuple[int, int] = (1, 0)  # (distinct fields, -text length)
    for node in sel.xpath(_CONTAINERS):
        root = node.root
        if not isinstance(root, etree._Element):
            continue
        text = block_text(root)
        if len(text) > _MAX_CONTAINER_TEXT * 4 or len(squash(text)) > _MAX_CONTAINER_TEXT:
            continue
        pairs = _pairs(text)
        key = (len({f for f, _ in pairs}), -len(text))
        if key > best_key:
            best, best_key = pairs, key
    result: dict[str, str | None] = {}
    for field, value in best:
        if field not in result or result[field] is None:
            result[field] = _clean_value(field, value)
    return result
