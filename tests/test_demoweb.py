"""The demo web: every family serves what the ground truth says, over the proxy path."""

from __future__ import annotations

import gzip
import html
import io
import json
import re
import socket
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from email.message import Message
from urllib.parse import quote, urlencode, urljoin, urlsplit

import pytest

from noticewatch.demoweb import DemoWeb, World, demo_registry

HREF = re.compile(r'<li[^>]*>(?:<span[^>]*>[^<]*</span>)?<a href="([^"]+)"[^>]*title=')


class Client:
    """urllib through the demo web as HTTP proxy, the way the crawler reaches it."""

    def __init__(self, web: DemoWeb) -> None:
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({"http": web.proxy_url}), _NoRedirect())

    def get(self, url: str, data: dict[str, str] | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, Message, bytes]:
        body = urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(url, data=body, headers=headers or {})
        try:
            with self.opener.open(req, timeout=5) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def text(self, url: str, **kw: object) -> str:
        status, hdrs, body = self.get(url, **kw)  # type: ignore[arg-type]
        assert status == 200, (url, status)
        if hdrs.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        enc = "gb18030" if "gb2312" in (hdrs.get("Content-Type") or "") else "utf-8"
        return body.decode(enc)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kw: object) -> None:
        return None


@pytest.fixture(scope="module")
def web() -> Iterator[DemoWeb]:
    with DemoWeb(World(seed=2024)) as w:
        yield w


@pytest.fixture(scope="module")
def client(web: DemoWeb) -> Client:
    return Client(web)


def _column_urls(c: Client, family: str, site_url: str, col_url: str) -> list[str]:
    """Walk every list page of a column the way that family's pagination works."""
    found: list[str] = []
    if family == "fujian":
        page1 = c.text(col_url)
        info = re.search(r"pageChnlInfo=\{.*?prepage:(\d+).*?classsql:'([^']+)'", page1)
        assert info and "$showStatic(6)" in page1 and "var SiteInfo={searchId:" in page1
        for page in range(1, 20):
            data = json.loads(c.get(site_url + "fjdzapp/search", data={
                "channelid": "x", "sortfield": "-docorderpri,-docreltime", "classsql": info.group(2),
                "page": str(page), "prepage": info.group(1)})[2])
            found += [d["docpuburl"] for d in data["data"]]
            if page >= data["pageCount"]:
                break
        assert found[:int(info.group(1))] == [urljoin(col_url, h) for h in HREF.findall(page1)]
    elif family == "trs_wcm":
        first = c.text(col_url)
        m = re.search(r'createPageHTML\((\d+), 0, "index", "(s?html)"\)', first)
        assert m
        for page in range(int(m.group(1))):
            url = col_url + (f"index_{page}.{m.group(2)}" if page else "")
            status, _, _ = c.get(url)
            if status == 404:
                continue
            found += [urljoin(url, h) for h in HREF.findall(c.text(url))]
    elif family == "hanweb":
        first = c.text(col_url)
        colid = re.search(r"columnid:(\d+)", first).group(1)  # type: ignore[union-attr]
        xml = c.text(site_url + "module/web/jpage/dataproxy.jsp?startrecord=1&endrecord=999&perpage=15",
                     data={"col": "1", "appid": "1", "webid": "2", "path": "/", "columnid": colid,
                           "unitid": "1", "permissiontype": "0"})
        assert "<totalrecord>" in xml
        found = [urljoin(site_url, h) for h in re.findall(r'<a href="([^"]+)"', xml)]
    elif family == "kaipu":
        first = c.text(col_url)
        pages = int(re.search(r"createPageHTML\('page_div', (\d+), 1, 'list', 'shtml', \d+\)", first).group(1))  # type: ignore[union-attr]
        for page in range(1, pages + 1):
            url = col_url + (f"list_{page}.shtml" if page > 1 else "list.shtml")
            found += [urljoin(url, h) for h in HREF.findall(c.text(url))]
    elif family == "gkmlpt":
        cfg = c.text(col_url)
        sid = re.search(r"SID:'([^']+)'", cfg).group(1)  # type: ignore[union-attr]
        tree = json.loads(re.search(r"TREE:(\[.*?\])\}", cfg).group(1))  # type: ignore[union-attr]
        for node in tree:
            for page in range(1, 20):
                data = json.loads(c.text(f"{site_url}gkmlpt/api/all/{node['id']}?page={page}&sid={sid}"))
                found += [a["url"] for a in data["articles"]]
                if not data["articles"]:
                    break
    elif family == "epoint":
        first = c.text(col_url)
        pages = int(re.search(r"共(\d+)页", first).group(1))  # type: ignore[union-attr]
        for page in range(1, pages + 1):
            url = urljoin(col_url, "subPage.html" if page == 1 else f"{page}.html")
            found += [urljoin(url, h) for h in HREF.findall(c.text(url))]
    return found


