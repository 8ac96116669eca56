"""Family F: Epoint (国泰新点) (Wuzhong).

``/001/001001/subPage.html``, then ``2.html``, ``3.html`` …; the same pages also answer
``iList.jsp?categorynum=001001&cur_page=N``. Classes are ``ewb-*``, the body is in
``.ewb-article-info``.
"""

from __future__ import annotations

import re

from . import pages as P
from .model import Column, Notice, Site
from .pages import Resp, esc
from .world import World

_PAGE = re.compile(r"(subPage|\d+)\.html$")
_LOCATION = "ewb-location"


def route(world: World, site: Site, method: str, path: str, query: dict[str, str],
          form: dict[str, str]) -> Resp | None:
    if path == "/iList.jsp":
        try:
            col = site.column(query.get("categorynum", ""))
            return _list(world, site, col, int(query.get("cur_page", "1")))
        except (KeyError, ValueError):
            return None
    hit = P.column_page(site, path, _PAGE)
    if hit is not None:
        col, m = hit
        if m.group(1) == "subPage":
            return _list(world, site, col, 1)
        if int(m.group(1)) >= 2:  # page 1 is only ever subPage.html
            return _list(world, site, col, int(m.group(1)))
    return P.detail_at(world, site, path, _detail)


def _list(world: World, site: Site, col: Column, page: int) -> Resp | None:
    items = world.column_notices(site, col)
    pages = P.page_count(len(items), col.per_page)
    if not 1 <= page <= pages:
        return None
    chunk = P.page_slice(items, col.per_page, page)
    lis = "\n".join(
        f'<li class="ewb-list-node clearfix"><a href="{n.path}" class="ewb-list-name" '
        f'title="{esc(n.title)}" target="_blank">{esc(n.title)}</a>'
        f'<span class="ewb-list-date">{P.list_date(site, n.published)}</span></li>' for n in chunk)
    nav = []
    for p in range(1, pages + 1):
        href = "subPage.html" if p == 1 else f"{p}.html"
        cls = ' class="active"' if p == page else ""
        nav.append(f'<li{cls}><a href="{col.path}{href}">{p}</a></li>')
    if page < pages:
        nav.append(f'<li class="next"><a href="{col.path}{page + 1}.html">下一页</a></li>')
    main = (f'<div class="ewb-info"><div class="ewb-info-hd">{esc(col.name)}</div>\n'
            f'<ul class="ewb-list">\n{lis}\n</ul>\n<div class="ewb-page"><ul class="m-pagination-page">'
            + "".join(nav) + f'</ul><span class="ewb-page-total">共{pages}页</span></div></div>\n')
    return P.list_resp(world, site, col, P.list_page(site, col, main, location_class=_LOCATION))


def _detail(world: World, site: Site, n: Notice) -> Resp:
    atts = "".join(f'<li><a href="{a.file_path}" target="_blank">{esc(a.name)}</a></li>'
                   for a in n.attachments)
    src = f"<span>信息来源：{esc(n.source)}</span>" if n.source else ""
    main = (f'<div class="ewb-article"><h2 class="ewb-article-tt">{esc(n.title)}</h2>\n'
            f'<div class="ewb-article-sources">{src}<span>{site.date_prefix}'
            f"{P.fmt_date(site, n.published)}</span>"
            f'<span>浏览次数：<em id="viewcount">{P.view_count()}</em></span></div>\n'
            f'<div class="ewb-article-info">\n{P.body_html(n)}\n</div>\n'
            + (f'<div class="ewb-article-attach"><h4>附件下载</h4><ul>{atts}</ul></div>\n' if atts else "")
            + "</div>\n")
    return P.detail_resp(n, P.detail_page(world, site, n, main, location_class=_LOCATION))
