"""OFD (GB/T 33190, China's fixed-layout format): a ZIP of XML pages with ``ofd:TextCode`` runs."""

from __future__ import annotations

import io
import zipfile

from lxml import etree

from . import Budget, ExtractResult, Truncated
from ._text import Collector
from .archive import check_zip

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True)


def _page_order(zf: zipfile.ZipFile) -> list[str]:
    """Content.xml members, in document order where the names allow (Doc_0/Pages/Page_N)."""
    import re

    pages = [n for n in zf.namelist() if n.lower().endswith("content.xml")]

    def key(name: str) -> tuple[int, ...]:
        return tuple(int(d) for d in re.findall(r"\d+", name)) or (0,)

    return sorted(pages, key=key)


def extract_ofd(data: bytes, budget: Budget, depth: int = 0) -> ExtractResult:
    check_zip(data, budget.limits)
    out = Collector(budget)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        if not any(n.lower() == "ofd.xml" for n in zf.namelist()):
            return ExtractResult(None, "not an OFD package (no OFD.xml)")
        try:
            for name in _page_order(zf):
                root = etree.fromstring(zf.read(name), _PARSER)
                if root is None:
                    continue
                line: list[str] = []
                for element in root.iter("{*}TextCode"):
                    line.append(element.text or "")
                out.add("\n".join(line))
        except Truncated:
            pass
    return out.result(empty_error="no text in OFD pages")
