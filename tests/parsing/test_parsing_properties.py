"""Property tests: the parsers never raise anything but ExtractionError."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler.parsing.dates import from_epoch, parse_cn_datetime
from crawler.parsing.disclosure import parse_disclosure
from crawler.parsing.encoding import decode_html, filename_from_content_disposition
from crawler.parsing.families import ADAPTERS, detect_family
from crawler.parsing.text import clean_body, extract_main_text
from crawler.parsing.types import ExtractionError, ListPage, ParsedNotice

# Text biased towards the shapes the parsers look for, so fuzzing reaches deep code.
_PIECES = st.sampled_from([
    "<li>", "</li>", "<a href='./t20220104_1.html' title='标题…'>", "</a>", "<span>",
    "2022-01-04", "2024年1月4日 09:40", "索&ensp;引&ensp;号：", "发文字号：", "标　题",
    "<table><tr><td>", "</td><td>", "</tr></table>", "<script>", "</script>",
    "document.write('<a href=\"a.pdf\">x</a>');", "createPageHTML(3, 0, 'index', 'html')",
    "createPageHTML('page_div', 11, 1, 'list', 'shtml', 154)", "var pageChnlInfo={recordCount:'39',prepage:15,chnlid:'1'};",
    "<datastore><totalrecord>9</totalrecord><recordset><record><![CDATA[", "]]></record>",
    "window._CONFIG = {SID:'1', TREE:[{id:2}], DETAIL:{\"content\":\"\\u003Cp\\u003E", "\"}}",
    "<meta name='ArticleTitle' content='T'>", "<meta http-equiv='refresh' content='0;URL=../'>",
    "<div class='TRS_Editor'>", "<div id='zoom'><!--ContentStart-->", "<!--ContentEnd-->", "</div>",
    "<UCAPCONTENT>", "<p>", "正文", "\x00", "\u3000", "&nbsp;", "<", ">", "'", '"', "\\", "…",
])  # fmt: skip
HTMLISH = st.one_of(st.text(max_size=300), st.lists(_PIECES, max_size=40).map("".join))
JSONISH = st.one_of(
    st.text(max_size=200),
    st.sampled_from(
        [
            '{"pageCount":2,"data":[{"docpuburl":"a.htm","doctitle":"x","docreltime":"2022-01-04"}]}',
            '{"total":5,"articles":[{"url":"/p.html","date":1700000000,"title":"t"}]}',
            '{"total":true,"articles":[1,{"url":5,"date":"x"}]}',
            '{"data":[null]}',
            "[]",
            "null",
            '{"pageCount":"x","data":{}}',
            '{"articles":null,"total":-1}',
        ]
    ),  # fmt: skip
)
URLS = st.sampled_from(
    ["http://x.gov.cn/a/index.html", "", "not a url", "https://y.gov.cn/col/col1/"]
)


@given(st.text(max_size=80))
def test_dates_never_raise(text: str) -> None:
    value = parse_cn_datetime(text)
    assert value is None or value[:4].isdigit()


@given(st.one_of(st.integers(), st.floats(allow_nan=True), st.text(max_size=20), st.none()))
def test_epoch_never_raises(value: object) -> None:
    from_epoch(value)


@given(st.binary(max_size=400), st.one_of(st.none(), st.text(max_size=40)))
def test_decode_never_raises(body: bytes, content_type: str | None) -> None:
    text, codec = decode_html(body, content_type)
    assert isinstance(text, str) and codec


@given(st.one_of(st.binary(max_size=120), st.text(max_size=120)))
def test_content_disposition_never_raises(header: bytes | str) -> None:
    name = filename_from_content_disposition(header)
    assert name is None or ("/" not in name and name.strip())


@given(HTMLISH)
def test_disclosure_and_body_never_raise(html: str) -> None:
    assert isinstance(parse_disclosure(html), dict)
    text, body = clean_body(html, "http://x.gov.cn/a/")
    assert "<script" not in body.lower()
    extract_main_text(html, "http://x.gov.cn/a/")
    assert detect_family(html, "http://x.gov.cn/")


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda a: a.name)
@given(html=HTMLISH, url=URLS)
def test_parse_notice_only_raises_extraction_error(adapter, html: str, url: str) -> None:
    try:
        notice = adapter.parse_notice(html, url)
    except ExtractionError:
        return
    assert isinstance(notice, ParsedNotice)
    assert notice.withdrawn_hint or (notice.title and notice.body_text)


@pytest.mark.parametrize("adapter", ADAPTERS, ids=lambda a: a.name)
@pytest.mark.parametrize("kind", ["list", "list_api"])
@given(body=st.one_of(HTMLISH, JSONISH), url=URLS)
def test_parse_list_never_raises(adapter, kind: str, body: str, url: str) -> None:
    try:
        page = adapter.parse_list(body, url, kind=kind)
    except ExtractionError:
        return
    assert isinstance(page, ListPage)
