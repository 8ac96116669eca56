"""Media types by content: a ``.doc`` that is really DOCX is DOCX, a ``.wps`` is an OLE2 file.

Government sites label files carelessly (``application/octet-stream``, a ``.doc`` name
on OOXML bytes, ``text/html`` on a PDF), so the bytes decide; the name and the header
only break ties the bytes leave open (plain text, or an OLE2 file whose streams say
little).
"""

from __future__ import annotations

import io
import mimetypes
import zipfile
from pathlib import PurePosixPath

import olefile

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
DOC = "application/msword"
XLS = "application/vnd.ms-excel"
PPT = "application/vnd.ms-powerpoint"
WPS = "application/vnd.ms-works"  # Kingsoft WPS writer files are OLE2 with a WordDocument-like layout
OLE2 = "application/x-ole-storage"
OFD = "application/ofd"
ZIP = "application/zip"
RAR = "application/vnd.rar"
SEVEN_Z = "application/x-7z-compressed"
GZIP = "application/gzip"
HTML = "text/html"
TEXT = "text/plain"
XML = "application/xml"
OCTET = "application/octet-stream"

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", PDF),
    (b"Rar!\x1a\x07", RAR),
    (b"7z\xbc\xaf\x27\x1c", SEVEN_Z),
    (b"\x1f\x8b", GZIP),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)

__all__ = ["sniff_media_type", "DOCX", "XLSX", "PPTX", "DOC", "XLS", "OFD", "PDF", "ZIP", "WPS"]


def _extension(name: str) -> str:
    return PurePosixPath(name.replace("\\", "/")).suffix.lower().lstrip(".")


def _zip_kind(data: bytes) -> str | None:
    """Classify a complete ZIP by its member names (needs the whole file: the directory is at the end)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    if "[Content_Types].xml" in names:
        if any(n.startswith("word/") for n in names):
            return DOCX
        if any(n.startswith("xl/") for n in names):
            return XLSX
        if any(n.startswith("ppt/") for n in names):
            return PPTX
    if "OFD.xml" in names or any(n.lower() == "ofd.xml" for n in names):
        return OFD
    if "mimetype" in names:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                declared = zf.read("mimetype")[:100].decode("ascii", "replace").strip()
        except (zipfile.BadZipFile, OSError, KeyError):
            declared = ""
        if declared:
            return declared  # OpenDocument, EPUB: they name themselves
    return ZIP


def _ole_kind(data: bytes, ext: str) -> str:
    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except (OSError, ValueError):
        return OLE2
    try:
        streams = {"/".join(entry).lower() for entry in ole.listdir(streams=True, storages=False)}
    finally:
        ole.close()
    if "worddocument" in streams:
        return WPS if ext == "wps" else DOC
    if "workbook" in streams or "book" in streams:
        return XLS
    if "powerpoint document" in streams:
        return PPT
    if ext == "wps":
        return WPS
    return OLE2


def _looks_textual(head: bytes) -> bool:
    sample = head[:4096]
    if not sample or b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 3:
            return True  # a multibyte character cut at the sample's end
    try:
        sample.decode("gb18030")
        return True
    except UnicodeDecodeError:
        return False


def sniff_media_type(head: bytes, name: str = "", header_type: str | None = None) -> str:
    """The media type of a file from its bytes, falling back to the name, then the header.

    ``head`` should be the whole file when it may be a ZIP or OLE2 container (their
    directories are not at the start); with only a prefix those come out as plain
    ``application/zip`` / ``application/x-ole-storage``.
    """
    ext = _extension(name)
    header = (header_type or "").split(";")[0].strip().lower() or None
    for magic, media_type in _SIGNATURES:
        if head.startswith(magic):
            return media_type
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _zip_kind(head) or ZIP
    if head.startswith(_OLE_MAGIC):
        return _ole_kind(head, ext)
    stripped = head[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<meta", b"<title")):
        return HTML
    if stripped.startswith(b"<?xml"):
        return HTML if b"<html" in head[:2048].lower() else XML
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return TEXT
    if _looks_textual(head):
        guessed = mimetypes.guess_type(f"x.{ext}")[0] if ext else None
        if guessed and (guessed.startswith("text/") or guessed in ("application/json", "application/xml")):
            return guessed
        if header and header.startswith("text/"):
            return header
        return TEXT
    if not head:
        return header or OCTET
    # Unknown binary: trust a specific header, then the name.
    if header and header not in (OCTET, "application/x-download", "application/force-download",
                                 "application/download", "binary/octet-stream"):
        return header
    guessed = mimetypes.guess_type(f"x.{ext}")[0] if ext else None
    return guessed or OCTET
