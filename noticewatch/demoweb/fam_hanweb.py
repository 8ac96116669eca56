"""Family C: Hanweb (大汉) JCMS (Yuhang).

The column page embeds its first records in ``<script type="text/xml"><datastore>``;
the rest come from ``/module/web/jpage/dataproxy.jsp`` (POST with startrecord/endrecord
in the query, or GET ``?page=N``). Anchor text is cut with …, dates are split over
lines. Attachments go through ``downfile.jsp``, which 302-redirects to the file.
"""

from __future__ import annotations

from . import pages as P
from .model import Column, Notice, Site
from .pages import Resp, esc
from .world import World

_APPID, _WEBID = "1", "2"


def _unit(col: Column) -> str:
    return str(4000000 + int(col.code))


def route(world: World, site: Site, method: str, path: str, query: dict[str, str],
          form: dict[str, str]) -> Resp | None:
    if path == "/module/web/jpage/dataproxy.jsp":
        return _proxy(world, site, query, form)
    if path == "/module/download/downfile.jsp":
        return _download(world, site, query)
    for col in site.columns:
        if path in (col.path, col.entry):
            return _column(world, site, col)
    return P.detail_at(world, site, path, _detail)


def _record(site: Site, n: Notice) -> str:
    text = n.title if len(n.title) <= 18 else n.title[:17] + "…"
    return (f'<record><![CDATA[\n<li><a href="{n.path}" title="{esc(n.title)}" target="_blank">'
            f"{esc(text)}</a><span>{P.list_date(site, n.published)}</span></li>\n]]></record>")


def _column(world: World, site: Site, col: Column) -> Resp:
    items = world.column_notices(site, col)
    unit = _unit(col)
    first = "\n".join(_record(site, n) for n in items[: col.per_page])
    ajax = (f"{{col:1,appid:{_APPID},webid:{_WEBID},path:'/',columnid:{col.code},sourceContentType:1,"
            f"unitid:'{unit}',webname:'{site.name}',permissiontype:0}}")
    body = (P.head(site, col.name) + P.crumbs(site, col)
            + f'<div class="list-box"><div class="tit">{esc(col.name)}</div>\n<div id="{unit}">\n'
            f'<script type="text/xml"><datastore>\n<nextgroup><![CDATA[<a href="/module/web/jpage/'
            f'dataproxy.jsp?page=1&appid={_APPID}&webid={_WEBID}&path=/&columnid={col.code}'
            f'&unitid={unit}&permissiontype=0"></a>]]></nextgroup>\n<recordset>\n{first}\n'
            "</recordset>\n</datastore></script>\n</div>\n"
            '<script language="javascript" src="/module/jslib/jquery/jpage/jquery.page.min.js"></script>\n'
            f"<script>$(document).ready(function(){{ $('#{unit}').jpage({{ dataStore: ajaxDataStore,"
            f" perPage:{col.per_page}, totalRecord:{len(items)}, groupSize:3,"
            f" proxyUrl:'/module/web/jpage/dataproxy.jsp', ajaxParam:{ajax} }}); }});</script>\n"
            "</div>\n" + P.footer(site))
    return P.list_resp(world, site, col, body)


def _int(d: dict[str, str], key: str, default: int) -> int:
    try:
        return int(d.get(key, "") or default)
    except ValueError:
        return default


def _proxy(world: World, site: Site, query: dict[str, str], form: dict[str, str]) -> Resp:
    params = {**query, **form}
    code = params.get("columnid", "")
    try:
        col = site.column(code)
    except KeyError:
        return Resp(status=200, body='<?xml version="1.0" encoding="UTF-8"?><datastore>'
                    "<totalrecord>0</totalrecord><totalpage>0</totalpage><recordset></recordset>"
                    "</datastore>", ctype="text/xml;charset=UTF-8", cacheable=False)
    items = world.column_notices(site, col)
    perpage = max(1, _int(params, "perpage", col.per_page))
    if "startrecord" in params:
        start = max(1, _int(params, "startrecord", 1))
        end = max(start, _int(params, "endrecord", start + perpage * 3 - 1))
    else:
        page = max(1, _int(params, "page", 1))
        start, end = (page - 1) * perpage + 1, page * perpage
    recs = "\n".join(_record(site, n) for n in items[start - 1:end])
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<datastore>\n'
            f"<totalrecord>{len(items)}</totalrecord>\n"
            f"<totalpage>{P.page_count(len(items), perpage)}</totalpage>\n"
            f"<recordset>\n{recs}\n</recordset>\n</datastore>")
    return Resp(body=body, ctype="text/xml;charset=UTF-8", cacheable=False)


def _download(world: World, site: Site, query: dict[str, str]) -> Resp | None:
    name = query.get("filename", "")
    target = f"/picture/0/{name}"
    if (site.host, target) not in world.files:
        return None
    return Resp(status=302, body="", headers=[("Location", site.url(target))], cacheable=False)


def _disclosure(n: Notice, site: Site) -> str:
    f = dict(P.disclosure_fields(n, site))
    rows = [("索&ensp;引&ensp;号", f["索&ensp;引&ensp;号"], "主题分类", f["主题分类"]),
            ("发布机构", f["发文机关"], "生成日期", f["成文日期"]),
            ("文　　号", f["文　　号"], "有 效 性", f["有 效 性"]),
            ("名　　称", f["标　　题"], "", "")]
    trs = "".join(f'<tr><td class="lab">{a}</td><td>{b}</td>'
                  + (f'<td class="lab">{c}</td><td>{d}</td>' if c else '<td colspan="2"></td>') + "</tr>"
                  for a, b, c, d in rows)
    return f'<table class="xxgk_table" cellspacing="0">{trs}</table>\n'


def _detail(world: World, site: Site, n: Notice) -> Resp:
    col = site.column(n.home)
    atts = "".join(
        f'<p><img src="/module/download/images/pdf.gif"><a href="{a.link.split(site.host, 1)[1]}">'
        f"{esc(a.name)}</a></p>" for a in n.attachments)
    src = f"<span>信息来源：{esc(n.source)}</span>" if n.source else ""
    main = ((_disclosure(n, site) if col.policy else "")
            + f'<div class="main-txt"><h1 class="title">{esc(n.title)}</h1>\n'
            f'<div class="info"><span>{site.date_prefix}{P.fmt_date(site, n.published)}</span>{src}'
            "</div>\n" + P.tools()
            + '<div id="zoom">\n<!--ContentStart-->\n' + P.body_html(n)
            + "\n<!--ContentEnd-->\n</div>\n"
            + (f'<div class="fj">附件：{atts}</div>\n' if atts else "") + "</div>\n")
    return P.detail_resp(n, P.detail_page(world, site, n, main))
