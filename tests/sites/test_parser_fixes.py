"""Regression tests for parser bugs found by the extraction benchmark."""

from __future__ import annotations

import json

from crawler.parsing.attachments import find_attachments
from crawler.parsing.families import get_adapter

URL = "http://www.gulou.gov.cn/zwgk/tzgg/202201/t20220114_4711480.html"
# Shape of a demo TRS page: header links before the 附件 block. The attachment-block
# test used to compare id()s of lxml proxies that were already freed, so a header
# link could take a freed proxy's id and be "forced" into the attachments.
PAGE = """<html><body>
<div class="header"><div class="logo"><a href="/">鼓楼区人民政府</a></div>
<ul class="nav"><li><a href="/">首页</a></li></ul></div>
<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/tzgg/">通知公告</a></div>
<div class="TRS_Editor"><p>正文。</p></div>
<div class="fujian">附件：<p><a href="./P020220114600613371679.xlsx">附件1：名单.xlsx</a></p>
<p><a href="./P020220114171002171015.pdf">附件2：公示名单.pdf</a></p></div>
<div class="prev_next"><a href="/zwgk/tzgg/202201/t20220118_4711454.html">上一篇</a></div>
</body></html>"""


def test_only_real_files_are_attachments_whatever_the_proxy_ids() -> None:
    for _ in range(50):  # the bug depended on allocator reuse; repeat to make it likely
        links = find_attachments(PAGE, URL)
        assert [a.url for a in links] == [
            "http://www.gulou.gov.cn/zwgk/tzgg/202201/P020220114600613371679.xlsx",
            "http://www.gulou.gov.cn/zwgk/tzgg/202201/P020220114171002171015.pdf",
        ]


def _gkmlpt_page(**detail: object) -> str:
    base = {"title": "关于印发实施方案的通知", "content": "<p>现将实施方案印发给你们。</p>", "date": 1704330000}
    return f"<html><body><script>window._CONFIG = {{SID:'1', DETAIL:{json.dumps({**base, **detail})}}};</script></body></html>"


def test_gkmlpt_reads_disclosure_fields_from_the_detail_object() -> None:
    page = _gkmlpt_page(publisher="某区财政局", source="", classify_main_name="财政、金融", written_date="2024-01-02",
                        validity="有效")
    notice = get_adapter("gkmlpt").parse_notice(page, "http://www.hp.gov.cn/gkmlpt/content/0/1/post_1.html")
    assert notice.issuing_org == "某区财政局"
    assert notice.source is None  # an empty source is no source, not the publisher
    assert (notice.subject, notice.written_date, notice.validity) == ("财政、金融", "2024-01-02", "有效")


def test_gkmlpt_without_a_source_key_falls_back_to_the_publisher() -> None:
    notice = get_adapter("gkmlpt").parse_notice(_gkmlpt_page(publisher="某区人民政府办公室", validity="无"),
                                                "http://www.hp.gov.cn/gkmlpt/content/0/1/post_2.html")
    assert notice.source == "某区人民政府办公室" and notice.validity is None
