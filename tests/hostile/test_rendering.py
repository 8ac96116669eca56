"""Hostile notice content is data everywhere it is shown: web pages, JSON API, e-mail,
Atom/RSS feeds, webhooks, archived copies and attachments.

Every field a government page controls (title, body, source, document number, issuing
body, attachment names, the notice URL, the site name) carries script, event handlers,
``javascript:`` links, CSS ``expression()``, SVG, iframes, attribute breakouts, NUL bytes
and 10,000-deep nesting. It goes in through ``storage.repository.apply_notice``, the way
the crawler stores it, and every output is parsed (lxml) and checked for anything a
browser, mail client or feed reader would run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path

import feedparser
import lxml.etree
import lxml.html
import pytest
from fastapi.testclient import TestClient

from noticewatch.config import Settings, load_settings
from noticewatch.store import Store, open_store
from noticewatch.web import create_app
from pipeline.alerts.channels import EmailChannel, WebhookChannel
from pipeline.alerts.feeds import build_feed
from pipeline.alerts.messages import AlertMessage, digest_message, instant_message
from storage import repository as repo
from storage import sites
from storage.alert_items import load_alert_items, recent_events
from storage.records import AttachmentRecord, NoticeRecord, StoredBlob

SITE = "evil"
COLUMN = "http://www.evil.gov.cn/tzgg/"
BASE_URL = "http://archive.example"
DEEP = "<div>" * 10_000 + "深层正文" + "</div>" * 10_000
PAYLOADS = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    '<a href="javascript:alert(3)">点我</a>',
    "<style>body{background:expression(alert(4))}</style>",
    "<svg onload=alert(5)>",
    '<iframe src="javascript:alert(6)"></iframe>',
    '"><script>alert(7)</script>',
    "'><img src=x onerror=alert(8)>",
    "<p style=\"width:expression(alert(9))\">样式</p>",
    "NUL\x00字节",
)
HOSTILE = "".join(PAYLOADS)
TITLE_V1 = f"关于{PAYLOADS[0]}{PAYLOADS[1]}的通知"
TITLE_V2 = f'关于{PAYLOADS[6]}{PAYLOADS[4]}的通知（修订）'
ATTACHMENT_NAME = '"><script>alert(10)</script><img src=x onerror=alert(11)>附件.html'
HTML_ATTACHMENT = b"<html><body><script>alert('attachment')</script><img src=x onerror=alert(12)></body></html>"
RAW_PAGE = b"<html><body><script>alert('archived')</script><svg onload=alert(13)></svg>archived</body></html>"
T0 = datetime(2024, 5, 6, 2, 0, tzinfo=UTC)

_ACTIVE_TAG = re.compile(r"<\s*/?\s*(script|iframe|frame|object|embed|svg|math|style|base|meta\s+http-equiv)\b", re.I)
_BAD_SCHEME = re.compile(r"^\s*(javascript|vbscript|data|livescript)\s*:", re.I)
_ACTIVE_ELEMENTS = frozenset({"script", "iframe", "frame", "object", "embed", "svg", "math", "style", "base"})
_URL_ATTRS = ("href", "src", "action", "formaction", "xlink:href", "background", "poster", "srcset")


# ── inertness checks ───────────────────────────────────────────────────────────────────

class _TagCollector(HTMLParser):
    """Every start tag with its attributes, at any depth (a tokenizer has no depth limit)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def _check_tag(tag: str, attrs: list[tuple[str, str | None]], where: str) -> None:
    assert tag.lower() not in _ACTIVE_ELEMENTS, f"{where}: <{tag}> element"
    for name, value in attrs:
        value = value or ""
        assert not name.lower().startswith("on"), f"{where}: event handler {name}={value!r} on <{tag}>"
        if name.lower() in _URL_ATTRS:
            assert not _BAD_SCHEME.match(value), f"{where}: {name}={value!r} on <{tag}>"
        if name.lower() == "style":
            assert "expression" not in value.lower() and "javascript" not in value.lower(), f"{where}: style={value!r}"


