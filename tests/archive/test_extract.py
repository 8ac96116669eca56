"""Text extraction from generated files, with failure reasons and caps."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from storage import mediatype as mt
from storage.extract import Limits, extract_text
from storage.extract.office import DOC_BEST_EFFORT
from tests.archive import samples
from tests.archive.ole2 import biff8_workbook, compound_file, word97


def test_pdf_with_cid_font_gives_chinese_text() -> None:
    result = extract_text(samples.pdf(), mt.PDF)
    assert result.error is None and samples.TITLE in (result.text or "").replace(" ", "")


def test_encrypted_pdf_is_reported() -> None:
    assert extract_text(samples.encrypted_pdf(), mt.PDF).error == "encrypted"
    assert extract_text(samples.encrypted_pdf(), mt.PDF).text is None


def test_owner_password_only_pdf_opens() -> None:
    result = extract_text(samples.encrypted_pdf(password=""), mt.PDF)
    assert result.text and samples.TITLE in result.text.replace(" ", "")


def test_scanned_pdf_has_no_text_layer() -> None:
    result = extract_text(samples.pdf(scanned=True), mt.PDF)
    assert (result.text, result.error) == (None, "no text layer (scanned?)")


def test_docx_paragraphs_and_tables_in_order() -> None:
    text = extract_text(samples.docx(), mt.DOCX).text or ""
    assert text.index(samples.TITLE) < text.index("区应急管理局") < text.index("特此通知")
    assert "0591-88888888" in text


def test_xlsx_values_only() -> None:
    text = extract_text(samples.xlsx(), mt.XLSX).text or ""
    assert "# 名单" in text and "张三" in text and "1200" in text
    assert "=B2*2" not in text  # formulas are not values


def test_xls_through_xlrd() -> None:
    data = biff8_workbook("补助名单", [["姓名", "金额"], ["李四", 800.0]])
    text = extract_text(data, mt.XLS).text or ""
    assert "# 补助名单" in text and "李四" in text and "800" in text


def test_doc_piece_table() -> None:
    result = extract_text(word97("关于开展安全生产检查的通知\r各单位：请按时报送。"), mt.DOC)
    assert result.error is None
    assert result.text == "关于开展安全生产检查的通知\n各单位：请按时报送。"


def test_doc_without_table_stream_falls_back_to_scan() -> None:
    data = compound_file({"WordDocument": b"\0" * 0x800 + "备用扫描的正文内容".encode("utf-16-le")})
    result = extract_text(data, mt.DOC)
    assert result.text == "备用扫描的正文内容" and result.error == DOC_BEST_EFFORT


def test_ofd_text_codes() -> None:
    result = extract_text(samples.ofd(), mt.OFD)
    assert result.text == f"{samples.TITLE}\n第二行文字"


def test_zip_members_text() -> None:
    data = samples.zip_of({"说明.txt": "压缩包里的说明".encode(), "附件.docx": samples.docx(),
                           "scan.jpg": b"\xff\xd8\xff"})
    text = extract_text(data, mt.ZIP).text or ""
    assert "压缩包里的说明" in text and "区应急管理局" in text


def test_zip_bomb_is_capped() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb.txt", b"\0" * (20 * 1024 * 1024))
        zf.writestr("ok.txt", "正常内容".encode())
    limits = Limits(zip_max_total_bytes=8 * 1024 * 1024)
    result = extract_text(out.getvalue(), mt.ZIP, limits=limits)
    assert result.text and "正常内容" in result.text
    assert result.error and "bomb.txt" in result.error
    # the same bomb inside an OOXML container refuses the whole file
    assert "zip bomb" in (extract_text(out.getvalue(), mt.DOCX, limits=limits).error or "")


def test_member_count_cap() -> None:
    data = samples.zip_of({f"{i}.txt": f"第{i}份".encode() for i in range(30)})
    result = extract_text(data, mt.ZIP, limits=Limits(zip_max_members=5))
    assert result.text and result.text.count("## ") == 5 and "over the cap" in (result.error or "")


def test_text_and_input_caps() -> None:
    long = ("很长的文字" * 10_000).encode()
    result = extract_text(long, "text/plain", limits=Limits(max_text_chars=100))
    assert result.text and len(result.text) == 100 and "truncated" in (result.error or "")
    assert "too large" in (extract_text(long, "text/plain", limits=Limits(max_input_bytes=10)).error or "")


def test_garbage_and_unknown_types_give_reasons() -> None:
    assert extract_text(b"%PDF-1.4 garbage", mt.PDF).error
    assert extract_text(b"PK\x03\x04broken", mt.DOCX).error
    assert "no text extraction" in (extract_text(b"\x89PNG", "image/png").error or "")


def test_path_input(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_bytes(samples.ofd())
    assert samples.TITLE in (extract_text(path, mt.OFD).text or "")
