"""Generated sample files for the media-type and extraction tests."""

from __future__ import annotations

import io
import zipfile

TITLE = "关于做好2024年防汛防台风工作的通知"


def pdf(text: str = TITLE, *, scanned: bool = False) -> bytes:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=True)
    if scanned:
        c.rect(50, 50, 400, 600, fill=1)  # an image-like page: no text operators at all
    else:
        c.setFont("STSong-Light", 14)
        c.drawString(60, 780, text)
    c.showPage()
    c.save()
    return buf.getvalue()


def encrypted_pdf(password: str = "secret") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf())))
    writer.encrypt(user_password=password, owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx() -> bytes:
    import docx as python_docx

    document = python_docx.Document()
    document.add_paragraph(TITLE)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "单位", "联系电话"
    table.cell(1, 0).text, table.cell(1, 1).text = "区应急管理局", "0591-88888888"
    document.add_paragraph("特此通知。")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx() -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "名单"
    sheet.append(["姓名", "补助金额"])
    sheet.append(["张三", 1200])
    sheet["C2"] = "=B2*2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def zip_of(members: dict[str, bytes], *, utf8_names: bool = True) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def ofd(text: str = TITLE) -> bytes:
    content = ('<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="http://www.ofdspec.org/2016">'
               '<ofd:Content><ofd:Layer ID="1"><ofd:TextObject ID="2" Boundary="0 0 100 10" Font="3" Size="5">'
               f'<ofd:TextCode X="0" Y="5">{text}</ofd:TextCode></ofd:TextObject>'
               '<ofd:TextObject ID="4" Boundary="0 10 100 10" Font="3" Size="5">'
               '<ofd:TextCode X="0" Y="5">第二行文字</ofd:TextCode></ofd:TextObject></ofd:Layer>'
               '</ofd:Content></ofd:Page>')
    return zip_of({"OFD.xml": b'<?xml version="1.0"?><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"/>',
                   "Doc_0/Document.xml": b"<ofd:Document/>",
                   "Doc_0/Pages/Page_0/Content.xml": content.encode("utf-8")})
