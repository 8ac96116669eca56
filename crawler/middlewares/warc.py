"""WARC capture: every response the downloader receives goes into gzip-compressed WARC files.

Position and body: the middleware sits at 650, between CookiesMiddleware (700) and
RedirectMiddleware (600). ``process_response`` runs in decreasing order, so it sees
each response *before* redirects are followed and *before* HttpCompressionMiddleware
(590) decodes the body: the WARC holds the bytes as the server sent them (with their
``Content-Encoding``), which is what ISO 28500 and replay tools expect, and redirects
are archived as the 3xx responses they were. Only ``Transfer-Encoding`` is dropped from
the recorded headers, because Scrapy hands us the body already de-chunked. A gzip
bomb is archived compressed (bounded by DOWNLOAD_MAXSIZE) and never inflated here.

robots.txt answers are captured too (kind ``robots``): they document that the crawl
was permitted on that date.

For each response we write, as one ``write()`` of consecutive gzip members:
``response`` (or ``revisit``), ``request`` and ``metadata`` (run id, site key, kind).
A payload whose digest was captured before becomes a ``revisit`` record (profile
identical-payload-digest) pointing at the original's URI and date; a 304 becomes a
``revisit`` with the server-not-modified profile. The digest index is a small SQLite
file next to the WARCs (``dedup.sqlite3``, WAL mode, safe for concurrent crawls).

``request.meta["warc_record"]`` is set to ``"<path relative to WARC_DIR>#<offset>"``
of the record that holds the payload (the original one for a revisit), so a notice
version points at bytes; ``request.meta["warc_capture"]`` is this fetch's own record.
Records are flushed after each write: a killed process leaves a file that reads
cleanly up to the last complete record.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import sqlite3
import zlib
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

logger = logging.getLogger(__name__)

SERVER_NOT_MODIFIED = "http://netpreserve.org/warc/1.0/revisit/server-not-modified"
# Scrapy gives us a de-chunked body, so a recorded "chunked" header would lie about it.
_DROP_RESPONSE_HEADERS = {"transfer-encoding"}
# Credentials never go into the archive.
_DROP_REQUEST_HEADERS = {"authorization", "proxy-authorization"}
DEDUP_INDEX_NAME = "dedup.sqlite3"


def payload_digest(body: bytes) -> str:
    """The WARC-Payload-Digest warcio would compute (SHA-1, base32)."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")  # noqa: S324


