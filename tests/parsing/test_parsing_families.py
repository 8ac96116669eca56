from __future__ import annotations

import pytest
from _parsing_fixtures import load

from crawler.parsing.families import ADAPTERS, detect_family, get_adapter
from crawler.parsing.types import ExtractionError, PageRequest

B = "http://www.example.gov.cn"
MAWEI = "http://www.mawei.gov.cn/xjwz/zwgk/zcwjk/202201/t20220104_5790001.htm"

LIST_FIXTURES = [
    ("trs_wcm", "trs_wcm_list.html", B + "/zwgk/tzgg/index.html"),
    ("fujian", "fujian_list.html", "http://www.mawei.gov.cn/xjwz/zwgk/zcwjk/"),
    ("hanweb", "hanweb_list.html", B + "/col/col41234/index.html"),
    ("kaipu", "kaipu_list.html", B + "/tzgg/list.shtml"),
    ("gkmlpt", "gkmlpt_index.html", B + "/gkmlpt/index"),
    ("epoint", "epoint_list.html", B + "/001/001001/subPage.html"),
]
NOTICE_FIXTURES = [
    ("trs_wcm", "trs_wcm_notice.html", B + "/zwgk/tzgg/202310/t20231023_1.html"),
    ("fujian", "fujian_mawei_notice.html", MAWEI),
    ("hanweb", "hanweb_notice.html", B + "/art/2024/1/4/art_41234_2001.html"),
    ("kaipu", "kaipu_notice.html", B + "/tzgg/202403/t20240315_123456.shtml"),
    ("gkmlpt", "gkmlpt_notice.html", B + "/gkmlpt/content/0/12/post_12345.html"),
    ("epoint", "epoint_notice.html", B + "/001/001001/20240410/abc-123.html"),
    ("generic", "generic_notice.html", B + "/tzgg/a.html"),
]


def test_registry() -> None:
    names = [a.name for a in ADAPTERS]
    assert names == ["trs_wcm", "fujian", "hanweb", "kaipu", "gkmlpt", "epoint", "generic"]
    assert all(a.label for a in ADAPTERS)
    with pytest.raises(KeyError, match="trs_wcm, fujian"):
        get_adapter("nope")


@pytest.mark.parametrize(("family", "name", "url"), LIST_FIXTURES)
def test_detection_picks_family(family: str, name: str, url: str) -> None:
    ranking = detect_family(load(name), url)
    assert ranking[0][0] == family
    assert ranking[0][1] > ranking[1][1]


def test_detection_unknown_is_generic() -> None:
    assert detect_family("<html><p>hi</p></html>", "http://x.gov.cn/")[0][0] == "generic"


# --- the Mawei sample ----------------------------------------------------------

SAMPLE_PARAGRAPH_COUNT = 12
MAWEI_BOILERPLATE = [
    "扫一扫在手机上查看当前页面", "相关链接", "附件下载", "【打印】", "【关闭】", "分享到",
    "字号", "当前位置", "主办单位", "网站标识码", "版权所有", "来源", "日期:", "政策文件:",
]  # fmt: skip


def test_mawei_sample_whole() -> None:
    n = get_adapter("fujian").parse_notice(load("fujian_mawei_notice.html"), MAWEI)
    assert n.title == "区十届人大常委会工作回顾"
    assert n.published_at == "2022-01-04T09:40:00+08:00"
    assert n.category == "政策文件"
    assert n.source == "马尾区"
    paras = n.body_text.split("\n\n")
    assert len(paras) == SAMPLE_PARAGRAPH_COUNT
    assert paras[0].startswith("一、五年来,常委会始终坚持围绕中心")
    assert paras[-1].startswith("实干担当争先进位") and paras[-1].endswith(
        "12篇论文获得市人大表彰。"
    )
    for phrase in MAWEI_BOILERPLATE:
        assert phrase not in n.body_text, phrase
    assert "<style" not in n.body_html and "仿宋" not in n.body_text
    assert n.index_no == "PZ00108-3000-2022-00001"
    assert n.doc_no is None and n.validity == "有效" and n.written_date == "2022-01-04"
    assert n.attachments == [] and n.family == "fujian" and not n.withdrawn_hint


def test_mawei_category_from_label_without_meta() -> None:
    html = load("fujian_mawei_notice.html").replace(
        '<meta name="ColumnName" content="政策文件">', ""
    )
    html = html.replace('<a href="../">政策文件</a>', "")
    n = get_adapter("fujian").parse_notice(html, MAWEI)
    assert n.category == "政策文件"


# --- every family's notice -----------------------------------------------------


