"""Family D: Kaipu (开普云) UCAP (Jiangbei).

``list.shtml`` then ``list_2.shtml`` (1-based, no ``_1``), counted by
``createPageHTML('page_div', pages, cur, 'list', 'shtml', records)``. Detail pages wrap
fields in ``<UCAPTITLE>``, ``<PUBLISHTIME>``, ``<UCAPCONTENT>`` inside ``#zoomcon``.
"""

from __future__ import annotations

import math
import posixpath
import re

from . import pages as P
from .model import Column, Notice, Site
from .pages import Resp, esc
from .world import World

_PAGE = re.compile(r"list(?:_(\d+))?\.shtml$")


def route(world: World, site: Site, method: str, path: str, query: dict[str, str],
          form: dict[str, str]) -> Resp | None:
    for col in site.columns:
        if path == col.path:
            return _list(world, site, col, 1)
        if path.startswith(col.path):
            m = _PAGE.fullmatch(path[len(col.path):])
            if m and m.group(1) != "1":
                return _list(world, site, col, int(m.group(1) or 1))
    n = world.notice_at(site.host, path)
    if n is not None:
        return _detail(world, site, n)
    return None


def _list(world: World, site: Site, col: Column, page: int) -> Resp | None:
    items = world.column_notices(site, col)
    pages = max(1, math.ceil(len(items) / col.per_page))
    if page > pages:
        return None
    chunk = items[(page - 1) * col.per_page: page * col.per_page]
    lis = "\n".join(
        f'<li><span class="date">{P.list_date(site, n.published)}</span>'
        f'<a href="./{posixpath.relpath(n.path, col.path)}" target="_blank" title="{esc(n.title)}">'
        f"{esc(n.title)}</a></li>" for n in chunk)
    body = (P.head(site, col.name, col=col) + P.crumbs(site, col)
            + f'<div class="zwgk-list"><div class="tit">{esc(col.name)}</div>\n'
            f'<ul class="list-ul">\n{lis}\n</ul>\n<div id="page_div"></div>\n'
            f"<script>createPageHTML('page_div', {pages}, {page}, 'list', 'shtml', {len(items)});</script>"
            "\n</div>\n" + P.footer(site))
    last = world.column_last_modified(site, col)
    return Resp(body=body, ctype="text/html; charset=utf-8", last_modified=last)


def _detail(world: World, site: Site, n: Notice) -> Resp:
    col = site.column(n.home)
    atts = "".join(f'<li><a href="./{posixpath.basename(a.file_path)}">{esc(a.name)}</a></li>'
                   for a in n.attachments)
    src = f'<span class="source">来源：{esc(n.source)}</span>' if n.source else ""
    body = (P.head(site, n.title, n, col) + P.crumbs(site, col)
            + '<div class="detail-main">\n'
            f'<h1 class="detail-title"><UCAPTITLE>{esc(n.title)}</UCAPTITLE></h1>\n'
            f'<div class="detail-info"><span>{site.date_prefix}<PUBLISHTIME>'
            f"{P.fmt_date(site, n.published)}</PUBLISHTIME></span>{src}</div>\n" + P.tools()
            + '<div id="zoomcon" class="detail-con"><UCAPCONTENT>\n' + P.body_html(n)
            + "\n</UCAPCONTENT></div>\n"
            + (f'<div class="detail-fj"><h4>附件下载</h4><ul>{atts}</ul></div>\n' if atts else "")
            + "</div>\n" + P.neighbours(world, site, n) + P.bottom_tools() + P.footer(site))
    return Resp(body=body, ctype="text/html; charset=utf-8", etag_basis=f"{n.id}-{n.version}",
                last_modified=n.last_modified)
