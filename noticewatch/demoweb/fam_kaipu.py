"""Family D: Kaipu (开普云) UCAP (Jiangbei).

``list.shtml`` then ``list_2.shtml`` (1-based, no ``_1``), counted by
``createPageHTML('page_div', pages, cur, 'list', 'shtml', records)``. Detail pages wrap
fields in ``<UCAPTITLE>``, ``<PUBLISHTIME>``, ``<UCAPCONTENT>`` inside ``#zoomcon``.
"""

from __future__ import annotations

import posixpath
import re

from . import pages as P
from .model import Column, Notice, Site
from .pages import Resp, esc
from .world import World

# The column folder itself, list.shtml or list_N.shtml.
_PAGE = re.compile(r"(?:list(?:_(\d+))?\.shtml)?")


def route(world: World, site: Site, method: str, path: str, query: dict[str, str],
          form: dict[str, str]) -> Resp | None:
    hit = P.column_page(site, path, _PAGE)
    if hit is not None and hit[1].group(1) != "1":  # page 1 is only ever list.shtml
        col, m = hit
        return _list(world, site, col, int(m.group(1) or 1))
    return P.detail_at(world, site, path, _detail)


def _list(world: World, site: Site, col: Column, page: int) -> Resp | None:
    items = world.column_notices(site, col)
    pages = P.page_count(len(items), col.per_page)
    if page > pages:
        return None
    chunk = P.page_slice(items, col.per_page, page)
    lis = "\n".join(
        f'<li><span class="date">{P.list_date(site, n.published)}</span>'
        f'<a href="./{posixpath.relpath(n.path, col.path)}" target="_blank" title="{esc(n.title)}">'
        f"{esc(n.title)}</a></li>" for n in chunk)
    main = (f'<div class="zwgk-list"><div class="tit">{esc(col.name)}</div>\n'
            f'<ul class="list-ul">\n{lis}\n</ul>\n<div id="page_div"></div>\n'
            f"<script>createPageHTML('page_div', {pages}, {page}, 'list', 'shtml', {len(items)});</script>"
            "\n</div>\n")
    return P.list_resp(world, site, col, P.list_page(site, col, main))


def _detail(world: World, site: Site, n: Notice) -> Resp:
    atts = "".join(f'<li><a href="./{posixpath.basename(a.file_path)}">{esc(a.name)}</a></li>'
                   for a in n.attachments)
    src = f'<span class="source">来源：{esc(n.source)}</span>' if n.source else ""
    main = ('<div class="detail-main">\n'
            f'<h1 class="detail-title"><UCAPTITLE>{esc(n.title)}</UCAPTITLE></h1>\n'
            f'<div class="detail-info"><span>{site.date_prefix}<PUBLISHTIME>'
            f"{P.fmt_date(site, n.published)}</PUBLISHTIME></span>{src}</div>\n" + P.tools()
            + '<div id="zoomcon" class="detail-con"><UCAPCONTENT>\n' + P.body_html(n)
            + "\n</UCAPCONTENT></div>\n"
            + (f'<div class="detail-fj"><h4>附件下载</h4><ul>{atts}</ul></div>\n' if atts else "")
            + "</div>\n")
    return P.detail_resp(n, P.detail_page(world, site, n, main))
