from __future__ import annotations

from crawler.parsing.attachments import attachments_from_json, find_attachments
from crawler.parsing.meta import read_meta
from crawler.parsing.titles import full_title

BASE = "http://x.gov.cn/zwgk/tzgg/202201/t20220104_1.html"


def test_all_sources_in_page_order_and_deduplicated() -> None:
    html = """
    <div class="article_attachment"><h4>附件下载</h4><ul>
    <li><a href="./P020220104536271839201.pdf">附件1：名单.pdf</a></li>
    <li><a href="../other.html">相关页面</a></li></ul></div>
    <a href="/x/Y.DOCX?v=1">下载</a>
    <a appendix="true" href="./P0222">附件二</a>
    <a href="/module/download/downfile.jsp?classid=0&amp;filename=abc123.pdf">实施方案.pdf</a>
    <script>document.write('<a href="./P020220104999.xls">统计表</a>');</script>
    <a href="./P020220104536271839201.pdf">重复</a>
    <a href="javascript:void(0)">x.pdf</a><a href="a.7z" title="压缩包"></a>
    """
    links = find_attachments(html, BASE)
    assert [(a.url.rsplit("/", 1)[-1], a.name) for a in links] == [
        ("P020220104536271839201.pdf", "附件1：名单.pdf"),
        ("Y.DOCX?v=1", "Y.DOCX"),
        ("P0222", "附件二"),
        ("downfile.jsp?classid=0&filename=abc123.pdf", "实施方案.pdf"),
        ("P020220104999.xls", "统计表"),
        ("a.7z", "压缩包"),
    ]
    assert links[0].url == "http://x.gov.cn/zwgk/tzgg/202201/P020220104536271839201.pdf"


def test_json_attachments() -> None:
    items = [{"url": "/a.pdf", "name": "A"}, {"x": 1}, 3, {"href": "b.doc"}]
    links = attachments_from_json(items, "http://x.gov.cn/d/")
    assert [(a.url, a.name) for a in links] == [
        ("http://x.gov.cn/a.pdf", "A"),
        ("http://x.gov.cn/d/b.doc", "b.doc"),
    ]
    assert attachments_from_json(None) == []
    assert attachments_from_json("nope") == []


def test_meta_tags_including_misspelt_description() -> None:
    html = (
        '<meta name="ArticleTitle" content=" 标题 "><meta name="pubdate" content="2023-10-23 10:03">'
        '<meta name="Desctiption" content="摘要"><meta name="SiteIDCode" content="">'
    )
    assert read_meta(html) == {
        "ArticleTitle": "标题",
        "PubDate": "2023-10-23 10:03",
        "Description": "摘要",
    }


def test_full_title() -> None:
    assert full_title("关于做好安全…", "关于做好安全生产工作的通知") == "关于做好安全生产工作的通知"
    assert (
        full_title("关于做好安全...", "点击查看", "关于做好安全生产的通知")
        == "关于做好安全生产的通知"
    )
    assert (
        full_title("关于做好安全…", None, None, "关于做好安全生产-某区政府") == "关于做好安全生产"
    )
    assert full_title("完整标题", "别的") == "完整标题"
    assert full_title("", "属性标题") == "属性标题"
