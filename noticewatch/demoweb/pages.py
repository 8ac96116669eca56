"""Markup shared by the family renderers: head/meta, boilerplate, body, disclosure block.

Boilerplate (当前位置, 【打印】【关闭】, 浏览次数, 上一篇/下一篇, footer ...) is here so every
family carries the text the extractor must drop. The view counter changes on each
request; it is never part of a page's ETag.
"""

from __future__ import annotations

import html
import itertools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from .model import Column, Notice, Site

if TYPE_CHECKING:
    from .world import World

_views = itertools.count(1732)

HTML_UTF8 = "text/html; charset=utf-8"


@dataclass
class Resp:
    status: int = 200
    body: str | bytes = ""
    ctype: str = "text/html"
    headers: list[tuple[str, str]] = field(default_factory=list)
    etag_basis: str | None = None  # None: hash of the body
    last_modified: datetime | None = None
    cacheable: bool = True


def column_page(site: Site, path: str, page_name: re.Pattern[str]) -> tuple[Column, re.Match[str]] | None:
    """The column whose folder holds ``path``, with ``page_name`` matched against the rest."""
    for col in site.columns:
        if path.startswith(col.path):
            m = page_name.fullmatch(path[len(col.path):])
            if m:
                return col, m
    return None


def detail_at(world: World, site: Site, path: str,
              render: Callable[[World, Site, Notice], Resp]) -> Resp | None:
    """The family's detail page for the notice at ``path``, or None when there is none."""
    n = world.notice_at(site.host, path)
    return render(world, site, n) if n is not None else None


def page_count(total: int, per_page: int) -> int:
    return max(1, math.ceil(total / per_page))


def page_slice(items: list[Notice], per_page: int, page: int) -> list[Notice]:
    """The items of 1-based ``page``."""
    return items[(page - 1) * per_page: page * per_page]


def list_resp(world: World, site: Site, col: Column, body: str, ctype: str = HTML_UTF8) -> Resp:
    """A list page: cacheable, Last-Modified from the newest change in the column."""
    return Resp(body=body, ctype=ctype, last_modified=world.column_last_modified(site, col))


def detail_resp(n: Notice, body: str, ctype: str = HTML_UTF8) -> Resp:
    """A detail page: the ETag follows the notice's version, not the (view-counting) body."""
    return Resp(body=body, ctype=ctype, etag_basis=f"{n.id}-{n.version}", last_modified=n.last_modified)


def list_page(site: Site, col: Column, main: str, *, charset: str | None = "utf-8",
              location_class: str = "") -> str:
    """A whole list page around ``main``: head, location, footer."""
    return head(site, col.name, col=col, charset=charset) + location(site, col, location_class) + main + footer(site)


def detail_page(world: World, site: Site, n: Notice, main: str, *, charset: str | None = "utf-8",
                location_class: str = "") -> str:
    """A whole detail page around ``main``: head, location, 上一篇/下一篇, tools, footer."""
    col = site.column(n.home)
    return (head(site, n.title, n, col, charset=charset) + location(site, col, location_class) + main
            + neighbours(world, site, n) + bottom_tools() + footer(site))


def location(site: Site, col: Column, wrapper_class: str = "") -> str:
    """The 当前位置 crumbs, in a ``<div class=wrapper_class>`` when given."""
    if wrapper_class:
        return f'<div class="{wrapper_class}">' + crumbs(site, col) + "</div>\n"
    return crumbs(site, col)


def esc(s: str | None) -> str:
    return html.escape(s or "", quote=True)


def fmt_date(site: Site, when: datetime, fmt: str | None = None) -> str:
    fmt = fmt or site.date_fmt
    if fmt == "ymd":
        return when.strftime("%Y-%m-%d")
    if fmt == "cn":
        return when.strftime("%Y年%m月%d日")
    if fmt == "ymd_hms":
        return when.strftime("%Y-%m-%d %H:%M:%S")
    return when.strftime("%Y-%m-%d %H:%M")


def list_date(site: Site, when: datetime) -> str:
    d = when.strftime("%Y-%m-%d")
    return {"bracket": f"[{d}]", "cn": when.strftime("%Y年%m月%d日"),
            "split": f"\n                {d}\n            "}.get(site.list_date, d)


def view_count() -> int:
    return next(_views)


def head(site: Site, title: str, notice: Notice | None = None, col: Column | None = None,
         charset: str | None = "utf-8") -> str:
    meta = [f'<meta charset="{charset}">'] if charset else []
    meta.append(f'<meta name="SiteName" content="{esc(site.name)}">')
    meta.append(f'<meta name="SiteDomain" content="{site.host}">')
    meta.append(f'<meta name="SiteIDCode" content="{site.site_id_code}">')
    if col is not None:
        meta.append(f'<meta name="ColumnName" content="{esc(col.name)}">')
        meta.append('<meta name="ColumnType" content="' + ("政策文件" if col.policy else "通知公告") + '">')
    if notice is not None:
        meta.append(f'<meta name="ArticleTitle" content="{esc(notice.title)}">')
        meta.append(f'<meta name="PubDate" content="{fmt_date(site, notice.published)}">')
        if notice.source:
            meta.append(f'<meta name="ContentSource" content="{esc(notice.source)}">')
        meta.append(f'<meta name="Keywords" content="{esc(notice.title[:12])}">')
        desc = "Desctiption" if site.misspelt_description else "Description"
        meta.append(f'<meta name="{desc}" content="{esc(notice.paragraphs[0][:60])}">')
        meta.append(f'<meta name="Url" content="{site.url(notice.path)}">')
    return ("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n" + "\n".join(meta)
            + f"\n<title>{esc(title)}_{esc(site.name)}</title>\n"
            '<link rel="stylesheet" href="/images/common.css">\n</head>\n<body>\n'
            + top_bar(site))


