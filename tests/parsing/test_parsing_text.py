from __future__ import annotations

from crawler.parsing.text import clean_body, extract_main_text, is_boilerplate_line

BASE = "http://www.example.gov.cn/zwgk/tzgg/202201/t20220104_1.html"


def test_sanitiser_removes_script_handlers_and_js_urls() -> None:
    html = (
        '<div><p onclick="x()">正文第一段</p><script>alert(1)</script><style>p{}</style>'
        '<img src="http://evil.example/a.png" onerror="alert(1)">'
        '<a href="javascript:alert(1)">坏链接</a><iframe src="http://evil"></iframe>'
        '<object data="x.swf"></object><a href="../b.html">好链接</a></div>'
    )
    text, body = clean_body(html, BASE)
    low = body.lower()
    for bad in (
        "<script",
        "alert",
        "onerror",
        "onclick",
        "javascript:",
        "<iframe",
        "<object",
        "<style",
    ):
        assert bad not in low
    assert ' src="' not in low  # images are inert: data-src only
    assert 'data-src="http://evil.example/a.png"' in body
    assert 'href="http://www.example.gov.cn/zwgk/tzgg/b.html"' in body
    assert "正文第一段" in text and "alert" not in text


def test_paragraphs_and_whitespace() -> None:
    html = "<p>&nbsp;&nbsp;\u3000\u3000第一段  文字</p><p>\u3000\u3000第二段<br>第三行</p>"
    text, _ = clean_body(html, BASE)
    assert text == "第一段 文字\n\n第二段\n\n第三行"


BOILERPLATE = [
    "扫一扫在手机上查看当前页面",
    "相关链接",
    "附件下载",
    "【打印】【关闭】",
    "打印本页",
    "字号 大 中 小",
    "【字体：大 中 小】",
    "放大字体",
    "缩小字体",
    "分享到：",
    "浏览次数：123",
    "当前位置：首页 > 通知公告",
    "上一篇：关于某事",
    "下一篇：无",
    "我要纠错",
    "返回顶部",
    "网站标识码：3501050001",
    "版权所有：某区人民政府",
    "主办单位：某区人民政府办公室",
]


def test_boilerplate_lines_dropped() -> None:
    html = "<p>真正的内容。</p>" + "".join(f"<p>{b}</p>" for b in BOILERPLATE)
    text, body = clean_body(html, BASE)
    assert text == "真正的内容。"
    for phrase in BOILERPLATE:
        assert is_boilerplate_line(phrase), phrase
        assert phrase not in body


def test_content_lines_kept() -> None:
    for line in ("大力发展数字经济", "关闭了3家违规企业。", "中小企业"):
        assert not is_boilerplate_line(line)


def test_extract_main_text_picks_article() -> None:
    html = (
        "<html><body><div class='nav'><a href='/'>首页</a><a href='/a'>政务公开</a></div>"
        "<div class='main'><p>第一段正文内容比较长，足够被识别为正文。</p>"
        "<p>第二段正文内容，同样比较长，也应当保留。</p></div>"
        "<div class='footer'><p>版权所有：某区人民政府 网站标识码：123</p></div></body></html>"
    )
    text, _ = extract_main_text(html, "http://x.gov.cn/a.html")
    assert text.split("\n\n") == [
        "第一段正文内容比较长，足够被识别为正文。",
        "第二段正文内容，同样比较长，也应当保留。",
    ]
    assert extract_main_text("", "") == ("", "")
