"""Real attachment files, generated deterministically and cached in memory.

PDFs use reportlab's built-in CID font STSong-Light so text extraction finds the
Chinese words; ``.doc`` files are DOCX bytes (as many real sites serve them); the OFD
is a minimal ZIP with ``OFD.xml`` and a page ``Content.xml``.
"""

from __future__ import annotations

import io
import threading
import zipfile
from typing import Protocol

from .model import Attachment

_cache: dict[tuple[str, int, str], bytes] = {}
_lock = threading.Lock()
# ZIP entries carry a timestamp; pin it so the bytes (and ETags) never change.
_ZIP_TIME = (2022, 1, 4, 9, 40, 0)

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "doc": "application/msword",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
    "ofd": "application/ofd",
}


def file_bytes(att: Attachment) -> bytes:
    key = (att.key, att.version, att.kind)
    with _lock:
        if key in _cache:
            return _cache[key]
    data = _BUILDERS[att.kind](att.title)
    with _lock:
        _cache[key] = data
    return data


def _pdf(text: str) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    # invariant=True drops the creation date and random ID: same text, same bytes.
    c = canvas.Canvas(buf, pagesize=A4, invariant=True)
    c.setTitle(text)
    c.setFont("STSong-Light", 14)
    y = 780
    for line in (text, "本文件由演示网站生成，仅供测试。", "附件内容：政府信息公开"):
        c.drawString(60, y, line[:38])
        y -= 28
    c.showPage()
    c.save()
    return buf.getvalue()


def _docx(text: str) -> bytes:
    import docx

    d = docx.Document()
    d.core_properties.title = text
    # python-docx stamps "now" into core properties; pin them for stable bytes.
    from datetime import datetime

    d.core_properties.created = d.core_properties.modified = datetime(2022, 1, 4, 9, 40)
    d.add_heading(text, level=1)
    d.add_paragraph("申请人姓名：________  联系电话：________")
    d.add_paragraph("本表由演示网站生成，仅供测试。")
    return _repin_zip(_save(d))


def _xlsx(text: str) -> bytes:
    from datetime import datetime

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "名单"
    ws.append([text])
    ws.append(["序号", "姓名", "单位", "金额（元）"])
    for i, name in enumerate(("张三", "李四", "王五"), 1):
        ws.append([i, name, "某某街道", 1500 * i])
    wb.properties.created = wb.properties.modified = datetime(2022, 1, 4, 9, 40)
    return _repin_zip(_save(wb))


def _zip(text: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(_info("说明.txt"), (text + "\n材料汇编说明。\n").encode())
    return buf.getvalue()


def _ofd(text: str) -> bytes:
    ofd_xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" '
               'Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocInfo><ofd:DocID>demo</ofd:DocID>'
               f'<ofd:Title>{_esc(text)}</ofd:Title></ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml'
               '</ofd:DocRoot></ofd:DocBody></ofd:OFD>')
    doc_xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Document xmlns:ofd="http://www.ofdspec.org/2016">'
               '<ofd:CommonData><ofd:MaxUnitID>10</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 210 297'
               '</ofd:PhysicalBox></ofd:PageArea></ofd:CommonData><ofd:Pages><ofd:Page ID="1" '
               'BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages></ofd:Document>')
    page_xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Page xmlns:ofd="http://www.ofdspec.org/2016">'
                '<ofd:Content><ofd:Layer ID="2"><ofd:TextObject ID="3" Boundary="20 20 170 10" Font="4" '
                f'Size="5"><ofd:TextCode X="0" Y="5">{_esc(text)}</ofd:TextCode></ofd:TextObject>'
                '</ofd:Layer></ofd:Content></ofd:Page>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in (("OFD.xml", ofd_xml), ("Doc_0/Document.xml", doc_xml),
                           ("Doc_0/Pages/Page_0/Content.xml", page_xml)):
            z.writestr(_info(name), body.encode())
    return buf.getvalue()


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _Saveable(Protocol):
    """python-docx ``Document`` and openpyxl ``Workbook``: both save to a stream."""

    def save(self, stream: io.BytesIO, /) -> object: ...


def _save(obj: _Saveable) -> bytes:
    buf = io.BytesIO()
    obj.save(buf)
    return buf.getvalue()


def _info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, _ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED  # ZipInfo defaults to STORED
    return info


def _repin_zip(data: bytes) -> bytes:
    """Rewrite a ZIP with fixed member timestamps so regenerated files are identical."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            z.writestr(_info(info.filename), src.read(info.filename))
    return buf.getvalue()


_BUILDERS = {"pdf": _pdf, "docx": _docx, "doc": _docx, "xlsx": _xlsx, "zip": _zip, "ofd": _ofd}