def top_bar(site: Site) -> str:
    return (f'<div class="header"><div class="logo"><a href="/">{esc(site.name)}</a></div>'
            '<ul class="nav"><li><a href="/">首页</a></li><li>政务公开</li><li>政务服务</li>'
            '<li>互动交流</li></ul><div class="search"><input type="text" placeholder="请输入关键词">'
            '</div></div>\n')


def crumbs(site: Site, col: Column) -> str:
    return (f'<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="#">政务公开</a>'
            f' &gt; <a href="{col.entry}">{esc(col.name)}</a></div>\n')


def tools(counter_cls: str = "views") -> str:
    return ('<div class="article_tools"><span>字号：<a href="#">大</a> <a href="#">中</a> '
            '<a href="#">小</a></span> <span class="share">分享到：<a href="#">微信</a>'
            f'<a href="#">微博</a></span> <span class="{counter_cls}">浏览次数：'
            f'<em id="viewcount">{view_count()}</em></span></div>\n')


def bottom_tools() -> str:
    return ('<div class="print_close"><a href="javascript:window.print()">【打印】</a>'
            '<a href="javascript:window.close()">【关闭】</a> <a href="#">我要纠错</a> '
            '<a href="#top">返回顶部</a></div>\n')


def prev_next(prev: Notice | None, nxt: Notice | None, site: Site) -> str:
    def link(label: str, n: Notice | None) -> str:
        if n is None:
            return f"<p>{label}：没有了</p>"
        return f'<p>{label}：<a href="{site.url(n.path)}">{esc(n.title)}</a></p>'
    return '<div class="prev_next">' + link("上一篇", prev) + link("下一篇", nxt) + "</div>\n"


def neighbours(world: World, site: Site, n: Notice) -> str:
    """上一篇/下一篇 within the home column (boilerplate; not part of the ETag)."""
    items = world.column_notices(site, site.column(n.home))
    idx = next((i for i, x in enumerate(items) if x.id == n.id), -1)
    prev = items[idx - 1] if idx > 0 else None
    nxt = items[idx + 1] if 0 <= idx < len(items) - 1 else None
    return prev_next(prev, nxt, site)


_PROVINCE = {"35": ("闽", "0591"), "32": ("苏", "025"), "33": ("浙", "0571"), "50": ("渝", "023"),
             "44": ("粤", "020")}


def footer(site: Site) -> str:
    prov, tel = _PROVINCE.get(site.area_code[:2], ("京", "010"))
    return (f'<div class="footer"><p>主办单位：{esc(site.name)}办公室　承办：{esc(site.short)}大数据中心</p>'
            f'<p>版权所有：{esc(site.name)}　网站标识码：{site.site_id_code}　'
            f'<a href="#">{prov}ICP备05012345号</a></p><p>联系电话：{tel}-88888888</p></div>\n'
            '<script src="/images/common.js"></script>\n</body>\n</html>\n')


def qr_block() -> str:
    return ('<div class="article_qr"><img src="/images/qrcode.png" alt="二维码">'
            '<p>扫一扫在手机上查看当前页面</p></div>\n')


def related_links() -> str:
    return ('<div class="related"><h4>相关链接</h4><ul><li><a href="http://www.gov.cn/">中国政府网</a></li>'
            '</ul></div>\n')


def body_html(n: Notice) -> str:
    """Paragraphs as ordinary <p>, or as a Word paste (MsoNormal, 仿宋_GB2312 spans)."""
    out = []
    for i, p in enumerate(n.paragraphs):
        t = esc(p)
        if n.style.get("word_paste"):
            out.append('<p class="MsoNormal" style="text-indent:32.0pt;line-height:28.0pt">'
                       '<span style="font-size:16.0pt;font-family:仿宋_GB2312">'
                       f'{t}</span><span lang="EN-US" style="font-size:16.0pt"><o:p></o:p></span></p>')
        elif p in ("一、总体要求", "二、主要任务", "三、保障措施", "四、工作要求", "五、其他事项"):
            out.append(f'<p style="text-indent:2em;"><strong>{t}</strong></p>')
        elif i == len(n.paragraphs) - 1 and p.endswith("日") and len(p) < 14:
            out.append(f'<p style="text-align:right;">{t}</p>')
        else:
            out.append(f'<p style="text-indent:2em;">{t}</p>')
    return "\n".join(out)


def _d(v: date | None, cn: bool = False) -> str:
    if v is None:
        return "无"
    return v.strftime("%Y年%m月%d日") if cn else v.isoformat()


def disclosure_fields(n: Notice, site: Site, cn: bool = False) -> list[tuple[str, str]]:
    """(padded label, value) pairs; empty values read 无 as on real sites."""
    return [
        ("索&ensp;引&ensp;号", n.index_no or "无"),
        ("主题分类", n.subject or "无"),
        ("发文机关", n.issuing_org or "无"),
        ("成文日期", _d(n.written_date, cn)),
        ("发布日期", fmt_date(site, n.published)),
        ("文　　号", n.doc_no or "无"),
        ("标　　题", esc(n.title)),
        ("有 效 性", n.validity or "无"),
    ]
