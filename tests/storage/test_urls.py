from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.urls import canonicalize_url

_PIECES = [*"abcXYZ019-._~%/;=&?#:@ 中文", "%2e", "%41", "%e4%b8%ad", "..", "index.html"]
_SEGMENT = st.lists(st.sampled_from(_PIECES), max_size=6).map("".join)


@st.composite
def http_urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "HTTP", "https", "HtTpS"]))
    hosts = ["www.mawei.gov.cn", "WWW.GL.GOV.CN", "127.0.0.1", "[::1]", "例子.中国"]
    host = draw(st.sampled_from(hosts))
    port = draw(st.sampled_from(["", ":80", ":443", ":8080", ":"]))
    path = "/".join(draw(st.lists(_SEGMENT, max_size=5)))
    params = ["a=1", "b=2", "utm_source=x", "t=123", "t=x", "spm=a.b", "x=%e4%b8%ad", "", "k"]
    query = "&".join(draw(st.lists(st.sampled_from(params), max_size=5)))
    frag = draw(st.sampled_from(["", "#top", "#"]))
    return f"{scheme}://{host}{port}/{path}" + (f"?{query}" if query else "") + frag


@given(st.text())
@settings(max_examples=500, deadline=None)
def test_never_raises_and_idempotent_on_any_text(url: str) -> None:
    once = canonicalize_url(url)
    assert canonicalize_url(once) == once


@given(http_urls())
@settings(max_examples=500, deadline=None)
def test_idempotent_on_url_like_input(url: str) -> None:
    once = canonicalize_url(url)
    assert canonicalize_url(once) == once
    assert "#" not in once


@given(st.permutations(["a=1", "b=2", "c=%E4%B8%AD", "utm_medium=wx", "_=1700000000000"]))
def test_parameter_order_and_tracking_do_not_matter(params: list[str]) -> None:
    url = "http://www.mawei.gov.cn/xxgk/tzgg/t1.htm?" + "&".join(params)
    assert canonicalize_url(url) == "http://www.mawei.gov.cn/xxgk/tzgg/t1.htm?a=1&b=2&c=%E4%B8%AD"


@pytest.mark.parametrize(
    "variant",
    [
        "http://www.mawei.gov.cn/xxgk/tzgg/",
        "HTTP://WWW.MAWEI.GOV.CN/xxgk/tzgg/",
        "http://www.mawei.gov.cn:80/xxgk/tzgg/",
        "http://www.mawei.gov.cn/xxgk/tzgg/index.html",
        "http://www.mawei.gov.cn/xxgk/tzgg/INDEX.HTM",
        "http://www.mawei.gov.cn/xxgk/tzgg/index.shtml#list",
        "http://www.mawei.gov.cn/xxgk/tzgg/default.htm",
        "http://www.mawei.gov.cn//xxgk//tzgg/",
        "http://www.mawei.gov.cn/xxgk/./tzgg/",
        "http://www.mawei.gov.cn/abc/../xxgk/tzgg/",
        "http://www.mawei.gov.cn/%78xgk/tzgg/",
        "http://www.mawei.gov.cn/xxgk/tzgg/?utm_source=wechat&from=singlemessage&isappinstalled=0",
        "http://www.mawei.gov.cn/xxgk/tzgg/?spm=1.2.3&share=1&t=1714521600000",
        "  http://www.mawei.gov.cn./xxgk/tzgg/  ",
    ],
)
def test_equivalent_forms(variant: str) -> None:
    assert canonicalize_url(variant) == "http://www.mawei.gov.cn/xxgk/tzgg/"


def test_meaningful_parts_survive() -> None:
    assert canonicalize_url("https://a.gov.cn:8443/p?t=notice") == "https://a.gov.cn:8443/p?t=notice"
    # GBK escapes from old CMSes are kept byte for byte (upper-cased), never re-decoded.
    assert canonicalize_url("http://a.gov.cn/s?q=%d6%d0") == "http://a.gov.cn/s?q=%D6%D0"
    assert canonicalize_url("http://a.gov.cn/文件.pdf") == "http://a.gov.cn/%E6%96%87%E4%BB%B6.pdf"
    assert canonicalize_url("http://a.gov.cn/a%2Fb") == "http://a.gov.cn/a%2Fb"
    assert canonicalize_url("http://a.gov.cn/x;jsessionid=AB12?id=3") == "http://a.gov.cn/x?id=3"
    assert canonicalize_url("mailto:ban@gov.cn#x") == "mailto:ban@gov.cn"