class DedupIndex:
    """payload digest → the first record that stored it; URI → its latest full capture."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")  # WAL keeps it consistent; a lost tail only loses dedup
        self.conn.execute("CREATE TABLE IF NOT EXISTS payload (digest TEXT PRIMARY KEY, uri TEXT NOT NULL,"
                          " date TEXT NOT NULL, ref TEXT NOT NULL)")
        self.conn.execute("CREATE TABLE IF NOT EXISTS latest (uri TEXT PRIMARY KEY, date TEXT NOT NULL,"
                          " ref TEXT NOT NULL)")

    def lookup(self, digest: str) -> tuple[str, str, str] | None:
        row = self.conn.execute("SELECT uri, date, ref FROM payload WHERE digest = ?", (digest,)).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def latest(self, uri: str) -> tuple[str, str] | None:
        row = self.conn.execute("SELECT date, ref FROM latest WHERE uri = ?", (uri,)).fetchone()
        return (row[0], row[1]) if row else None

    def remember(self, digest: str, uri: str, date: str, ref: str) -> None:
        self.conn.execute("INSERT OR IGNORE INTO payload VALUES (?, ?, ?, ?)", (digest, uri, date, ref))
        self.conn.execute("INSERT OR REPLACE INTO latest VALUES (?, ?, ?)", (uri, date, ref))

    def close(self) -> None:
        self.conn.close()


class WarcFileWriter:
    """Appends records to ``<dir>/YYYY/MM/<prefix>-<timestamp>-<pid>-<serial>.warc.gz``, rotating by size."""

    def __init__(self, directory: Path, *, max_size: int, compress_level: int = 6,
                 prefix: str = "noticewatch", info: dict[str, str] | None = None) -> None:
        self.directory = directory
        self.max_size = max_size
        self.compress_level = compress_level
        self.prefix = prefix
        self.info = info or {}
        self.builder = WARCWriter(io.BytesIO(), gzip=False)  # only builds records; we serialise them
        self.serial = 0
        self.fh: Any = None
        self.relpath = ""
        self.size = 0
        self.files: list[Path] = []

    def _member(self, record: ArcWarcRecord) -> bytes:
        raw = io.BytesIO()
        WARCWriter(raw, gzip=False).write_record(record)
        # One gzip member per record (as warcio does), at a level that keeps capture cheap.
        compressor = zlib.compressobj(self.compress_level, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        return compressor.compress(raw.getvalue()) + compressor.flush()

    def _open(self) -> None:
        now = datetime.now(UTC)
        folder = self.directory / f"{now:%Y}" / f"{now:%m}"
        folder.mkdir(parents=True, exist_ok=True)
        while True:
            name = f"{self.prefix}-{now:%Y%m%d%H%M%S}{now.microsecond // 1000:03d}-{os.getpid()}-{self.serial:05d}.warc.gz"
            self.serial += 1
            path = folder / name
            try:
                self.fh = path.open("xb")  # never append to, or clobber, another process's file
                break
            except FileExistsError:
                continue
        self.relpath = path.relative_to(self.directory).as_posix()
        self.size = 0
        self.files.append(path)
        info = {"software": "noticewatch (warcio)", "format": "WARC File Format 1.0", **self.info}
        self._append([self.builder.create_warcinfo_record(name, info)])

    def _append(self, records: list[ArcWarcRecord]) -> list[str]:
        refs, blobs, offset = [], [], self.size
        for record in records:
            member = self._member(record)
            refs.append(f"{self.relpath}#{offset}")
            blobs.append(member)
            offset += len(member)
        self.fh.write(b"".join(blobs))  # one write: a record is either all there or at the torn tail
        self.fh.flush()
        self.size = offset
        return refs

    def write(self, records: list[ArcWarcRecord]) -> tuple[list[str], int]:
        """Write ``records`` together; return their references and the bytes written."""
        if self.fh is None or self.size >= self.max_size:
            self.close()
            self._open()
        before = self.size
        refs = self._append(records)
        return refs, self.size - before

    def close(self) -> None:
        if self.fh is not None:
            self.fh.flush()
            os.fsync(self.fh.fileno())
            self.fh.close()
            self.fh = None


def _header_pairs(headers: Any, drop: set[str]) -> list[tuple[str, str]]:
    out = []
    for key, values in headers.items():
        name = key.decode("latin-1")
        if name.lower() in drop:
            continue
        for value in values:
            out.append((name, value.decode("latin-1")))
    return out


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class WarcCaptureMiddleware:
    def __init__(self, *, warc_dir: str, max_size: int, compress_level: int, dedup: bool) -> None:
        self.warc_dir = Path(warc_dir)
        self.dedup = dedup
        self.writer = WarcFileWriter(self.warc_dir, max_size=max_size, compress_level=compress_level)
        self.index = DedupIndex(self.warc_dir / DEDUP_INDEX_NAME) if dedup else None
        self.crawler: Crawler | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcCaptureMiddleware:
        s = crawler.settings
        if not s.getbool("WARC_ENABLED", True):
            raise NotConfigured("WARC_ENABLED is false")
        warc_dir = s.get("WARC_DIR") or str(Path(s.get("FILES_STORE") or "./data") / "warc")
        mw = cls(warc_dir=warc_dir, max_size=s.getint("WARC_MAX_SIZE", 1024**3),
                 compress_level=s.getint("WARC_COMPRESS_LEVEL", 6), dedup=s.getbool("WARC_DEDUP", True))
        mw.crawler = crawler
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    def spider_closed(self) -> None:
        self.writer.close()
        if self.index is not None:
            self.index.close()

    def _inc(self, key: str, by: int = 1) -> None:
        if self.crawler is not None and self.crawler.stats is not None:
            self.crawler.stats.inc_value(key, by)

    def _run_id(self) -> Any:
        spider = self.crawler.spider if self.crawler is not None else None
        return getattr(getattr(spider, "plan", None), "run_id", None)

    def process_response(self, request: Request, response: Response) -> Response:
        try:
            self.capture(request, response)
        except OSError as exc:
            # A full disk must not stop the crawl silently: log loudly and count it.
            logger.error("WARC capture failed for %s: %s", response.url, exc)
            self._inc("archive/warc_errors")
        return response

    def capture(self, request: Request, response: Response) -> None:
        builder = self.writer.builder
        uri = response.url
        date = builder.curr_warc_date()
        protocol = response.protocol if (response.protocol or "").startswith("HTTP/1") else "HTTP/1.1"
        http_headers = StatusAndHeaders(f"{response.status} {_reason(response.status)}",
                                        _header_pairs(response.headers, _DROP_RESPONSE_HEADERS),
                                        protocol=protocol)
        common = {"WARC-Date": date}
        if response.ip_address is not None and "proxy" not in request.meta:
            common["WARC-IP-Address"] = str(response.ip_address)
        original: tuple[str, str, str] | None = None
        latest: tuple[str, str] | None = None
        digest = ""
        if response.status == 304:
            headers = {**common, "WARC-Profile": SERVER_NOT_MODIFIED}
            latest = self.index.latest(uri) if self.index else None
            if latest:
                headers.update({"WARC-Refers-To-Target-URI": uri, "WARC-Refers-To-Date": latest[0]})
            main = builder.create_warc_record(uri, "revisit", http_headers=http_headers, warc_headers_dict=headers)
        else:
            digest = payload_digest(response.body)
            original = self.index.lookup(digest) if self.index else None
            if original is not None:
                main = builder.create_revisit_record(uri, digest, original[0], original[1],
                                                     http_headers=http_headers, warc_headers_dict=common)
            else:
                main = builder.create_warc_record(uri, "response", payload=io.BytesIO(response.body),
                                                  length=len(response.body), http_headers=http_headers,
                                                  warc_headers_dict={**common, "WARC-Payload-Digest": digest})
        main_id = main.rec_headers.get_header("WARC-Record-ID")
        linked = {"WARC-Date": date, "WARC-Concurrent-To": main_id}
        kind = request.meta.get("nw_kind") or ("robots" if urlsplit(uri).path == "/robots.txt" else "other")
        fields = {"run-id": self._run_id(), "site": request.meta.get("nw_site"), "kind": kind,
                  "request-url": request.url if request.url != uri else None}
        meta_body = "".join(f"{k}: {v}\r\n" for k, v in fields.items() if v is not None).encode("utf-8")
        records = [
            main,
            builder.create_warc_record(uri, "request", payload=io.BytesIO(request.body or b""),
                                       length=len(request.body or b""),
                                       http_headers=self._request_headers(request),
                                       warc_headers_dict=linked),
            builder.create_warc_record(uri, "metadata", payload=io.BytesIO(meta_body), length=len(meta_body),
                                       warc_content_type="application/warc-fields", warc_headers_dict=linked),
        ]
        refs, written = self.writer.write(records)
        capture_ref = refs[0]
        self._inc("archive/warc_records", len(records))
        self._inc("archive/warc_bytes", written)
        if main.rec_type == "revisit":
            self._inc("archive/revisits")
        if original is not None:
            payload_ref = original[2]
        elif response.status == 304:
            payload_ref = latest[1] if latest else capture_ref
        else:
            payload_ref = capture_ref
            if self.index is not None:
                self.index.remember(digest, uri, date, capture_ref)
        request.meta["warc_record"] = payload_ref
        request.meta["warc_capture"] = capture_ref

    @staticmethod
    def _request_headers(request: Request) -> StatusAndHeaders:
        parts = urlsplit(request.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = _header_pairs(request.headers, _DROP_REQUEST_HEADERS)
        if not any(name.lower() == "host" for name, _ in headers):
            headers.insert(0, ("Host", parts.netloc))
        return StatusAndHeaders(f"{request.method} {target} HTTP/1.1", headers, is_http_request=True)
