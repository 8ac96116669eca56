"""Office formats: DOCX (python-docx), DOC/WPS (OLE2 piece table, else a UTF-16 scan),
XLSX (openpyxl, read-only, values only), XLS (xlrd); plus HTML and plain text."""

from __future__ import annotations

import contextlib
import io
import re
import struct

import olefile

from . import Budget, ExtractResult, Truncated
from ._text import Collector
from .archive import check_zip

DOC_BEST_EFFORT = "legacy .doc: best effort"


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", "replace")


def extract_plain(data: bytes, budget: Budget, depth: int = 0) -> ExtractResult:
    out = Collector(budget)
    with contextlib.suppress(Truncated):
        out.add(_decode(data))
    return out.result()


def extract_html(data: bytes, budget: Budget, depth: int = 0) -> ExtractResult:
    import lxml.html

    root = lxml.html.document_fromstring(_decode(data))
    for bad in root.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    out = Collector(budget)
    with contextlib.suppress(Truncated):
        out.add(root.text_content())
    return out.result()


def extract_docx(data: bytes, budget: Budget, depth: int = 0) -> ExtractResult:
    import docx
    from docx.table import Table

    check_zip(data, budget.limits)
    document = docx.Document(io.BytesIO(data))
    out = Collector(budget)
    try:
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                for row in block.rows:
                    cells: list[str] = []
                    for cell in row.cells:
                        text = cell.text.strip()
                        if not cells or cells[-1] != text:  # merged cells repeat their text
                            cells.append(text)
                    out.add("\t".join(cells))
            else:
                out.add(block.text)
    except Truncated:
        pass
    return out.result()


def extract_xlsx(data: bytes, budget: Budget, depth: int = 0) -> ExtractResult:
    import openpyxl

    check_zip(data, budget.limits)
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    out = Collector(budget)
    try:
        for sheet in workbook.worksheets:
            out.add(f"# {sheet.title}")
            for row in sheet.iter_rows(values_only=True):
                values = [_cell(v) for v in row]
                if any(values):
                    out.add("\t".join(values).rstrip("\t"))
    except Truncated:
        pass
    finally:
        workbook.close()
    return out.result()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def extract_xls(data: bytes, budget: Budget, depth: int = 0) -> ExtractResult:
    import xlrd

    book = xlrd.open_workbook(file_contents=data, on_demand=True)
    out = Collector(budget)
    try:
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            out.add(f"# {sheet.name}")
            for r in range(sheet.nrows):
                values = [_cell(v) for v in sheet.row_values(r)]
                if any(values):
                    out.add("\t".join(values).rstrip("\t"))
            book.unload_sheet(index)
    except Truncated:
        pass
    finally:
        book.release_resources()
    return out.result()


# -- legacy Word (.doc / .wps) ------------------------------------------------------------

_FC_CLX = 0x1A2  # FibRgFcLcb97.fcClx, for the common 97+ FIB layout
_RUN = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef0-9A-Za-z .,;:()\-_/%《》“”、，。：；（）\t\r\n]{4,}")


def _piece_table_text(word: bytes, table: bytes) -> str | None:
    """Text of a Word 97+ document from its piece table (MS-DOC 2.4.1), or None."""
    csw = struct.unpack_from("<H", word, 32)[0]
    offset = 34 + csw * 2
    cslw = struct.unpack_from("<H", word, offset)[0]
    offset += 2 + cslw * 4 + 2  # past fibRgLw and cbRgFcLcb
    fc_clx, lcb_clx = struct.unpack_from("<II", word, offset + 33 * 8)
    if lcb_clx == 0 or fc_clx + lcb_clx > len(table):
        return None
    clx = table[fc_clx:fc_clx + lcb_clx]
    pos = 0
    while pos < len(clx) and clx[pos] == 0x01:  # Prc entries (formatting): skip
        pos += 3 + struct.unpack_from("<H", clx, pos + 1)[0]
    if pos >= len(clx) or clx[pos] != 0x02:
        return None
    lcb = struct.unpack_from("<I", clx, pos + 1)[0]
    plc = clx[pos + 5:pos + 5 + lcb]
    count = (len(plc) - 4) // 12
    cps = struct.unpack_from(f"<{count + 1}I", plc, 0)
    parts = []
    for i in range(count):
        fc = struct.unpack_from("<I", plc, (count + 1) * 4 + i * 8 + 2)[0]
        chars = cps[i + 1] - cps[i]
        if fc & 0x40000000:  # compressed: 8-bit cp1252 at fc/2
            start = (fc & 0x3FFFFFFF) // 2
            parts.append(word[start:start + chars].decode("cp1252", "replace"))
        else:
            parts.append(word[fc:fc + 2 * chars].decode("utf-16-le", "replace"))
    text = "".join(parts)
    # Field codes and cell marks are control characters: map them to separators.
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "\n", text.replace("\r", "\n"))


def extract_doc(data: bytes, budget: Budget, depth: int = 0) -> ExtractResult:
    ole = olefile.OleFileIO(io.BytesIO(data))
    try:
        if not ole.exists("WordDocument"):
            return ExtractResult(None, "not a Word document (no WordDocument stream)")
        word = ole.openstream("WordDocument").read()
        flags = struct.unpack_from("<H", word, 0x0A)[0]
        if flags & 0x0100:  # fEncrypted
            return ExtractResult(None, "encrypted")
        table_name = "1Table" if flags & 0x0200 else "0Table"
        table = ole.openstream(table_name).read() if ole.exists(table_name) else b""
    finally:
        ole.close()
    out = Collector(budget)
    note = None
    try:
        text = _piece_table_text(word, table) if table else None
    except (struct.error, IndexError, ValueError):
        text = None
    try:
        if text and text.strip():
            out.add(text)
        else:
            note = DOC_BEST_EFFORT
            for match in _RUN.finditer(word.decode("utf-16-le", "replace")):
                out.add(match.group())
    except Truncated:
        pass
    return out.result(note=note)
