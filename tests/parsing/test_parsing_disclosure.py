from __future__ import annotations

from crawler.parsing.disclosure import parse_disclosure

LI_TRT_ROW = """
<div class="index_box"><ul class="trt-row">
<li>索&ensp;引&ensp;号：<font>PZ00108-3000-2023-00092</font></li>
<li>主题分类：<font>综合政务</font></li>
<li>发文机构：<font>无</font></li>
<li>成文日期：<font>2023年10月20日</font></li>
<li>发文字号：<font>马政综〔2023〕12号</font></li>
<li>标　　题：<font>关于X的通知</font></li>
<li>有 效 性：<font>有效</font></li>
<li>主题词：<font></font></li>
</ul></div>
<div class="content"><p>标题：正文里的文字不是字段</p></div>
"""

TABLE_4COL = """
<table class="xxgk_table">
<tr><td>索引号</td><td>K28044908/2026-04277</td><td>组配分类</td><td>通知公告</td></tr>
<tr><td>发布机构：</td><td>某区政府</td><td>生成日期</td><td>2026-03-27</td></tr>
<tr><td>文号</td><td></td><td>发布日期</td><td>2026-03-27 15:02:08</td></tr>
<tr><td>名称</td><td colspan="3">关于某事的公告</td></tr>
</table>
"""

TABLE_2COL = """
<table><tr><th>索 引 号</th><td>2026-02-00018</td></tr>
<tr><th>发文机关</th><td>某县人民政府</td></tr><tr><th>印发日期</th><td>2026/2/1</td></tr>
<tr><th>文件编号</th><td>—</td></tr></table>
"""

DL = """
<dl class="info"><dt>索\u3000引\u3000号:</dt><dd>014000319/2021-00123</dd>
<dt>分类</dt><dd>城乡建设</dd><dt>发文日期</dt><dd>2021-05-06</dd>
<dt>文件编号</dt><dd>—</dd><dt>名称</dt><dd>关于<b>重要</b>事项的通知</dd></dl>
"""

ROW = """
<ul class="list"><li><a href="x.html">某通知</a><span>索引号：2026-02-00018</span>
<span>文号：某〔2026〕1号</span><span>发文日期：2026-01-02</span></li></ul>
"""


def test_li_trt_row_with_padded_labels() -> None:
    d = parse_disclosure(LI_TRT_ROW)
    assert d["index_no"] == "PZ00108-3000-2023-00092"
    assert d["subject"] == "综合政务"
    assert d["issuing_org"] is None
    assert d["written_date"] == "2023-10-20"
    assert d["doc_no"] == "马政综〔2023〕12号"
    assert d["title"] == "关于X的通知"
    assert d["validity"] == "有效"
    assert d["keywords"] is None


def test_four_column_table() -> None:
    d = parse_disclosure(TABLE_4COL)
    assert d["index_no"] == "K28044908/2026-04277"
    assert d["subject"] == "通知公告"
    assert d["issuing_org"] == "某区政府"
    assert d["written_date"] == "2026-03-27"
    assert d["doc_no"] is None
    assert d["published_at"] == "2026-03-27T15:02:08+08:00"
    assert d["title"] == "关于某事的公告"


def test_two_column_table() -> None:
    d = parse_disclosure(TABLE_2COL)
    assert d["index_no"] == "2026-02-00018"
    assert d["issuing_org"] == "某县人民政府"
    assert d["written_date"] == "2026-02-01"
    assert d["doc_no"] is None


def test_dl_block() -> None:
    d = parse_disclosure(DL)
    assert d["index_no"] == "014000319/2021-00123"
    assert d["subject"] == "城乡建设"
    assert d["published_at"] == "2021-05-06"
    assert d["doc_no"] is None
    assert d["title"] == "关于重要事项的通知"


def test_fields_in_list_row() -> None:
    d = parse_disclosure(ROW)
    assert d == {
        "index_no": "2026-02-00018",
        "doc_no": "某〔2026〕1号",
        "published_at": "2026-01-02",
    }


def test_no_block() -> None:
    assert parse_disclosure("<p>没有公开信息块。标题：一句话</p>") == {}
    assert parse_disclosure("") == {}
