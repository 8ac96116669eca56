from __future__ import annotations

from crawler.parsing.encoding import decode_html, filename_from_content_disposition


def test_gb2312_declared_with_gb18030_only_char() -> None:
    body = '<html><head><meta charset="gb2312"></head><body>朱镕基同志</body></html>'.encode(
        "gb18030"
    )
    text, codec = decode_html(body, "text/html")
    assert "朱镕基" in text and "\ufffd" not in text
    assert codec == "gb18030"


def test_header_gbk_wins_and_is_gb18030() -> None:
    body = "<p>镕</p>".encode("gb18030")
    assert decode_html(body, "text/html; charset=GBK") == ("<p>镕</p>", "gb18030")


def test_http_equiv_meta() -> None:
    body = '<meta http-equiv="Content-Type" content="text/html; charset=gb_2312-80"><p>镕</p>'
    text, codec = decode_html(body.encode("gb18030"), None)
    assert "镕" in text and codec == "gb18030"


def test_no_charset_utf8() -> None:
    body = "<html><body><p>马尾区人民政府通知公告</p></body></html>".encode()
    text, codec = decode_html(body, "text/html")
    assert "马尾区人民政府" in text and codec == "utf-8"


def test_mislabelled_utf8_falls_back_to_detection() -> None:
    content = "<p>关于做好2022年元旦春节期间安全生产工作的通知，各单位务必高度重视。</p>" * 5
    body = ('<meta charset="utf-8">' + content).encode("gb18030")
    text, codec = decode_html(body, "text/html; charset=utf-8")
    assert "安全生产工作" in text
    assert codec != "utf-8"


def test_bom_and_garbage_never_raise() -> None:
    assert decode_html(b"\xef\xbb\xbf<p>\xe4\xbd\xa0</p>", None)[0] == "<p>你</p>"
    text, _ = decode_html(b"\xff\xfe\x00\xd8", "text/html; charset=nonsense")
    assert isinstance(text, str)
    assert decode_html(b"", None)[0] == ""
    assert isinstance(decode_html(b"<p>x</p>", "text/html; charset=rot13")[0], str)


def test_content_disposition_rfc5987() -> None:
    header = "attachment; filename=\"fallback.pdf\"; filename*=UTF-8''%E9%99%84%E4%BB%B61.pdf"
    assert filename_from_content_disposition(header) == "附件1.pdf"


def test_content_disposition_raw_gbk_bytes() -> None:
    header = 'attachment; filename="关于印发实施方案的通知.docx"'.encode("gbk")
    assert filename_from_content_disposition(header) == "关于印发实施方案的通知.docx"


def test_content_disposition_latin1_decoded_str() -> None:
    header = 'attachment; filename="名单.xls"'.encode("gbk").decode("latin-1")
    assert filename_from_content_disposition(header) == "名单.xls"


def test_content_disposition_unquoted_and_percent() -> None:
    assert filename_from_content_disposition("attachment; filename=report.pdf") == "report.pdf"
    assert (
        filename_from_content_disposition("attachment;filename=%E5%90%8D%E5%8D%95.pdf")
        == "名单.pdf"
    )


def test_content_disposition_strips_paths_and_handles_missing() -> None:
    assert filename_from_content_disposition('attachment; filename="../../etc/x.pdf"') == "x.pdf"
    assert filename_from_content_disposition("inline") is None
    assert filename_from_content_disposition(b"") is None
