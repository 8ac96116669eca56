"""Registry selectors override a family adapter field by field, on a hand-made odd site."""

from __future__ import annotations

import pytest

from crawler.parsing.adapters import adapter_for
from crawler.parsing.families import get_adapter
from crawler.parsing.selectors import SelectorAdapter, selector_problems
from crawler.parsing.types import ExtractionError

LIST_URL = "http://www.odd.gov.cn/xxgk/notices/"
NOTICE_URL = "http://www.odd.gov.cn/xxgk/notices/view.php?id=77"

# A list no family knows: rows are <div class="row">, the title link is the *second*
# anchor (the first is a category tag), the date sits in <em class="day"> as 2024年5月6日,
# and the next page is a button-like link with an odd label.
ODD_LIST = """<html><body>
<div class="menu"><a href="/">首页</a><a href="/about.html">关于我们</a></div>
<div class="rows">
  <div class="row"><a class="tag" href="/tag/1">通知</a>
    <a class="row-title" href="view.php?id=77" title="关于开展2024年防汛演练的通知（全文）">关于开展2024年防汛演练的通…</a>
    <em class="day">2024年5月6日</em></div>
  <div class="row"><a class="tag" href="/tag/2">公告</a>
    <a class="row-title" href="view.php?id=76">区财政局关于预算公开的公告</a><em class="day">2024年4月30日</em></div>
</div>
<div class="pager"><a class="go-on" href="?page=2">继续浏览 ›</a></div>
</body></html>"""

# A notice page whose title is in a <div> the families do not look at, whose main
# block is split in two, and whose files hang off a data-file span.
ODD_NOTICE = """<html><head><title>无关的站点标题</title>
<meta name="PubDate" content="2024-05-01"></head><body>
<div class="menu"><a href="/">首页</a></div>
<div class="headline">关于开展2024年防汛演练的通知（全文）</div>
<div class="stamp">印发：2024/05/06 09:30　供稿：区应急管理局</div>
<div class="piece"><p>各镇街、各有关单位：</p><p>为做好今年汛期防御准备，定于五月中旬开展防汛演练。</p></div>
<div class="piece"><p>请各单位按要求做好准备工作。</p></div>
<div class="files"><span data-file="docs/plan.pdf"><a href="docs/plan.pdf">演练方案</a></span>
  <a href="/xxgk/policy.html">相关政策</a></div>
<div class="footer">版权所有：某区人民政府</div>
</body></html>"""

SELECTORS = {
    "list_item": "div.rows > div.row",
    "list_link": "a.row-title",
    "list_date": "xpath:.//em[@class='day']",
    "next_page": "a.go-on",
    "title": "div.headline",
    "date": "xpath:substring-before(substring-after(//div[@class='stamp'], '印发：'), '　')",
    "source": "xpath:substring-after(//div[@class='stamp'], '供稿：')",
    "body": "div.piece",
    "attachments": "div.files span[data-file] a",
}


def test_list_selectors_pick_rows_links_dates_and_next_page() -> None:
    page = SelectorAdapter(get_adapter("generic"), SELECTORS).parse_list(ODD_LIST, LIST_URL)
    assert [(e.url, e.title, e.published_at) for e in page.entries] == [
        (NOTICE_URL, "关于开展2024年防汛演练的通知（全文）", "2024-05-06"),
        ("http://www.odd.gov.cn/xxgk/notices/view.php?id=76", "区财政局关于预算公开的公告", "2024-04-30"),
    ]
    assert [r.url for r in page.follow] == ["http://www.odd.gov.cn/xxgk/notices/?page=2"]


def test_without_selectors_the_generic_adapter_misreads_the_odd_list() -> None:
    page = get_adapter("generic").parse_list(ODD_LIST, LIST_URL)
    titles = [e.title for e in page.entries]
    assert "关于开展2024年防汛演练的通知（全文）" not in titles  # what the selectors are for


def test_notice_selectors_override_field_by_field() -> None:
    notice = SelectorAdapter(get_adapter("generic"), SELECTORS).parse_notice(ODD_NOTICE, NOTICE_URL)
    assert notice.title == "关于开展2024年防汛演练的通知（全文）"
    assert notice.published_at == "2024-05-06T09:30:00+08:00"  # selector beats the PubDate meta tag
    assert notice.source == "区应急管理局"
    assert notice.body_text == ("各镇街、各有关单位：\n\n为做好今年汛期防御准备，定于五月中旬开展防汛演练。"
                                "\n\n请各单位按要求做好准备工作。")
    assert "版权所有" not in notice.body_html and "<p>" in notice.body_html
    assert [(a.url, a.name) for a in notice.attachments] == [
        ("http://www.odd.gov.cn/xxgk/notices/docs/plan.pdf", "演练方案")]
    assert notice.family == "generic"


def test_fields_without_selectors_come_from_the_base_adapter() -> None:
    only_title = SelectorAdapter(get_adapter("generic"), {"title": "div.headline"})
    notice = only_title.parse_notice(ODD_NOTICE, NOTICE_URL)
    assert notice.title == "关于开展2024年防汛演练的通知（全文）"
    assert notice.published_at == "2024-05-01"  # the base adapter's reading (PubDate meta)


def test_a_selector_matching_nothing_falls_back_to_the_base_adapter() -> None:
    adapter = SelectorAdapter(get_adapter("generic"), {"title": "div.no-such-thing", "body": "#nothing"})
    notice = adapter.parse_notice(ODD_NOTICE, NOTICE_URL)
    assert notice.title == "无关的站点标题"  # the generic adapter's reading: the page <title>
    assert "防汛演练" in notice.body_text


def test_selectors_rescue_a_page_the_base_adapter_rejects() -> None:
    page = "<html><body><span id='t'>短标题通知</span><span id='b'>正文很短。</span></body></html>"
    with pytest.raises(ExtractionError):
        get_adapter("generic").parse_notice(page, NOTICE_URL)
    notice = SelectorAdapter(get_adapter("generic"), {"title": "#t", "body": "#b"}).parse_notice(page, NOTICE_URL)
    assert (notice.title, notice.body_text) == ("短标题通知", "正文很短。")


def test_bad_selectors_are_reported_and_fail_per_page() -> None:
    bad = {"title": "div[", "body": "xpath://div[", "colour": "p"}
    problems = selector_problems(bad)
    assert len(problems) == 3
    assert any("colour" in p for p in problems) and any("'div['" in p for p in problems)
    with pytest.raises(ExtractionError, match="not a valid selector"):
        SelectorAdapter(get_adapter("generic"), bad).parse_notice(ODD_NOTICE, NOTICE_URL)
    assert selector_problems(SELECTORS) == []


def test_adapter_for_wraps_and_guards() -> None:
    adapter = adapter_for("generic", SELECTORS)
    assert adapter.parse_notice(ODD_NOTICE, NOTICE_URL).source == "区应急管理局"
    # "auto" detects per page: the generic adapter is the only one that claims this page
    assert adapter_for("auto").parse_notice(ODD_NOTICE, NOTICE_URL).family == "generic"
    with pytest.raises(KeyError):
        adapter_for("no-such-family")


def test_list_api_answers_stay_with_the_base_adapter() -> None:
    body = '{"articles": [{"title": "标题一", "url": "/gkmlpt/content/0/1/post_1.html", "date": 1714960000}]}'
    adapter = SelectorAdapter(get_adapter("gkmlpt"), {"list_item": "li", "list_link": "a"})
    page = adapter.parse_list(body, "http://www.odd.gov.cn/gkmlpt/api/all/1?page=1&sid=1", kind="list_api")
    assert [e.title for e in page.entries] == ["标题一"]
