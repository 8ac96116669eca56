"""Media types decided by content, not by the name or the server's header."""

from __future__ import annotations

import pytest

from storage import mediatype as mt
from storage.mediatype import sniff_media_type
from tests.archive import samples
from tests.archive.ole2 import biff8_workbook, compound_file, word97


@pytest.mark.parametrize(("data", "name", "header", "expected"), [
    (samples.pdf(), "notice.doc", "application/msword", mt.PDF),
    (samples.docx(), "附件1.doc", "application/msword", mt.DOCX),  # a .doc that is really DOCX
    (samples.docx(), "download.do", "application/octet-stream", mt.DOCX),
    (samples.xlsx(), "名单.xls", None, mt.XLSX),
    (samples.ofd(), "公文.ofd", "application/octet-stream", mt.OFD),
    (samples.zip_of({"a.txt": b"hello"}), "附件.zip", None, mt.ZIP),
    (word97("正文"), "通知.doc", None, mt.DOC),
    (word97("正文"), "通知.wps", "application/octet-stream", mt.WPS),
    (biff8_workbook("表", [["a"]]), "表.xls", None, mt.XLS),
    (compound_file({"Other": b"x"}), "x.bin", None, mt.OLE2),
    (b"Rar!\x1a\x07\x01\x00" + b"\0" * 20, "a.zip", "application/zip", mt.RAR),
    (b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\0" * 20, "a.7z", None, mt.SEVEN_Z),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 20, "a.jpg", "image/jpeg", "image/png"),
    (b"\xff\xd8\xff\xe0" + b"\0" * 20, "scan", None, "image/jpeg"),
    (b"<!DOCTYPE html><html><body>x</body></html>", "a.pdf", "application/pdf", mt.HTML),
    ("纯文本内容，没有标记。".encode("gb18030"), "说明.txt", None, "text/plain"),
    (b"a,b\n1,2\n", "data.csv", None, "text/csv"),
    (b"\x00\x01\x02\x03binary", "blob.bin", "application/octet-stream", mt.OCTET),
    (b"\x00\x01\x02\x03binary", "x.bin", "application/x-custom", "application/x-custom"),
    (b"", "empty.pdf", None, mt.OCTET),
])
def test_sniff(data: bytes, name: str, header: str | None, expected: str) -> None:
    assert sniff_media_type(data, name, header) == expected


def test_prefix_of_zip_is_still_a_zip() -> None:
    # Without the central directory (only the head) the kind falls back to plain ZIP.
    assert sniff_media_type(samples.docx()[:64], "a.docx", None) == mt.ZIP
