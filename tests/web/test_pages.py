"""Pages: search with facets, notice, diff, sites, runs; everything inert."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.web.conftest import Archive


def test_home_lists_recent_notices(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "最新公告" in page.text and "关于做好生活垃圾分类工作的通知" in page.text
    assert page.headers["content-type"].startswith("text/html")


def test_search_page_results_snippets_and_facets(client: TestClient, archive: Archive) -> None:
    page = client.get("/", params={"q": "垃圾分类"})
    assert page.status_code == 200
    assert "找到 2 条结果" in page.text
    assert "<mark>垃圾分类</mark>" in page.text
    assert f'href="/notices/{archive.ids["garbage"]}"' in page.text
    # facets by site, year and issuing body, as links that add the filter
    assert "/?q=%E5%9E%83%E5%9C%BE%E5%88%86%E7%B1%BB&amp;site=gulou&amp;page=1" in page.text
    assert "2024 年" in page.text and "鼓楼区城市管理局" in page.text


def test_search_page_filters_and_two_character_word(client: TestClient, archive: Archive) -> None:
    page = client.get("/", params={"q": "教育", "site": "gulou"})
    assert "找到 1 条结果" in page.text and "鼓楼区环境保护工作方案" in page.text
    page = client.get("/", params={"q": "马", "org": "教育局"})
    assert "找到 1 条结果" in page.text


def test_search_page_bad_syntax_is_a_message(client: TestClient) -> None:
    page = client.get("/", params={"q": '"垃圾分类'})
    assert page.status_code == 400
    assert "无法理解检索式" in page.text and "unclosed quote" in page.text


def test_notice_page_fields_attachments_history(client: TestClient, archive: Archive) -> None:
    page = client.get(f"/notices/{archive.ids['garbage']}")
    assert page.status_code == 200
    text = page.text
    assert "马城管〔2024〕12号" in text and "马尾区城市管理局" in text
    assert "三、严格考核。" in text  # current version body
    assert f"/notices/{archive.ids['garbage']}/diff?a=1&amp;b=2" in text
    exam = client.get(f"/notices/{archive.ids['exam']}").text
    assert f"/api/attachments/{'a' * 64}" in exam and "报名登记表.pdf" in exam
    assert "提取的文字" in exam and "垃圾清运" in exam


def test_diff_page_side_by_side(client: TestClient, archive: Archive) -> None:
    page = client.get(f"/notices/{archive.ids['garbage']}/diff")
    assert page.status_code == 200
    assert "v1 → v2" in page.text
    assert '<tr class="insert">' in page.text and "<ins>三、严格考核。</ins>" in page.text
    assert client.get(f"/notices/{archive.ids['exam']}/diff").status_code == 404


def test_withdrawn_notice_is_marked(client: TestClient, archive: Archive) -> None:
    assert "已从原网站撤下" in client.get(f"/notices/{archive.ids['consult']}").text


def test_site_and_runs_pages(client: TestClient, archive: Archive) -> None:
    site = client.get("/sites/mawei")
    assert site.status_code == 200 and "通知公告" in site.text and "政策文件" in site.text
    assert f'href="/runs/{archive.ids["run"]}"' in site.text
    runs = client.get("/runs")
    assert "运行记录" in runs.text and "finished" in runs.text
    run = client.get(f"/runs/{archive.ids['run']}")
    assert "HTTP 500" in run.text
    assert "鼓楼区人民政府" in client.get("/sites").text


def test_missing_things_are_404_pages(client: TestClient) -> None:
    page = client.get("/notices/999999")
    assert page.status_code == 404 and "没有编号为 999999 的公告" in page.text
    assert client.get("/sites/nope").status_code == 404


def test_security_headers_everywhere(client: TestClient) -> None:
    for path in ("/", "/sites", "/api/sites", "/openapi.json"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp  # no script source at all
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"


def test_xss_in_title_body_and_attachment_name_is_inert(client: TestClient, archive: Archive) -> None:
    pages = [client.get(f"/notices/{archive.ids['xss']}").text,
             client.get("/", params={"q": "恶意链接"}).text,
             client.get("/").text]
    for html in pages:
        assert "<script" not in html.lower()
        assert not re.search(r"<[^>]+\son\w+\s*=", html)  # no event handler attributes
        assert "javascript:" not in html
        assert "<iframe" not in html
    notice = pages[0]
    assert "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;" in notice or "&lt;script&gt;" in notice
    assert "正文内容" in notice and "恶意链接" in notice  # the harmless content survives
    assert "&lt;b&gt;马尾区&lt;/b&gt;" in notice


def test_archived_copy_is_sandboxed(client: TestClient, archive: Archive) -> None:
    page = client.get(f"/notices/{archive.ids['xss']}/versions/1/archived")
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("sandbox")
    assert page.headers["x-content-type-options"] == "nosniff"
    download = client.get(f"/notices/{archive.ids['xss']}/versions/1/archived", params={"download": 1})
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["content-type"] == "application/octet-stream"