def test_lists_of_every_family_match_ground_truth(web: DemoWeb, client: Client) -> None:
    truth = web.world.ground_truth()
    reg = demo_registry()
    assert {s["family"] for s in reg["sites"]} == {"trs_wcm", "fujian", "hanweb", "kaipu", "gkmlpt", "epoint"}
    for site in reg["sites"]:
        for col in site["columns"]:
            want = {t["url"] for t in truth if col["url"] in t["columns"]}
            got = _column_urls(client, site["family"], site["base_url"], col["url"])
            assert len(got) == len(set(got)), col["url"]
            assert set(got) == want, col["url"]
    assert any(len(t["columns"]) == 2 for t in truth if t["site"] == "mawei")
    assert {t["repost_kind"] for t in truth if t["repost_of"]} == {"verbatim", "edited"}


def _detail_text(c: Client, url: str) -> str:
    page = c.text(url)
    m = re.search(r"DETAIL:(\{.*\})\};</script>", page)
    if m:
        detail = json.loads(m.group(1))
        page += json.dumps(detail, ensure_ascii=False) + detail["content"]
    return html.unescape(page)


def test_every_notice_page_shows_its_ground_truth(web: DemoWeb, client: Client) -> None:
    for t in web.world.ground_truth():
        page = _detail_text(client, t["url"])
        assert t["title"] in page, t["url"]
        for para in t["body_text"].split("\n\n"):
            assert para in page, (t["url"], para)
        for a in t["attachments"]:
            assert a["name"] in page
        for key in ("index_no", "doc_no", "source"):
            if t[key]:
                assert t[key] in page, (t["url"], key)


def test_mawei_sample(web: DemoWeb, client: Client) -> None:
    t = next(t for t in web.world.ground_truth() if t["title"] == "区十届人大常委会工作回顾")
    assert t["published_at"] == "2022-01-04T09:40:00+08:00"
    assert (t["category"], t["source"]) == ("政策文件", "马尾区")
    page = client.text(t["url"])
    for marker in ("日期：2022-01-04 09:40", "来源：马尾区", "附件下载", "扫一扫在手机上查看当前页面",
                   "相关链接", "index_box", "trt-row", "article_content", "浏览次数", "网站标识码"):
        assert marker in page
    assert len(t["body_text"].split("\n\n")) == 12


def test_conditional_requests_and_gzip(web: DemoWeb, client: Client) -> None:
    url = "http://www.mawei.gov.cn/xjwz/zwgk/zcwjk/202201/t20220104_5362718.htm"
    status, h1, b1 = client.get(url)
    status2, h2, b2 = client.get(url)
    assert status == status2 == 200 and h1["ETag"] == h2["ETag"] and b1 != b2  # view counter moves
    assert client.get(url, headers={"If-None-Match": h1["ETag"]})[0] == 304
    assert client.get(url, headers={"If-Modified-Since": h1["Last-Modified"]})[0] == 304
    assert client.get(url, headers={"If-None-Match": '"nope"'})[0] == 200
    status, h, body = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert h["Content-Encoding"] == "gzip" and "马尾" in gzip.decompress(body).decode()
    robots = client.text("http://www.yuhang.gov.cn/robots.txt")
    assert "Disallow: /private/" in robots
    assert client.get("http://www.yuhang.gov.cn/no/such/page.html")[0] == 404
    assert client.get("http://www.mawei.gov.cn/__health")[0] == 200


