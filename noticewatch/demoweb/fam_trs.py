"""Family A: TRS WCM static pages (Gulou, Jiangning, and the hostile test sites).

``index.html`` then ``index_1.html`` ... with ``createPageHTML(N, cur, "index", "html")``.
Gulou sends ``Content-Type: text/html`` without charset and wraps bodies in
``.TRS_Editor .Custom_UnionStyle``; Jiangning declares gb2312, is encoded GB18030,
uses ``.shtml`` and ``#zoom``. One column ends in a missing page, one in an empty stub,
and the trap column's pagination never ends.
"""

from __future__ import annotations

import json
import posixpath
import re

from . import pages as P
from .model import Column, Notice, Site
from .pages import Resp, esc
from .world import World

# The column folder itself, index.html or index_N.html (.shtml on some sites).
_PAGE = re.compile(r"(?:index(?:_(\d+))?\.(s?html))?")


def _ctype(site: Site) -> str:
    if site.charset == "gb2312":
        return "text/html; charset=gb2312"
    if site.charset == "none":
        return "text/html"
    return "text/html; charset=utf-8"


def _meta_charset(site: Site) -> str:
    return "gb2312" if site.charset == "gb2312" else "utf-8"


def route(world: World, site: Site, method: str, path: str, query: dict[str, str],
          form: dict[str, str]) -> Resp | None:
    hit = P.column_page(site, path, _PAGE)
    if hit is not None and hit[1].group(2) in (None, site.ext):
        col, m = hit
        return _list(world, site, col, int(m.group(1) or 0))
    return P.detail_at(world, site, path, _detail)


def _list(world: World, site: Site, col: Column, page: int) -> Resp | None:
    items = world.column_notices(site, col)
    pages = P.page_count(len(items), col.per_page)
    declared = pages + (1 if col.missing_tail else 0)
    if col.trap:
        declared = page + 2  # always one more page: a crawler must cap itself
        chunk = items
    elif page >= declared:
        return None
    elif page == pages:  # the extra page the script promises
        if col.missing_tail == "404":
            return None
        chunk = []
    else:
        chunk = items[page * col.per_page:(page + 1) * col.per_page]
    lis = []
    for n in chunk:
        rel = posixpath.relpath(n.path, col.path)
        href = rel if rel.startswith("..") else "./" + rel
        lis.append(f'<li><a href="{href}" title="{esc(n.title)}" target="_blank">{esc(n.title)}</a>'
                   f"<span>{P.list_date(site, n.published)}</span></li>")
    main = (f'<div class="list-box"><h2>{esc(col.name)}</h2>\n<ul class="list">\n'
            + "\n".join(lis) + "\n</ul>\n"
            '<div class="page"><script type="text/javascript">\n'
            f'createPageHTML({declared}, {page}, "index", "{site.ext}");\n</script></div></div>\n')
    body = P.list_page(site, col, main, charset=_meta_charset(site))
    return P.list_resp(world, site, col, body, ctype=_ctype(site))


def _attachments(n: Notice) -> str:
    if not n.attachments:
        return ""
    links = []
    for a in n.attachments:
        href = "./" + posixpath.basename(a.file_path)
        flag = ' appendix="true"' if a.appendix else ""
        links.append(f'<a href="{href}"{flag} target="_blank">{esc(a.name)}</a>')
    if any(a.scripted for a in n.attachments):
        # Some TRS templates write the links at load time; the hrefs sit in a JS string.
        calls = "\n".join(f"document.write({json.dumps('<p>' + link + '</p>', ensure_ascii=False)});"
                          for link in links)
        return f'<div class="fujian">附件：<script type="text/javascript">\n{calls}\n</script></div>\n'
    return '<div class="fujian">附件：' + "".join(f"<p>{link}</p>" for link in links) + "</div>\n"


def _disclosure(n: Notice, site: Site) -> str:
    f = P.disclosure_fields(n, site, cn=True)
    rows = []
    for i in range(0, len(f), 2):
        cells = "".join(f"<th>{label}：</th><td>{value}</td>" for label, value in f[i:i + 2])
        rows.append(f"<tr>{cells}</tr>")
    return '<table class="xxgk-table" border="1">' + "".join(rows) + "</table>\n"


def _detail(world: World, site: Site, n: Notice) -> Resp:
    col = site.column(n.home)
    charset = None if n.style.get("no_meta_charset") else _meta_charset(site)
    block = _disclosure(n, site) if col.policy else ""
    src = f"<span>来源：{esc(n.source)}</span>" if n.source else ""
    info = (f'<div class="info"><span>{site.date_prefix}{P.fmt_date(site, n.published)}</span>'
            f"{src}</div>\n")
    text = P.body_html(n)
    if site.body_variant == "union":
        box = '<div class="TRS_Editor"><div class="Custom_UnionStyle">\n' + text + "\n</div></div>\n"
    elif site.body_variant == "zoom":
        box = '<div id="zoom">\n' + text + "\n</div>\n"
    else:
        box = '<div id="mainText"><div class="trs_editor_view TRS_UEDITOR">\n' + text + "\n</div></div>\n"
    main = (f'<div class="detail">{block}<h1 class="title">{esc(n.title)}</h1>\n{info}'
            + P.tools() + box + _attachments(n) + "</div>\n")
    return P.detail_resp(n, P.detail_page(world, site, n, main, charset=charset), ctype=_ctype(site))