def assert_inert_html(markup: str, *, where: str, document: bool = True) -> lxml.html.HtmlElement:
    """No element, attribute or URL in ``markup`` that a browser would run; returns the lxml tree."""
    raw = markup.replace("\x00", "")
    found = _ACTIVE_TAG.search(raw)
    assert found is None, f"{where}: active markup {found.group(0)!r} in the output"
    collector = _TagCollector()
    collector.feed(raw)
    collector.close()
    for tag, attrs in collector.tags:
        _check_tag(tag, attrs, where)
    # Second opinion from libxml2's HTML parser (its own error recovery). It stops
    # building below a nesting limit, so the 10,000-deep body is collapsed for it.
    shallow = re.sub(r"(?:</div>){50,}", "</div>", re.sub(r"(?:<div>){50,}", "<div>", raw))
    parser = lxml.html.HTMLParser(huge_tree=True, recover=True)
    tree = lxml.html.document_fromstring(shallow, parser=parser) if document else \
        lxml.html.fragment_fromstring(shallow, create_parent="div", parser=parser)
    for element in tree.iter():
        if isinstance(element.tag, str):  # not comments or processing instructions
            _check_tag(element.tag, list(element.attrib.items()), where)
    return tree


def assert_page_headers(headers: object, *, where: str) -> None:
    csp = headers["content-security-policy"]  # type: ignore[index]
    assert "default-src 'none'" in csp or "sandbox" in csp, f"{where}: weak CSP {csp!r}"
    assert "script-src" not in csp or "'none'" in csp, csp
    assert headers["x-content-type-options"] == "nosniff", where  # type: ignore[index]


# ── the hostile archive ────────────────────────────────────────────────────────────────

@dataclass
class HostileArchive:
    settings: Settings
    store: Store
    notice_id: int
    attachment_sha: str
    event_ids: list[int]


def _record(title: str, body_html: str, version_fields: dict[str, str], attachment: AttachmentRecord,
            raw_sha: str, fetched_at: datetime) -> NoticeRecord:
    return NoticeRecord(
        site_key=SITE, column_urls=[COLUMN], url="javascript:alert(14)//http://www.evil.gov.cn/a.html",
        canonical_url="http://www.evil.gov.cn/art/hostile.html", title=title,
        published_at="2024-05-06T10:00:00+08:00", body_text=f"第一段 {HOSTILE}\n第二段。{version_fields['doc_no']}",
        body_html=body_html, attachments=[attachment], raw_sha256=raw_sha, fetched_at=fetched_at,
        **version_fields)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileArchive]:
    data_dir = tmp_path_factory.mktemp("hostile-archive")
    settings = load_settings(env={}, cli={"data_dir": str(data_dir)}, cwd=data_dir)
    store = open_store(settings)
    raw_sha, _ = store.blobs.put_bytes(RAW_PAGE)
    att_sha, att_path = store.blobs.put_bytes(HTML_ATTACHMENT)
    attachment = AttachmentRecord(
        url="javascript:alert(15)", name=ATTACHMENT_NAME,
        blob=StoredBlob(sha256=att_sha, size=len(HTML_ATTACHMENT), media_type="text/html", path=att_path,
                        text=f"附件文字{PAYLOADS[0]}{PAYLOADS[1]}"))
    fields_v1 = {"source": PAYLOADS[2], "doc_no": f"马政{PAYLOADS[6]}〔2024〕1号", "issuing_org": PAYLOADS[3],
                 "index_no": PAYLOADS[4], "subject": PAYLOADS[5], "validity": PAYLOADS[7]}
    fields_v2 = {**fields_v1, "doc_no": f"马政{PAYLOADS[1]}〔2024〕2号", "source": PAYLOADS[8]}
    with store.factory.begin() as session:
        sites.sync_sites(session, [{"key": SITE, "name": f"恶意区{PAYLOADS[0]}人民政府",
                                    "base_url": "http://www.evil.gov.cn/", "family": "generic",
                                    "columns": [{"url": COLUMN, "name": f"通知{PAYLOADS[1]}"}]}])
        sites.mark_baseline(session, SITE, at=datetime(2024, 1, 1, tzinfo=UTC))
    with store.factory.begin() as session:
        first = repo.apply_notice(session, _record(TITLE_V1, HOSTILE + DEEP, fields_v1, attachment, raw_sha, T0))
    with store.factory.begin() as session:
        second = repo.apply_notice(session, _record(TITLE_V2, PAYLOADS[3] + HOSTILE + "<p>新增</p>" + DEEP, fields_v2,
                                                    attachment, raw_sha, T0.replace(hour=3)))
    assert first.notice_id == second.notice_id and second.kind == "changed"
    with store.factory() as session:
        event_ids = recent_events(session, site_key=SITE)
    assert len(event_ids) == 2
    yield HostileArchive(settings, store, first.notice_id, att_sha, event_ids)
    store.close()


