"""The demo sites: one or more per CMS family, each with its own quirks.

Counts are kept small (20-40 notices a column) so a full crawl of the demo web takes
seconds, but every column has more than one list page.
"""

from __future__ import annotations

from datetime import datetime

from .model import CST, Column, Site


def _c(path: str, name: str, code: str, count: int, *, entry: str | None = None,
       policy: bool = False, per_page: int = 15, trap: bool = False, hostile: bool = False,
       missing_tail: str = "") -> tuple[Column, int]:
    col = Column(path=path, name=name, code=code, entry=entry or path, policy=policy,
                 per_page=per_page, trap=trap, hostile=hostile, missing_tail=missing_tail)
    return col, count


def site_specs() -> list[tuple[Site, list[int], datetime]]:
    """(site, notice count per column, date of the newest notice) for every demo site."""
    specs: list[tuple[Site, list[tuple[Column, int]], datetime]] = [
        (Site("mawei", "福州市马尾区人民政府", "马尾区", "www.mawei.gov.cn", "fujian", "350105", [],
              date_fmt="ymd_hm", date_prefix="日期：", gzip="accept", site_id_code="3501050001"),
         [_c("/xjwz/zwgk/zcwjk/", "政策文件", "1754", 39, policy=True),
          _c("/xjwz/zwgk/tzgg/", "通知公告", "1755", 30)],
         datetime(2022, 3, 30, 16, 20, tzinfo=CST)),
        (Site("cangshan", "福州市仓山区人民政府", "仓山区", "www.fzcangshan.gov.cn", "fujian", "350104", [],
              date_fmt="ymd_hm", date_prefix="时间：", site_id_code="3501040002",
              misspelt_description=True),
         [_c("/xjwz/zwgk/tzgg/", "通知公告", "2101", 24, per_page=10),
          _c("/xjwz/zwgk/zcwjk/", "政策文件", "2102", 21, policy=True, per_page=10)],
         datetime(2023, 10, 23, 10, 3, tzinfo=CST)),
        (Site("gulou", "鼓楼区人民政府", "鼓楼区", "www.gulou.gov.cn", "trs_wcm", "350102", [],
              date_fmt="ymd", date_prefix="发布日期：", charset="none", body_variant="union",
              site_id_code="3501020003"),
         [_c("/zwgk/tzgg/", "通知公告", "tzgg", 32, per_page=10, missing_tail="404"),
          _c("/zwgk/zcwj/", "政策文件", "zcwj", 24, policy=True, per_page=10),
          _c("/zwgk/trap/", "动态信息", "trap", 0, per_page=5, trap=True, hostile=True)],
         datetime(2022, 1, 20, 9, 0, tzinfo=CST)),
        (Site("jiangning", "南京市江宁区人民政府", "江宁区", "www.jiangning.gov.cn", "trs_wcm", "320115", [],
              date_fmt="ymd_hm", date_prefix="信息提供日期：", charset="gb2312", body_variant="zoom",
              ext="shtml", list_date="bracket", site_id_code="3201150004"),
         [_c("/zwgk/tzgg/", "通知公告", "tzgg", 22, per_page=8, missing_tail="stub")],
         datetime(2024, 1, 4, 15, 30, tzinfo=CST)),
        (Site("yuhang", "杭州市余杭区人民政府", "余杭区", "www.yuhang.gov.cn", "hanweb", "330110", [],
              date_fmt="ymd_hm", date_prefix="发布时间：", list_date="split", gzip="accept",
              site_id_code="3301100005"),
         [_c("/col/col1229/", "通知公告", "1229", 37, entry="/col/col1229/index.html"),
          _c("/col/col1230/", "政策文件", "1230", 26, entry="/col/col1230/index.html", policy=True)],
         datetime(2024, 4, 30, 11, 21, tzinfo=CST)),
        (Site("jiangbei", "重庆市江北区人民政府", "江北区", "www.cqjb.gov.cn", "kaipu", "500105", [],
              date_fmt="cn", date_prefix="发布日期：", list_date="bracket", site_id_code="5001050006"),
         [_c("/zwgk_239/tzgg/", "通知公告", "tzgg", 33, per_page=12)],
         datetime(2025, 12, 4, 10, 0, tzinfo=CST)),
        (Site("huangpu", "广州市黄埔区人民政府", "黄埔区", "www.hp.gov.cn", "gkmlpt", "440112", [],
              date_fmt="ymd_hms", date_prefix="发布日期：", gzip="accept", site_id_code="4401120007"),
         [_c("/gkmlpt/content/2863/", "通知公告", "2863", 28, entry="/gkmlpt/index", per_page=10),
          _c("/gkmlpt/content/2864/", "规范性文件", "2864", 21, entry="/gkmlpt/index",
             policy=True, per_page=10)],
         datetime(2026, 3, 27, 15, 2, 8, tzinfo=CST)),
        (Site("wuzhong", "苏州市吴中区人民政府", "吴中区", "www.szwz.gov.cn", "epoint", "320506", [],
              date_fmt="ymd_hms", date_prefix="发布时间：", list_date="ymd", site_id_code="3205060008"),
         [_c("/001/001001/", "通知公告", "001001", 24, entry="/001/001001/subPage.html", per_page=10)],
         datetime(2026, 2, 10, 9, 15, 42, tzinfo=CST)),
    ]
    # Hostile sites: always blocked or down; kept out of the default registry.
    for key, host, blocked, down in (("blocked412", "www.blk412.gov.cn", "412", False),
                                     ("blocked521", "www.blk521.gov.cn", "521", False),
                                     ("blocked403", "www.blk403.gov.cn", "403", False),
                                     ("downsite", "www.down.gov.cn", None, True)):
        specs.append((Site(key, f"测试站点{key}", "测试区", host, "trs_wcm", "999999", [], date_fmt="ymd",
                           hostile=True, blocked=blocked, down=down),
                      [_c("/zwgk/tzgg/", "通知公告", "tzgg", 5)],
                      datetime(2024, 6, 1, 9, 0, tzinfo=CST)))
    out = []
    for site, cols, newest in specs:
        site.columns = [c for c, _ in cols]
        out.append((site, [n for _, n in cols], newest))
    return out
