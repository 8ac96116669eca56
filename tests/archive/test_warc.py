"""WARC capture through a real Scrapy crawl against a loopback HTTP server."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from storage.fixity import check_warc_file
from tests.archive.conftest import PAGE, PAGE_GZ

ROOT = Path(__file__).resolve().parents[2]
WARCIO = Path(sys.executable).with_name("warcio")


def crawl(warc_dir: Path, out: Path, urls: list[str]) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    subprocess.run([sys.executable, "-m", "tests.archive.crawl_script", str(warc_dir), str(out), *urls],
                   cwd=ROOT, env=env, check=True, timeout=120)
    return json.loads(out.read_text(encoding="utf-8"))


def records(warc_dir: Path) -> list[Any]:
    found = []
    for path in sorted(warc_dir.rglob("*.warc.gz")):
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                headers = dict(record.rec_headers.headers)
                http = record.http_headers
                body = record.raw_stream.read()
                found.append((path, headers, http, body))
    return found


@pytest.fixture(scope="module")
def two_crawls(http_server: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    warc_dir = tmp_path_factory.mktemp("warc")
    urls = [f"{http_server}/page.html", f"{http_server}/redirect", f"{http_server}/etag", f"{http_server}/chunked",
            f"{http_server}/missing"]
    first = crawl(warc_dir, warc_dir.parent / "first.json", urls)
    after_first = {p: p.stat().st_size for p in warc_dir.rglob("*.warc.gz")}
    second = crawl(warc_dir, warc_dir.parent / "second.json", urls + [f"{http_server}/same.html"])
    return {"dir": warc_dir, "first": first, "second": second, "after_first": after_first}


def test_files_are_laid_out_by_month_and_named_by_process(two_crawls: dict[str, Any]) -> None:
    files = sorted(two_crawls["dir"].rglob("*.warc.gz"))
    assert len(files) >= 3  # WARC_MAX_SIZE=4096 forces rotation
    for path in files:
        rel = path.relative_to(two_crawls["dir"]).parts
        assert len(rel) == 3 and len(rel[0]) == 4 and len(rel[1]) == 2
        assert rel[2].startswith("noticewatch-") and rel[2].endswith(".warc.gz")


def test_warcio_check_and_index_read_every_file(two_crawls: dict[str, Any]) -> None:
    files = [str(p) for p in sorted(two_crawls["dir"].rglob("*.warc.gz"))]
    check = subprocess.run([str(WARCIO), "check", "-v", *files], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "digest pass" in check.stdout
    index = subprocess.run([str(WARCIO), "index", *files], capture_output=True, text=True, check=True)
    types = [json.loads(line)["warc-type"] for line in index.stdout.splitlines()]
    assert {"warcinfo", "response", "request", "metadata", "revisit"} <= set(types)
    for path in files:
        count, problems = check_warc_file(Path(path))
        assert count > 0 and problems == []


def test_response_is_raw_and_linked_records_follow(two_crawls: dict[str, Any], http_server: str) -> None:
    found = records(two_crawls["dir"])
    page = [r for r in found if r[1]["WARC-Type"] == "response" and r[1].get("WARC-Target-URI", "").endswith("/page.html")]
    assert len(page) == 1  # the second crawl (and the redirect's target) only add revisits
    _path, headers, http, body = page[0]
    assert body == PAGE_GZ and http.get_header("Content-Encoding") == "gzip"  # as sent, not decoded
    assert http.statusline.startswith("200")
    record_id = headers["WARC-Record-ID"]
    linked = [r for r in found if r[1].get("WARC-Concurrent-To") == record_id]
    assert sorted(r[1]["WARC-Type"] for r in linked) == ["metadata", "request"]
    meta = next(r for r in linked if r[1]["WARC-Type"] == "metadata")[3].decode()
    assert "site: local" in meta and "kind: notice" in meta
    request = next(r for r in linked if r[1]["WARC-Type"] == "request")
    assert (request[2].protocol, request[2].statusline) == ("GET", "/page.html HTTP/1.1")


def test_redirect_robots_and_chunked_are_captured(two_crawls: dict[str, Any]) -> None:
    found = records(two_crawls["dir"])
    redirect = [r for r in found if r[1].get("WARC-Target-URI", "").endswith("/redirect") and r[1]["WARC-Type"] == "response"]
    assert redirect and redirect[0][2].get_header("Location") == "/page.html"
    assert any(r[1].get("WARC-Target-URI", "").endswith("/robots.txt") and r[1]["WARC-Type"] == "response" for r in found)
    chunked = next(r for r in found if r[1].get("WARC-Target-URI", "").endswith("/chunked") and r[1]["WARC-Type"] == "response")
    assert chunked[3] == b"first part, second part"
    assert chunked[2].get_header("Transfer-Encoding") is None  # the body is stored de-chunked


def test_second_crawl_writes_revisits_only(two_crawls: dict[str, Any]) -> None:
    first, second = two_crawls["first"], two_crawls["second"]
    assert first["stats"]["archive/warc_records"] > 0
    # every second-crawl response (and /same.html: same payload, other URL) is a revisit
    assert second["stats"]["archive/revisits"] * 3 == second["stats"]["archive/warc_records"]
    found = records(two_crawls["dir"])
    old_files = set(two_crawls["after_first"])
    new = [r for r in found if r[0] not in old_files]
    new_types = {r[1]["WARC-Type"] for r in new}
    assert "response" not in new_types and "revisit" in new_types
    same = next(r for r in new if r[1].get("WARC-Target-URI", "").endswith("/same.html"))
    assert same[1]["WARC-Refers-To-Target-URI"].endswith("/page.html")
    assert same[1]["WARC-Profile"].endswith("identical-payload-digest")


def test_304_is_a_server_not_modified_revisit(two_crawls: dict[str, Any]) -> None:
    found = records(two_crawls["dir"])
    not_modified = [r for r in found if r[1].get("WARC-Target-URI", "").endswith("/etag") and r[1]["WARC-Type"] == "revisit"]
    assert not_modified and all(r[1]["WARC-Profile"].endswith("server-not-modified") for r in not_modified)
    assert all(r[2].statusline.startswith("304") for r in not_modified)


def test_meta_points_at_the_payload_record(two_crawls: dict[str, Any]) -> None:
    warc_dir = two_crawls["dir"]
    for crawl_result in (two_crawls["first"], two_crawls["second"]):
        page = next(r for r in crawl_result["results"] if r["url"].endswith("/page.html"))
        assert page["body"] == PAGE  # the spider still gets the decoded body
        rel, offset = page["warc_record"].split("#")
        with (warc_dir / rel).open("rb") as fh:
            fh.seek(int(offset))
            record = next(iter(ArchiveIterator(fh)))
            assert record.rec_type == "response"
            assert gzip.decompress(record.raw_stream.read()) == PAGE.encode("utf-8")
    second_page = next(r for r in two_crawls["second"]["results"] if r["url"].endswith("/page.html"))
    assert second_page["warc_capture"] != second_page["warc_record"]


def test_killed_writer_leaves_readable_prefix(two_crawls: dict[str, Any], tmp_path: Path) -> None:
    source = max(two_crawls["dir"].rglob("*.warc.gz"), key=lambda p: p.stat().st_size)
    data = source.read_bytes()
    torn = tmp_path / "torn.warc.gz"
    torn.write_bytes(data[: len(data) - 7])  # a record cut short, as by a kill mid-write
    count, problems = check_warc_file(torn)
    assert problems, "a torn tail must be reported"
    assert count >= 1  # the complete records before it still read