@pytest.fixture(scope="module")
def client(hostile: HostileArchive) -> Iterator[TestClient]:
    with TestClient(create_app(hostile.settings, store=hostile.store)) as test_client:
        yield test_client


def test_stored_as_data_not_cleaned_away(hostile: HostileArchive) -> None:
    """The store keeps what the page said (rendering makes it inert, storing does not edit it)."""
    with hostile.store.factory() as session:
        row = repo.export_row(repo.get_notice(session, hostile.notice_id))
    assert row["title"] == TITLE_V2
    assert PAYLOADS[1] in row["doc_no"]


# ── web pages ──────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize("path", [
    "/?q=通知", "/?q=alert", "/?q=script", "/?q=expression", "/?q=字节", "/?q=附件文字",
    "/?doc_no=马政", "/?org=style", "/", "/notices/{id}", "/notices/{id}/diff", "/notices/{id}/diff?a=1&b=2",
    f"/sites/{SITE}", "/sites", "/runs",
])
def test_pages_are_inert(client: TestClient, hostile: HostileArchive, path: str) -> None:
    response = client.get(path.format(id=hostile.notice_id))
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    assert_page_headers(response.headers, where=path)
    assert_inert_html(response.text, where=path)


def test_search_results_show_the_hostile_text_as_text(client: TestClient, hostile: HostileArchive) -> None:
    response = client.get("/", params={"q": "alert"})
    tree = assert_inert_html(response.text, where="search")
    hits = tree.cssselect("ol.results li") if hasattr(tree, "cssselect") else tree.xpath("//ol[@class='results']/li")
    assert len(hits) == 1
    text = hits[0].text_content()
    assert "<script>alert(7)</script>" in text or "<svg onload=alert(5)>" in text, text
    assert tree.xpath("//mark"), "search terms are still highlighted"


def test_notice_page_keeps_fields_as_text(client: TestClient, hostile: HostileArchive) -> None:
    response = client.get(f"/notices/{hostile.notice_id}")
    tree = assert_inert_html(response.text, where="notice")
    assert tree.xpath("string(//h1)") == TITLE_V2
    assert tree.xpath("string(//title)").startswith(TITLE_V2)
    fields = tree.xpath("string(//dl[@class='fields'])")
    assert PAYLOADS[4] in fields and f"马政{PAYLOADS[1]}〔2024〕2号" in fields and PAYLOADS[8] in fields
    # the attachment's hostile name is the link text, the link is the sandboxed download
    link = tree.xpath("//a[@class='download']")[0]
    assert link.text_content() == ATTACHMENT_NAME
    assert link.get("href") == f"/api/attachments/{hostile.attachment_sha}"
    # the live link is not a javascript: URL (the stored URL is one)
    live = tree.xpath("//a[contains(@class,'live')]")[0]
    assert not _BAD_SCHEME.match(live.get("href", ""))
    assert "深层正文" in tree.xpath("string(//section[@class='body'])")