@pytest.mark.parametrize(("family", "name", "url"), NOTICE_FIXTURES)
def test_notice_parses(family: str, name: str, url: str) -> None:
    n = get_adapter(family).parse_notice(load(name), url)
    assert n.title and n.body_text and n.family == family
    assert n.published_at and n.published_at[:4] in {"2022", "2023", "2024"}
    assert "<script" not in n.body_html


def test_trs_notice_fields_and_attachments() -> None:
    n = get_adapter("trs_wcm").parse_notice(load("trs_wcm_notice.html"), NOTICE_FIXTURES[0][2])
    assert (n.index_no, n.subject, n.doc_no, n.validity) == (
        "014000319/2023-00123", "发展规划", "某发改〔2023〕12号", "现行有效",
    )  # fmt: skip
    assert n.written_date == "2023-10-20" and n.source == "区发改局"
    assert [a.url.rsplit("/", 1)[-1] for a in n.attachments] == [
        "P020231023536271839201.pdf", "P020231023536271839202.ofd",
        "P020231023536271839203.xlsx", "P020231023536271839204.zip",
    ]  # fmt: skip
    assert n.attachments[2].name == "项目明细表.xlsx"
    assert "onerror" not in n.body_html and "data-src" in n.body_html


def test_hanweb_notice_content_markers_and_downfile() -> None:
    n = get_adapter("hanweb").parse_notice(load("hanweb_notice.html"), NOTICE_FIXTURES[2][2])
    assert n.body_text == "各有关单位：\n\n为切实做好安全生产工作，现就有关事项通知如下。"
    assert n.published_at == "2024-01-04T09:30:00+08:00"
    assert n.source == "区应急管理局" and n.subject == "安全生产"
    assert n.attachments[0].name == "检查表.pdf"
    assert "downfile.jsp" in n.attachments[0].url


def test_gkmlpt_detail_script() -> None:
    n = get_adapter("gkmlpt").parse_notice(load("gkmlpt_notice.html"), NOTICE_FIXTURES[4][2])
    assert n.published_at == "2024-01-04T09:00:00+08:00"
    assert n.doc_no == "某府办〔2024〕3号" and n.index_no == "007486457/2024-00012"
    assert n.body_text.startswith("各镇人民政府")
    assert [a.name for a in n.attachments] == ["实施方案.pdf"]


def test_removal_stub_is_withdrawn_hint() -> None:
    for adapter in ADAPTERS:
        n = adapter.parse_notice(load("removal_stub.html"), B + "/x.html")
        assert n.withdrawn_hint and n.title == "" and n.body_text == ""


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda a: a.name)
def test_missing_title_or_body_raises(adapter) -> None:
    with pytest.raises(ExtractionError, match="no title|no body"):
        adapter.parse_notice("<html><body></body></html>", B + "/x.html")
    with pytest.raises(ExtractionError, match="no body"):
        adapter.parse_notice(
            "<html><head><title>只有标题</title></head><body></body></html>", B + "/y.html"
        )


# --- lists -------------------------------------------------------------------


def test_trs_list_pagination_and_document_write() -> None:
    page = get_adapter("trs_wcm").parse_list(load("trs_wcm_list.html"), LIST_FIXTURES[0][2])
    assert len(page.entries) == 4
    assert page.entries[0].title == "关于做好2022年元旦春节期间安全生产工作的通知"
    assert page.entries[2].url == B + "/xxgk/202112/t20211229_1233999.html"
    assert page.entries[3].title == "脚本写出的通知"
    assert page.page_count == 12
    assert [r.url.rsplit("/", 1)[-1] for r in page.follow] == [
        f"index_{i}.html" for i in range(1, 12)
    ]
    later = load("trs_wcm_list.html").replace("createPageHTML(12, 0,", "createPageHTML(12, 3,")
    assert get_adapter("trs_wcm").parse_list(later, B + "/zwgk/tzgg/index_3.html").follow == []


def test_fujian_list_and_api() -> None:
    adapter = get_adapter("fujian")
    page = adapter.parse_list(load("fujian_list.html"), LIST_FIXTURES[1][2])
    assert len(page.entries) == 3 and page.entries[1].url.endswith(
        "/xjwz/xwzx/202201/t20220103_5790002.htm"
    )
    assert page.entries[1].title == "马尾区关于公布行政许可事项目录的通知"
    assert (page.record_count, page.page_count) == (39, 3)
    assert page.follow[0] == PageRequest(
        url="http://www.mawei.gov.cn/fjdzapp/search", kind="list_api", method="POST",
        formdata=(("channelid", "18956"), ("sortfield", "-docorderpri,-docreltime"),
                  ("classsql", "chnlid=1754"), ("page", "2"), ("prepage", "15")),
        page=2,
    )  # fmt: skip
    assert [r.page for r in page.follow] == [2, 3]
    api = adapter.parse_list(
        load("fujian_api.json"), "http://www.mawei.gov.cn/fjdzapp/search", kind="list_api"
    )
    assert api.page_count == 3 and len(api.entries) == 1
    entry = api.entries[0]
    assert entry.published_at == "2021-12-15T16:20:00+08:00"
    assert dict(entry.extra)["fileno"] == "马政综〔2021〕88号"
    assert dict(entry.extra)["idxid"] == "PZ00108-3000-2021-00088"


