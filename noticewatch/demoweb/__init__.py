"""The bundled demo web: fake district government sites served from one loopback server.

Use the server as an HTTP proxy (``http_proxy=http://127.0.0.1:PORT``): it dispatches
on the absolute request URI or the ``Host`` header, so crawlers use real-looking
domains without any name resolution. Content is deterministic for a seed.

Sites (family key in brackets):

- ``www.mawei.gov.cn`` 马尾区 [fujian]: 政策文件 ``/xjwz/zwgk/zcwjk/`` (with the real sample
  notice 区十届人大常委会工作回顾) and 通知公告 ``/xjwz/zwgk/tzgg/``; static ``$showStatic``
  blocks, ``POST /fjdzapp/search`` JSON, ``index_box`` disclosure, Word-paste bodies,
  cross-column ``../../`` links, gzip when asked.
- ``www.fzcangshan.gov.cn`` 仓山区 [fujian]: 10 a page, misspelt ``Desctiption`` meta,
  carries a verbatim repost of a Mawei notice.
- ``www.gulou.gov.cn`` 鼓楼区 [trs_wcm]: ``index_N.html``, ``.TRS_Editor .Custom_UnionStyle``,
  ``Content-Type: text/html`` without charset (one page without meta charset either),
  ``appendix="true"`` links, one page writing attachment links by ``document.write``,
  a promised last list page that is 404, an edited repost, and the hostile trap column
  ``/zwgk/trap/`` whose pagination never ends.
- ``www.jiangning.gov.cn`` 江宁区 [trs_wcm]: ``.shtml``, ``#zoom``, declared gb2312 but
  GB18030 bytes (镕, 堃), ``[2024-01-04]`` list dates, an empty stub last page.
- ``www.yuhang.gov.cn`` 余杭区 [hanweb]: ``/col/col1229/index.html`` datastore XML,
  ``dataproxy.jsp``, titles cut with …, split dates, ``downfile.jsp`` 302 to files with
  RFC 5987 / raw GBK / no Content-Disposition.
- ``www.cqjb.gov.cn`` 江北区 [kaipu]: ``list.shtml``/``list_2.shtml``, ``<UCAPTITLE>`` etc.,
  ``2025年12月04日`` dates.
- ``www.hp.gov.cn`` 黄埔区 [gkmlpt]: ``/gkmlpt/index`` SPA, ``/gkmlpt/api/all/{cat}``,
  ``DETAIL`` JSON in a script, ``#zoomcon`` on about half of the pages.
- ``www.szwz.gov.cn`` 吴中区 [epoint]: ``/001/001001/subPage.html``, ``2.html`` …,
  ``iList.jsp?categorynum=001001&cur_page=N``, ``.ewb-article-info``.
- Hostile (not in the default registry): ``www.blk412.gov.cn`` ($_ts challenge),
  ``www.blk521.gov.cn`` (__jsl_clearance), ``www.blk403.gov.cn`` (block page),
  ``www.down.gov.cn`` (connection reset).

Every site: ETag/Last-Modified with 304s, ``/robots.txt`` (``Disallow: /private/``),
a view counter that changes on each request (not part of the ETag), 404 for unknown
paths; ``/__health`` on any host. Per-site switches: ``fault_rate``, ``blocked``, ``down``
(``DemoWeb.set_behaviour``). ``web.requests`` logs ``(method, host, path, status)``.
"""

from __future__ import annotations

from .registry import demo_registry
from .server import DemoWeb, main
from .world import World

__all__ = ["DemoWeb", "World", "demo_registry", "main"]