def test_diff_page_shows_changed_fields_as_text(client: TestClient, hostile: HostileArchive) -> None:
    response = client.get(f"/notices/{hostile.notice_id}/diff")
    tree = assert_inert_html(response.text, where="diff")
    changes = tree.xpath("string(//table[@class='fieldchanges'])")
    assert PAYLOADS[1] in changes and PAYLOADS[8] in changes


def test_error_page_echoing_input_is_inert(client: TestClient) -> None:
    response = client.get("/", params={"q": '"<script>alert(1)</script>'})
    assert response.status_code == 400
    assert_inert_html(response.text, where="search error")
    assert "<script>alert(1)</script>" in lxml.html.document_fromstring(response.text).text_content()


# ── JSON API ───────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize("path", ["/api/notices/{id}", "/api/notices/{id}/versions", "/api/search?q=alert",
                                  "/api/notices", f"/api/sites/{SITE}"])
def test_api_is_json_with_the_data_intact(client: TestClient, hostile: HostileArchive, path: str) -> None:
    response = client.get(path.format(id=hostile.notice_id))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert_page_headers(response.headers, where=path)
    data = response.json()
    assert json.dumps(data, ensure_ascii=False).count("alert(") > 0  # the text travels as data


def test_api_notice_round_trips_every_hostile_field(client: TestClient, hostile: HostileArchive) -> None:
    data = client.get(f"/api/notices/{hostile.notice_id}").json()
    assert data["title"] == TITLE_V2
    assert data["doc_no"] == f"马政{PAYLOADS[1]}〔2024〕2号"
    assert data["issuing_org"] == PAYLOADS[3]


# ── archived copies and attachments ────────────────────────────────────────────────────

def test_archived_page_is_sandboxed(client: TestClient, hostile: HostileArchive) -> None:
    response = client.get(f"/notices/{hostile.notice_id}/versions/1/archived")
    assert response.status_code == 200
    assert response.content == RAW_PAGE  # served as fetched, but…
    csp = response.headers["content-security-policy"]
    assert csp.split(";")[0].strip() == "sandbox"  # unique origin, no script (no allow-scripts)
    assert "allow-scripts" not in csp and "allow-same-origin" not in csp
    assert "script-src" not in csp or "'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    download = client.get(f"/notices/{hostile.notice_id}/versions/1/archived", params={"download": "1"})
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"].startswith("attachment;")


def test_html_attachment_is_a_download(client: TestClient, hostile: HostileArchive) -> None:
    response = client.get(f"/api/attachments/{hostile.attachment_sha}")
    assert response.status_code == 200 and response.content == HTML_ATTACHMENT
    assert response.headers["content-type"] == "application/octet-stream"  # never text/html
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert not re.search(r"[<>\"\r\n]", disposition.split("filename=", 1)[1].split(";")[0].strip('"'))
    assert "sandbox" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


# ── alerts: e-mail, webhook ────────────────────────────────────────────────────────────

def _messages(hostile: HostileArchive) -> list[AlertMessage]:
    with hostile.store.factory() as session:
        items = load_alert_items(session, hostile.event_ids)
    ordered = [items[i] for i in hostile.event_ids]
    changed = next(i for i in ordered if i.kind == "changed")
    assert changed.changes, "the changed event carries a field diff"
    name = f"订阅{PAYLOADS[0]}"
    return [*(instant_message(name, 1, item, key=f"k{item.event_id}", base_url=BASE_URL) for item in ordered),
            digest_message(name, 1, ordered, key="digest:1:2024-05-06", period="2024-05-06", base_url=BASE_URL)]


