"""Family B: the Fujian provincial platform (Mawei, Cangshan).

First list page static, in hidden blocks of five (``$showStatic(1)``, ``(6)`` ...);
every page also answers ``POST /fjdzapp/search`` as JSON. Detail pages carry the
``index_box``/``trt-row`` disclosure block and ``.article_*`` parts.
"""

from __future__ import annotations

import json
import posixpath

from . import pages as P
from .model import Column, Notice, Site
from .pages import Resp, esc
from .world import World


def route(world: World, site: Site, method: str, path: str, query: dict[str, str],
          form: dict[str, str]) -> Resp | None:
    if path == "/fjdzapp/search":
        return _search(world, site, form or query)
    for col in site.columns:
        if path in (col.path, col.path + "index.htm", col.path + "index.html"):
            return _list(world, site, col)
    return P.detail_at(world, site, path, _detail)


def _href(col: Column, n: Notice) -> str:
    if n.home == col.path:
        return "./" + posixpath.relpath(n.path, col.path)
    # Cross-column items are written relative to the grandparent folder, as seen live.
    grand = posixpath.dirname(posixpath.dirname(col.path.rstrip("/")))
    return "../../" + posixpath.relpath(n.path, grand)


def _search_id(site: Site) -> str:
    return f"{site.area_code}e8b2c1d04f7a9{site.key[:3]}"


def _list(world: World, site: Site, col: Column) -> Resp:
    items = world.column_notices(site, col)
    first = items[: col.per_page]
    blocks = []
    for start in range(0, len(first), 5):
        lis = "".join(
            f'\n<li><a href="{_href(col, n)}" target="_blank" title="{esc(n.title)}">{esc(n.title)}</a>'
            f'<span class="bf-pass">{n.published:%Y-%m-%d}</span></li>'
            for n in first[start:start + 5])
        blocks.append(f'<div ms-visible="$showStatic({start + 1})">{lis}\n</div>')
    pages = P.page_count(len(items), col.per_page)
    script = (
        f"var SiteInfo={{searchId:'{_search_id(site)}',siteId:'{site.area_code}',"
        f"siteName:'{site.short}',projPath:'/'}};\n"
        f"var pageChnlInfo={{chnlId:'{col.code}',chnlName:'{col.name}',recordCount:'{len(items)}',"
        f"prepage:{col.per_page},pageCount:{pages},sortfield:'-docorderpri,-docreltime',"
        f"classsql:'chnlid={col.code}'}};"
    )
    main = (f'<div class="list_base mar_t10"><div class="gl_tit">{esc(col.name)}</div>\n'
            '<ul class="list gl_list">\n' + "\n".join(blocks) + "\n"
            '<li ms-for="el in data" ms-if="!isStatic"><a ms-attr="{href:el.docpuburl}">{{el.doctitle}}</a>'
            '<span class="bf-pass">{{el.docreltime}}</span></li>\n</ul>\n'
            '<div class="pagination" id="pagination"></div></div>\n'
            f"<script>{script}</script>\n"
            '<script src="/static/js/avalon.js"></script><script src="/static/js/fjdzList.js"></script>\n')
    return P.list_resp(world, site, col, P.list_page(site, col, main))


def _search(world: World, site: Site, form: dict[str, str]) -> Resp:
    classsql = form.get("classsql", "")
    code = classsql.split("chnlid=", 1)[-1].strip("'\" ") if "chnlid=" in classsql else ""
    try:
        col = site.column(code)
        page = max(1, int(form.get("page", "1") or 1))
        prepage = max(1, min(100, int(form.get("prepage", str(col.per_page)) or col.per_page)))
    except (KeyError, ValueError):
        return Resp(body=json.dumps({"pageCount": 0, "total": 0, "data": []}),
                    ctype="application/json;charset=UTF-8", cacheable=False)
    items = world.column_notices(site, col)
    chunk = P.page_slice(items, prepage, page)
    data = [{
        "doctitle": n.title,
        "docpuburl": site.url(n.path),
        "docreltime": n.published.strftime("%Y-%m-%d %H:%M:%S"),
        "fileno": n.doc_no or "",
        "docsourcename": n.source or "",
        "puborg": n.issuing_org or "",
        "idxid": n.index_no or "",
        "chnlid": site.column(n.home).code,
        "docid": str(n.doc),
    } for n in chunk]
    doc = {"pageCount": P.page_count(len(items), prepage), "total": len(items),
           "page": page, "prepage": prepage, "data": data}
    return Resp(body=json.dumps(doc, ensure_ascii=False), ctype="application/json;charset=UTF-8",
                cacheable=False)


def _detail(world: World, site: Site, n: Notice) -> Resp:
    col = site.column(n.home)
    block = ""
    if col.policy:
        lis = "".join(f'<li class="col-md-6">{label}：<font>{value}</font></li>'
                      for label, value in P.disclosure_fields(n, site))
        block = f'<div class="index_box"><ul class="trt-row">{lis}</ul></div>\n'
    atts = "".join(f'<li><a href="./{posixpath.basename(a.file_path)}" target="_blank">{esc(a.name)}</a></li>'
                   for a in n.attachments)
    source = f'<span class="article_source">来源：{esc(n.source)}</span>' if n.source else ""
    main = (
        block + '<div class="article_component">\n'
        f'<div class="article_title">{esc(n.title)}</div>\n'
        f'<div class="article_title_group">{source}'
        f'<span class="article_time">{site.date_prefix}{P.fmt_date(site, n.published)}</span>'
        f'<span class="article_cate">{esc(col.name)}:</span></div>\n'
        + P.tools()
        + '<div class="article_content"><div class="TRS_Editor">\n' + P.body_html(n)
        + '\n</div></div>\n'
        f'<div class="article_attachment"><h4>附件下载</h4><ul>{atts}</ul></div>\n'
        + P.qr_block() + P.related_links() + "</div>\n"
    )
    return P.detail_resp(n, P.detail_page(world, site, n, main))
