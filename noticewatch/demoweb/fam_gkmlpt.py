"""Family E: Guangdong gkmlpt (Huangpu).

``/gkmlpt/index`` is a single-page app: ``window._CONFIG = {SID, TREE}``. Lists come
from ``/gkmlpt/api/all/{category}?page=N&sid=SID`` (JSON, dates as epoch seconds).
Detail pages embed the record in ``DETAIL:{…"content":"\\u003Cp…"}``; some also render
the body in ``#zoomcon``.
"""

from __future__ import annotations

import json
import re

from . import pages as P
from .model import Notice, Site
from .pages import Resp, esc
from .world import World

_API = re.compile(r"/gkmlpt/api/all/(\d+)$")


def _sid(site: Site) -> str:
    return site.area_code[:4] + "00"


def _json_script(obj: object) -> str:
    # json.dumps escapes non-ASCII; escape "<" too, as the real pages do, so no "</script>".
    return json.dumps(obj).replace("<", "\\u003C").replace(">", "\\u003E")


def route(world: World, site: Site, method: str, path: str, query: dict[str, str],
          form: dict[str, str]) -> Resp | None:
    if path in ("/gkmlpt/index", "/gkmlpt/", "/gkmlpt"):
        return _index(site)
    m = _API.fullmatch(path)
    if m:
        return _api(world, site, m.group(1), query)
    return P.detail_at(world, site, path, _detail)


def _index(site: Site) -> Resp:
    tree = [{"id": int(c.code), "name": c.name, "parent": 0, "jump_url": ""} for c in site.columns]
    cfg = f"window._CONFIG = {{SID:'{_sid(site)}', SITE_NAME:'{site.name}', TREE:{_json_script(tree)}}};"
    body = (P.head(site, "政府信息公开") + '<div id="app"><noscript>请启用JavaScript</noscript></div>\n'
            f"<script>{cfg}</script>\n<script src=\"/gkmlpt/static/js/app.js\"></script>\n" + P.footer(site))
    return Resp(body=body, ctype="text/html; charset=utf-8")


def _article(site: Site, n: Notice) -> dict[str, object]:
    return {
        "id": n.doc, "title": n.title, "url": site.url(n.path),
        "identifier": n.index_no or "", "publisher": n.issuing_org or "",  # 发布机构: empty when the truth has none
        "document_number": n.doc_no or "", "date": int(n.published.timestamp()),
        "created_at": int(n.published.timestamp()) - 3600,
        "attachment": [{"name": a.name, "url": a.link} for a in n.attachments],
    }


def _api(world: World, site: Site, code: str, query: dict[str, str]) -> Resp:
    if query.get("sid") not in (None, _sid(site)):
        return Resp(body=json.dumps({"articles": [], "total": 0, "error": "bad sid"}),
                    ctype="application/json", cacheable=False)
    try:
        col = site.column(code)
    except KeyError:
        return Resp(status=404, body='{"error":"no category"}', ctype="application/json")
    try:
        page = max(1, int(query.get("page", "1")))
    except ValueError:
        page = 1
    items = world.column_notices(site, col)
    chunk = P.page_slice(items, col.per_page, page)
    doc = {"articles": [_article(site, n) for n in chunk], "total": len(items), "page": page,
           "page_size": col.per_page, "pages": P.page_count(len(items), col.per_page)}
    return Resp(body=json.dumps(doc, ensure_ascii=False), ctype="application/json;charset=UTF-8",
                cacheable=False)


def _att_list(n: Notice) -> str:
    if not n.attachments:
        return ""
    lis = "".join(f'<li><a href="{a.link}" target="_blank">{esc(a.name)}</a></li>' for a in n.attachments)
    return f'<div class="attachment"><p>附件：</p><ul>{lis}</ul></div>\n'


def _detail(world: World, site: Site, n: Notice) -> Resp:
    col = site.column(n.home)
    content = P.body_html(n)
    detail = {**_article(site, n), "content": content, "source": n.source or "",
              "classify_main_name": n.subject or "", "column": col.name,
              "written_date": n.written_date.isoformat() if n.written_date else "",
              "validity": n.validity or ""}
    rows = ""
    if col.policy:
        rows = "".join(f"<tr><th>{label}：</th><td>{value}</td></tr>"
                       for label, value in P.disclosure_fields(n, site))
        rows = f'<table class="classify">{rows}</table>\n'
    rendered = ""
    if n.style.get("zoomcon"):
        src = f"<span>来源：{esc(n.source)}</span>" if n.source else ""
        rendered = (f'<div class="content-box">{rows}<h1 class="title">{esc(n.title)}</h1>\n'
                    f'<div class="info"><span>{site.date_prefix}{P.fmt_date(site, n.published)}</span>'
                    f'{src}</div>\n' + P.tools() + f'<div id="zoomcon">\n{content}\n</div>\n'
                    + _att_list(n) + "</div>\n")
    body = (P.head(site, n.title, n, col) + P.crumbs(site, col) + '<div id="app">' + rendered + "</div>\n"
            f"<script>window._CONFIG = {{SID:'{_sid(site)}', DETAIL:{_json_script(detail)}}};</script>\n"
            + P.bottom_tools() + P.footer(site))
    return P.detail_resp(n, body)