def test_email_html_is_inert(hostile: HostileArchive) -> None:
    channel = EmailChannel(to=("me@example.cn",), host="127.0.0.1", port=25, user="", password="",
                           sender="alerts@noticewatch.test")
    for message in _messages(hostile):
        parsed = message_from_bytes(channel.build(message).as_bytes(), policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        html_part = parsed.get_body(preferencelist=("html",))
        text_part = parsed.get_body(preferencelist=("plain",))
        assert html_part is not None and text_part is not None
        html = html_part.get_content()
        tree = assert_inert_html(html, where=f"e-mail {message.kind}")
        shown = tree.text_content()
        assert "<script>alert(1)</script>" in shown or "<svg onload=alert(5)>" in shown
        for link in tree.xpath("//a/@href"):
            assert link == "#" or link.startswith(("http://", "https://")), link  # javascript: became #
        assert "\r" not in str(parsed["Subject"]) and "\n" not in str(parsed["Subject"])


def test_webhook_payload_is_json_with_the_data_intact(hostile: HostileArchive) -> None:
    channel = WebhookChannel(url="http://127.0.0.1:9/hook")
    for message in _messages(hostile):
        request = channel.request(message, secret="s", timestamp="1700000000")
        assert request.get_header("Content-type") == "application/json; charset=utf-8"
        payload = json.loads(request.data)  # type: ignore[arg-type]
        assert payload == json.loads(json.dumps(message.payload))
        titles = [e["notice"]["title"] for e in payload["events"]]
        assert set(titles) <= {TITLE_V1, TITLE_V2} and titles


# ── feeds ──────────────────────────────────────────────────────────────────────────────

def _feed(hostile: HostileArchive, kind: str) -> bytes:
    with hostile.store.factory() as session:
        return build_feed(session, site_key=SITE, kind=kind, base_url=BASE_URL)  # type: ignore[arg-type]


def test_atom_feed_is_inert(hostile: HostileArchive) -> None:
    data = _feed(hostile, "atom")
    root = lxml.etree.fromstring(data)  # well-formed XML: the NUL byte did not break it
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = root.findall("a:entry", ns)
    assert len(entries) == 2
    for entry in entries:
        for element in entry.iter():
            kind = element.get("type", "text")
            if element.text and kind == "html":
                assert_inert_html(element.text, where=f"atom {element.tag}", document=False)
            elif element.text and kind == "text":
                pass  # a reader shows text as text
            assert kind in ("text", "html"), kind
        for link in entry.findall("a:link", ns):
            assert not _BAD_SCHEME.match(link.get("href", "")), link.get("href")
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.bozo_exception
    assert any("<script>alert(7)</script>" in e.title for e in parsed.entries), [e.title for e in parsed.entries]


def test_rss_feed_is_inert(hostile: HostileArchive) -> None:
    data = _feed(hostile, "rss")
    root = lxml.etree.fromstring(data)
    items = root.findall("channel/item")
    assert len(items) == 2
    for item in items:
        # RSS has no type attribute: readers treat description and content:encoded as HTML.
        for tag in ("description", "{http://purl.org/rss/1.0/modules/content/}encoded"):
            element = item.find(tag)
            if element is not None and element.text:
                assert_inert_html(element.text, where=f"rss {tag}", document=False)
        link = item.findtext("link") or ""
        assert not _BAD_SCHEME.match(link), link
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.bozo_exception
    assert len(parsed.entries) == 2


def test_feed_routes_serve_feed_types(client: TestClient) -> None:
    for suffix, media in (("atom", "application/atom+xml"), ("rss", "application/rss+xml")):
        response = client.get(f"/feeds/site/{SITE}.{suffix}")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(media)
        assert_page_headers(response.headers, where=suffix)


def test_static_feed_files_match(hostile: HostileArchive, tmp_path: Path) -> None:
    from pipeline.alerts.feeds import write_static_feeds

    written = write_static_feeds(hostile.store, tmp_path, base_url=BASE_URL)
    for path in written:
        lxml.etree.fromstring(path.read_bytes())