def test_direct_request_with_host_header(web: DemoWeb) -> None:
    req = urllib.request.Request(f"{web.proxy_url}/robots.txt", headers={"Host": "www.hp.gov.cn"})
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=5) as r:
        assert b"Disallow" in r.read()
    assert web.requests[-1][1:3] == ("www.hp.gov.cn", "/robots.txt")


def test_encodings(web: DemoWeb, client: Client) -> None:
    jn = [t for t in web.world.ground_truth() if t["site"] == "jiangning"]
    t = next(t for t in jn if "镕" in t["title"])
    status, h, body = client.get(t["url"])
    assert "charset=gb2312" in h["Content-Type"] and b'charset="gb2312"' in body
    with pytest.raises(UnicodeDecodeError):
        body.decode("gb2312")
    assert t["title"] in body.decode("gb18030") and "王堃" in body.decode("gb18030")
    gl = next(n for n in web.world.notices.values() if n.style.get("no_meta_charset"))
    status, h, body = client.get(web.world.notice_url(gl))
    assert h["Content-Type"] == "text/html" and b"charset" not in body
    assert gl.title in body.decode("utf-8")


def test_attachments_are_real_files(web: DemoWeb, client: Client) -> None:
    import docx
    import openpyxl
    import pypdf

    seen: set[str] = set()
    dispositions = set()
    for t in web.world.ground_truth():
        for a in t["attachments"]:
            kind = a["url"].rsplit(".", 1)[1]
            url = a["url"]
            status, h, body = client.get(url)
            if "downfile.jsp" in url:
                assert status == 302
                status, h, body = client.get(h["Location"])
                cd = h.get("Content-Disposition") or ""
                if "filename*=" in cd:
                    dispositions.add("utf8")
                    assert cd.endswith("UTF-8''" + quote(a["name"]))
                elif "filename=" in cd:  # raw GBK bytes, read back through latin-1
                    dispositions.add("gbk")
                    raw = cd.split('filename="', 1)[1].rstrip('"').encode("latin-1")
                    assert raw.decode("gbk") == a["name"]
                else:
                    dispositions.add("none")
            assert status == 200 and h["ETag"]
            if kind in seen:
                continue
            seen.add(kind)
            if kind == "pdf":
                text = pypdf.PdfReader(io.BytesIO(body)).pages[0].extract_text()
                assert "政府信息公开" in text
            elif kind in ("docx", "doc"):
                assert docx.Document(io.BytesIO(body)).paragraphs
            elif kind == "xlsx":
                assert openpyxl.load_workbook(io.BytesIO(body)).active["A2"].value == "序号"
            elif kind == "zip":
                assert zipfile.ZipFile(io.BytesIO(body)).namelist() == ["说明.txt"]
            elif kind == "ofd":
                z = zipfile.ZipFile(io.BytesIO(body))
                assert "OFD.xml" in z.namelist() and "Content.xml" in " ".join(z.namelist())
    assert seen == {"pdf", "docx", "doc", "xlsx", "zip", "ofd"}
    assert len(dispositions) == 3


def test_scripted_and_appendix_attachments(web: DemoWeb, client: Client) -> None:
    n = next(n for n in web.world.notices.values() if any(a.scripted for a in n.attachments))
    page = client.text(web.world.notice_url(n))
    assert "document.write(" in page
    assert any('appendix="true"' in client.text(web.world.notice_url(m))
               for m in web.world.notices.values() if m.site_key == "gulou" and m.attachments)


def test_trap_and_missing_pages(web: DemoWeb, client: Client) -> None:
    a = client.text("http://www.gulou.gov.cn/zwgk/trap/index_50.html")
    b = client.text("http://www.gulou.gov.cn/zwgk/trap/index_51.html")
    assert 'createPageHTML(52, 50, "index", "html")' in a
    assert HREF.findall(a) == HREF.findall(b) and HREF.findall(a)
    first = client.text("http://www.gulou.gov.cn/zwgk/tzgg/")
    pages = int(re.search(r"createPageHTML\((\d+)", first).group(1))  # type: ignore[union-attr]
    assert client.get(f"http://www.gulou.gov.cn/zwgk/tzgg/index_{pages - 1}.html")[0] == 404
    first = client.text("http://www.jiangning.gov.cn/zwgk/tzgg/")
    pages = int(re.search(r"createPageHTML\((\d+)", first).group(1))  # type: ignore[union-attr]
    stub = client.text(f"http://www.jiangning.gov.cn/zwgk/tzgg/index_{pages - 1}.shtml")
    assert not HREF.findall(stub)
    assert all(s["key"] not in ("blocked412", "downsite") for s in demo_registry()["sites"])
    hostile = demo_registry(include_hostile=True)
    assert any(c["url"].endswith("/zwgk/trap/") for s in hostile["sites"] for c in s["columns"])


