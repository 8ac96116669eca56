"""Stored names never come from the server; a full disk or a kill never leaves a 'good' half file."""

from __future__ import annotations

import errno
import hashlib
import os
import signal
import subprocess
import sys
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.http import Response

from crawler.parsing.encoding import filename_from_content_disposition
from pipeline.files import AttachmentsPipeline, ContentAddressedStore
from storage import blobstore
from storage.blobstore import BlobStore
from storage.fixity import FixityReport, _scan_blob_dir

HOSTILE = [
    'attachment; filename="../../etc/passwd"',
    'attachment; filename="..\\\\..\\\\x"',
    'attachment; filename="a\x00b.pdf"',
    "attachment; filename*=UTF-8''%2E%2E%2F%2E%2E%2Fetc%2Fshadow",
    'attachment; filename="' + "长" * 400 + '.pdf"',
    'attachment; filename="/abs/path.pdf"',
]


def _files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("disposition", HOSTILE)
def test_blob_path_comes_from_the_digest_only(tmp_path: Path, disposition: str) -> None:
    data_dir = tmp_path / "data"
    body = b"%PDF-1.4 " + disposition.encode("utf-8", "replace")
    response = Response("http://www.x.gov.cn/download.do?id=1", body=body,
                        headers={"Content-Disposition": disposition.encode("utf-8", "surrogateescape")})
    request = Request(response.url)
    path = AttachmentsPipeline.file_path(AttachmentsPipeline.__new__(AttachmentsPipeline), request, response)
    sha = hashlib.sha256(body).hexdigest()
    assert path == BlobStore.relpath_for(sha)
    store = ContentAddressedStore(str(data_dir))
    # Even a hostile path handed to the store is ignored: the digest decides.
    store.persist_file(filename_from_content_disposition(disposition.encode("utf-8")) or "x", BytesIO(body), None)
    assert _files_under(tmp_path) == {data_dir / BlobStore.relpath_for(sha)}


def test_relpath_rejects_anything_but_a_digest() -> None:
    for bad in ("../../etc/passwd", "a" * 63, "A" * 64, "g" * 64, "a" * 63 + "/"):
        with pytest.raises(ValueError):
            BlobStore.relpath_for(bad)


class _FullDisk:
    """A file object whose disk fills up after ``room`` bytes."""

    def __init__(self, real: Any, room: int) -> None:
        self.real, self.room = real, room

    def write(self, data: bytes) -> int:
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self.real.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def __enter__(self) -> _FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.real.close()


def test_full_disk_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = BlobStore(tmp_path)
    real_fdopen = os.fdopen
    monkeypatch.setattr(blobstore.os, "fdopen", lambda fd, mode: _FullDisk(real_fdopen(fd, mode), room=1500))
    with pytest.raises(OSError) as raised:
        store.put_chunks([b"x" * 1000, b"y" * 1000])
    assert raised.value.errno == errno.ENOSPC
    assert _files_under(tmp_path) == set()  # neither a digest-named file nor a temp file


_SLOW_WRITER = """
import sys, time
from storage.blobstore import BlobStore
def chunks():
    yield b"a" * 4096
    print("writing", flush=True)
    time.sleep(60)
    yield b"b"
BlobStore(sys.argv[1]).put_chunks(chunks())
"""


def test_killed_writer_leaves_only_a_flagged_temp_file(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_WRITER, str(tmp_path)], stdout=subprocess.PIPE,
                            cwd=Path(__file__).resolve().parents[2])
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"writing"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    leftovers = _files_under(tmp_path)
    assert leftovers and all(p.name.startswith(".incoming-") for p in leftovers)
    report = FixityReport()
    _scan_blob_dir(BlobStore(tmp_path), set(), report)
    assert report.incoming and not report.orphans
    assert BlobStore(tmp_path).clean_incoming() == len(leftovers)