def test_hanweb_list_and_proxy_chain() -> None:
    adapter = get_adapter("hanweb")
    page = adapter.parse_list(load("hanweb_list.html"), LIST_FIXTURES[2][2])
    assert [e.title for e in page.entries] == [
        "关于开展2024年度安全生产大检查工作的通知",
        "区政府常务会议纪要",
    ]
    assert page.entries[0].published_at == "2024-01-04"
    (req,) = page.follow
    assert req.method == "POST" and req.kind == "list_api"
    assert "startrecord=3&endrecord=47&perpage=15" in req.url
    form = dict(req.formdata)
    assert (
        form["columnid"] == "41234" and form["unitid"] == "98765" and form["permissiontype"] == "0"
    )
    proxy_req = PageRequest(url=B + "/module/web/jpage/dataproxy.jsp?startrecord=3&endrecord=17&perpage=15",
                            kind="list_api", method="POST", formdata=req.formdata)  # fmt: skip
    answer = adapter.parse_list(
        load("hanweb_proxy.xml"), proxy_req.url, kind="list_api", request=proxy_req
    )
    assert answer.record_count == 47 and answer.page_count == 4
    assert answer.entries[1].title == "第四条记录的完整标题"
    assert "startrecord=18&endrecord=62" in answer.follow[0].url


def test_kaipu_list_pagination() -> None:
    page = get_adapter("kaipu").parse_list(load("kaipu_list.html"), LIST_FIXTURES[3][2])
    assert len(page.entries) == 2 and page.record_count == 154 and page.page_count == 11
    assert [r.url.rsplit("/", 1)[-1] for r in page.follow] == [
        f"list_{i}.shtml" for i in range(2, 12)
    ]


def test_gkmlpt_index_and_api() -> None:
    adapter = get_adapter("gkmlpt")
    page = adapter.parse_list(load("gkmlpt_index.html"), LIST_FIXTURES[4][2])
    assert [r.url for r in page.follow] == [
        f"{B}/gkmlpt/api/all/{c}?page=1&sid=755020" for c in ("2101", "2102", "2110")
    ]
    req = page.follow[0]
    api = adapter.parse_list(load("gkmlpt_api.json"), req.url, kind="list_api", request=req)
    assert api.record_count == 45
    assert api.entries[0].published_at == "2024-01-04T09:00:00+08:00"
    assert api.entries[1].published_at == "2024-01-03T09:00:00+08:00"
    assert dict(api.entries[0].extra)["document_number"] == "某府办〔2024〕3号"
    assert api.follow[0].url == f"{B}/gkmlpt/api/all/2101?page=2&sid=755020"


def test_epoint_list_cur_page() -> None:
    url = B + "/EpointWeb/iList.jsp?cate=001001&cur_page=1"
    page = get_adapter("epoint").parse_list(load("epoint_list.html"), url)
    assert len(page.entries) == 2 and page.page_count == 5
    assert page.follow[-1].url.endswith("cur_page=5")


def test_generic_list_next_link() -> None:
    html = (
        '<ul><li><a href="/a/t20240101_1.html">通知一</a> 2024-01-01</li>'
        '<li><a href="/about.html">关于我们</a></li></ul><a href="index_1.html">下一页</a>'
    )
    page = get_adapter("generic").parse_list(html, B + "/tzgg/index.html")
    assert [e.title for e in page.entries] == ["通知一"]
    assert page.follow[0].url == B + "/tzgg/index_1.html"


# gkmlpt keeps its body only inside a script object, which the generic finder cannot read.
@pytest.mark.parametrize(
    ("family", "name", "url"), [f for f in NOTICE_FIXTURES if f[0] != "gkmlpt"]
)
def test_generic_adapter_reads_any_family(family: str, name: str, url: str) -> None:
    expected = get_adapter(family).parse_notice(load(name), url)
    n = get_adapter("generic").parse_notice(load(name), url)
    assert n.title == expected.title
    # The generic finder may keep an attachment line, but never the disclosure block.
    assert expected.body_text.split("\n\n")[0] in n.body_text
    assert "索引号" not in n.body_text and "来源：" not in n.body_text
