"""Fuzzing the parse surface and file naming with hypothesis.

Profiles (tests/hostile/conftest.py): "ci" by default; a longer run is
``HYPOTHESIS_PROFILE=long .venv/bin/pytest tests/hostile/test_fuzz.py`` (a few minutes).
tests/parsing/test_parsing_properties.py fuzzes the adapters on text; here the input is
raw bytes through ``decode_html`` (what the spider does), plus the URL canonicaliser,
dates, Content-Disposition, and the rule that no hostile name becomes a file path.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from datetime import date, datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from scrapy import Request
from scrapy.http import Response

from crawler.parsing.dates import parse_cn_datetime
from crawler.parsing.encoding import decode_html, filename_from_content_disposition
from crawler.parsing.families import ADAPTERS
from crawler.parsing.types import ExtractionError
from pipeline.files import AttachmentsPipeline
from storage.blobstore import BlobStore
from storage.urls import canonicalize_url

HOSTILE_NAME_PARTS = st.sampled_from([
    "../", "..\\", "%2e%2e%2f", "%2E%2E/", "..%5c", "%00", "\x00", "\r\n", "\x1b[31m", "CON", "NUL.txt", "aux",
    "COM1", "/etc/passwd", "C:\\Windows\\", "\\\\server\\share\\", "~", ".", "..", "附件", "\u202e", " ", ":",
    "x" * 300, "名" * 120, "%E9%99%84%E4%BB%B6", "a.pdf", ";", "'", '"', "*", "?",
])  # fmt: skip
HOSTILE_NAMES = st.lists(HOSTILE_NAME_PARTS, min_size=1, max_size=8).map("".join)
BYTES_HTML = st.one_of(
    st.binary(max_size=600),
    st.lists(st.sampled_from([
        b"<meta charset='gb2312'>", b"<meta charset=utf-7>", b"\xd5\xfe\xb8\xae", b"\xe6\x94\xbf\xe5\xba\x9c",
        b"<title>", b"</title>", b"<div id='zoom'>", b"<div>" * 50, b"\x00", b"\xff\xfe", b"\xef\xbb\xbf",
        b"<a href='javascript:alert(1)'>", b"<script>", b"<li><a href='t1.html'>", b"2024-01-04", b"]]>",
    ]), max_size=40).map(b"".join),
)  # fmt: skip


@given(BYTES_HTML, st.sampled_from([None, "text/html", "text/html; charset=gbk", "text/html; charset=bogus",
                                    "text/html; charset=utf-16", "application/octet-stream"]))
def test_bytes_through_decode_and_every_adapter(body: bytes, ctype: str | None) -> None:
    text, encoding = decode_html(body, ctype)
    assert isinstance(text, str) and isinstance(encoding, str)
    for adapter in ADAPTERS:
        for call in (adapter.parse_notice, adapter.parse_list):
            with contextlib.suppress(ExtractionError):
                call(text, "http://www.site.gov.cn/zwgk/tzgg/t20240104_1.html")


@given(st.text(max_size=60))
def test_parse_cn_datetime_returns_iso_or_none(text: str) -> None:
    value = parse_cn_datetime(text)
    if value is not None:
        (datetime if "T" in value else date).fromisoformat(value)


@given(st.one_of(st.text(max_size=200), HOSTILE_NAMES.map(lambda n: f"http://www.site.gov.cn/{n}"),
                 HOSTILE_NAMES.map(lambda n: f"http://www.site.gov.cn/a/b?name={n}#{n}")))
def test_canonicalize_url_total_and_idempotent(url: str) -> None:
    try:
        canon = canonicalize_url(url)
    except ValueError:
        return  # documented refusal of an unusable URL
    assert isinstance(canon, str)
    assert canonicalize_url(canon) == canon
    assert "#" not in canon.split("?", 1)[0] or not canon.startswith("http")


@given(HOSTILE_NAMES, st.sampled_from(["utf8", "plain", "gbk-raw"]))
def test_content_disposition_names_are_data(name: str, style: str) -> None:
    if style == "utf8":
        from urllib.parse import quote
        header: bytes | str = "attachment; filename*=UTF-8''" + quote(name, safe="")
    elif style == "plain":
        header = 'attachment; filename="' + name.replace('"', "") + '"'
    else:
        header = b'attachment; filename="' + name.encode("gbk", "replace").replace(b'"', b"") + b'"'
    result = filename_from_content_disposition(header)
    assert result is None or isinstance(result, str)


_BLOB_PATH = re.compile(r"^blobs/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}$")


@given(HOSTILE_NAMES, st.binary(max_size=64))
def test_hostile_names_never_become_paths(name: str, payload: bytes) -> None:
    url = f"http://www.site.gov.cn/files/{name}"
    request = Request("http://www.site.gov.cn/files/x", meta={"nw_kind": "attachment"})
    request = request.replace(url=url) if "\x00" not in url else request
    response = Response(request.url, body=payload, request=request,
                        headers={"Content-Disposition": f'attachment; filename="{name}"'.encode("utf-8", "replace")})
    path = AttachmentsPipeline.file_path(None, request, response)  # type: ignore[arg-type]
    assert _BLOB_PATH.match(path), path
    assert path.endswith(hashlib.sha256(payload).hexdigest())


def test_blob_store_writes_only_under_blobs(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    names = ["../../x", "CON", "\x00", "名" * 200]
    for n in names:
        store.put_bytes(n.encode("utf-8"))
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == len(names)
    assert all(p.resolve().is_relative_to((tmp_path / "blobs").resolve()) for p in files)