def test_mutations(client: Client) -> None:
    with DemoWeb(World(seed=7)) as web:
        c = Client(web)
        world = web.world
        col = "http://www.cqjb.gov.cn/zwgk_239/tzgg/"
        before = len(world.ground_truth())
        n = world.add_notice("jiangbei", "/zwgk_239/tzgg/", title="关于新增测试通知的公告", attachments=1)
        assert n.title in c.text(col) and len(world.ground_truth()) == before + 1
        url = world.notice_url(n)
        status, h, _ = c.get(url)
        world.edit_notice(n.id, title="关于新增测试通知的公告（修订）", body_text="第一段。\n\n第二段。")
        status, h2, body = c.get(url, headers={"If-None-Match": h["ETag"]})
        assert status == 200 and h2["ETag"] != h["ETag"] and "第二段。" in body.decode()
        assert h2["Last-Modified"] != h["Last-Modified"]
        lm = c.get(col)[1]["Last-Modified"]
        for how, code in (("404", 404), ("410", 410), ("redirect", 302), ("refresh", 200)):
            world.withdraw_notice(n.id, how=how)
            status, h, body = c.get(url)
            assert status == code
            assert n.id not in {t["id"] for t in world.ground_truth()}
            assert "关于新增测试通知" not in c.text(col)
        assert b'http-equiv="refresh"' in body
        assert c.get(col, headers={"If-Modified-Since": lm})[0] == 200  # removal is a change
        world.restore_notice(n.id)
        assert "关于新增测试通知" in c.text(col)


def test_hostile_behaviours(client: Client) -> None:
    with DemoWeb(World(seed=3)) as web:
        c = Client(web)
        assert c.get("http://www.blk412.gov.cn/")[0] == 412
        status, _, body = c.get("http://www.blk521.gov.cn/zwgk/tzgg/")
        assert status == 521 and b"jsl_clearance" in body.replace(b"')+('", b"")
        assert c.get("http://www.blk403.gov.cn/")[0] == 403
        with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
            c.get("http://www.down.gov.cn/")
        web.set_behaviour("wuzhong", fault_rate=1.0)
        outcomes = set()
        for _ in range(30):
            try:
                status, h, body = c.get("http://www.szwz.gov.cn/001/001001/subPage.html")
                outcomes.add(status if len(body) != 2 else "tiny")
                if status == 503:
                    assert h["Retry-After"] == "1"
            except (urllib.error.URLError, ConnectionError, OSError, ValueError) as e:
                outcomes.add(type(e).__name__)
        assert {500, 503, "tiny"} <= outcomes and len(outcomes) >= 4
        web.set_behaviour("wuzhong", fault_rate=0.0)
        web.set_behaviour("blocked412", blocked=None)
        assert c.get("http://www.blk412.gov.cn/robots.txt")[0] == 200
        assert any(r[3] == 0 for r in web.requests)


def test_deterministic_and_raw_proxy_line() -> None:
    assert World(seed=11).ground_truth() == World(seed=11).ground_truth()
    with DemoWeb() as web:
        with socket.create_connection(("127.0.0.1", web.port), timeout=5) as s:
            s.sendall(b"GET http://www.mawei.gov.cn/xjwz/zwgk/zcwjk/ HTTP/1.1\r\nHost: www.mawei.gov.cn\r\n"
                      b"Connection: close\r\n\r\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        assert data.startswith(b"HTTP/1.1 200") and b"pageChnlInfo" in data
    assert urlsplit(web.proxy_url).hostname == "127.0.0.1"
