"""Turning response bytes into text, and Content-Disposition into a display name.

Order: BOM (unambiguous, as browsers do), then the HTTP header charset, then a
``<meta>`` declaration, then detection. Declared GB2312/GBK is decoded as GB18030
because old pages declare gb2312 but use characters only GBK/GB18030 have (镕).
A page declared UTF-8 whose bytes are not valid UTF-8 is mislabelled: we detect.
"""

from __future__ import annotations

import codecs
import re
from urllib.parse import unquote_to_bytes

from charset_normalizer import from_bytes

_GB_ALIASES = {
    "gb2312", "gbk", "gb_2312-80", "gb_2312", "gb-2312", "csgb2312", "x-gbk",
    "cp936", "ms936", "windows-936", "euc-cn", "iso-ir-58", "chinese", "gb18030",
}  # fmt: skip
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:+-]+)", re.I)
_META_CHARSET = re.compile(rb"<meta[^>]+?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:+-]+)", re.I)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def normalise_encoding(name: str | None) -> str | None:
    """Map a declared charset to a Python codec name, or ``None`` if unknown."""
    if not name:
        return None
    label = name.strip().strip("\"'").lower()
    if label in _GB_ALIASES:
        return "gb18030"
    if label in {"utf8", "unicode-1-1-utf-8", "x-unicode20utf8"}:
        label = "utf-8"
    try:
        info = codecs.lookup(label)
    except LookupError:
        return None
    if not getattr(info, "_is_text_encoding", True):
        return None  # rot13, base64 ... are codecs but not text encodings
    codec = info.name
    if codec == "utf-7":
        return None  # browsers refuse UTF-7 (WHATWG Encoding); it smuggles markup past filters
    # Browsers treat latin-1/ascii declarations as windows-1252.
    if codec in {"latin-1", "iso8859-1", "ascii"}:
        return "cp1252"
    return "gb18030" if codec in {"gb2312", "gbk"} else codec


def _is_utf8(codec: str) -> bool:
    return codec.replace("_", "-") in {"utf-8", "utf-8-sig"}


def _strict(body: bytes, codec: str) -> str | None:
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _detect(body: bytes) -> tuple[str, str]:
    text = _strict(body, "utf-8")
    if text is not None:
        return text, "utf-8"
    guess: str | None = None
    try:
        best = from_bytes(body[:200_000]).best()
        guess = normalise_encoding(best.encoding) if best is not None else None
    except Exception:  # detection is best effort; never fail a page on it
        guess = None
    # These sites are Chinese: anything detection cannot name is most likely GB.
    codec = guess or "gb18030"
    return body.decode(codec, errors="replace"), codec


def declared_encoding(body: bytes, content_type: str | None) -> str | None:
    """The charset from the header, else from a ``<meta>`` tag in the first 4 KiB."""
    if content_type:
        m = _HEADER_CHARSET.search(content_type)
        codec = normalise_encoding(m.group(1)) if m else None
        if codec:
            return codec
    m2 = _META_CHARSET.search(body[:4096])
    if m2:
        return normalise_encoding(m2.group(1).decode("ascii", "replace"))
    return None


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode a page; returns ``(text, codec used)``. Never raises."""
    if not isinstance(body, bytes | bytearray):
        return "", "utf-8"
    body = bytes(body)
    for bom, bom_codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(bom_codec, errors="replace"), bom_codec
    if not isinstance(content_type, str):
        content_type = None
    codec = declared_encoding(body, content_type)
    if codec is None:
        return _detect(body)
    text = _strict(body, codec)
    if text is not None:
        return text, codec
    if _is_utf8(codec):
        return _detect(body)  # mislabelled UTF-8 page (usually GBK bytes)
    # Declared a legacy codec but the bytes are clean UTF-8: the declaration is stale.
    utf = _strict(body, "utf-8")
    if utf is not None and any(b >= 0x80 for b in body):
        return utf, "utf-8"
    return body.decode(codec, errors="replace"), codec


# --- Content-Disposition -------------------------------------------------------

_EXT_VALUE = re.compile(r"filename\*\s*=\s*([A-Za-z0-9_-]*)'[^']*'([^;\s]+)", re.I)
_QUOTED = re.compile(r'(?<![*\w])filename\s*=\s*"((?:[^"\\]|\\.)*)"', re.I)
_TOKEN = re.compile(r"(?<![*\w])filename\s*=\s*([^;\"]+)", re.I)
_PCT = re.compile(r"%[0-9A-Fa-f]{2}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _bytes_to_text(raw: bytes) -> str:
    for codec in ("utf-8", "gb18030"):
        text = _strict(raw, codec)
        if text is not None:
            return text
    return raw.decode("utf-8", errors="replace")


def _display_name(name: str) -> str | None:
    # A display name only: drop any path the server put in, and control characters.
    name = _CONTROL.sub("", name).replace("\\", "/").rsplit("/", 1)[-1].strip().strip(".")
    return name or None


def filename_from_content_disposition(header: bytes | str | None) -> str | None:
    """File name from a Content-Disposition header (RFC 6266/5987, raw GBK, %-encoded)."""
    if not header:
        return None
    if isinstance(header, bytes | bytearray):
        text = _bytes_to_text(bytes(header))
    elif isinstance(header, str):
        text = header
        # Headers decoded as latin-1 by an HTTP library hide raw UTF-8/GBK bytes.
        if any("\x80" <= ch <= "\xff" for ch in text) and all(ord(ch) < 256 for ch in text):
            text = _bytes_to_text(text.encode("latin-1"))
    else:
        return None
    m = _EXT_VALUE.search(text)
    if m:
        charset = normalise_encoding(m.group(1)) or "utf-8"
        raw = unquote_to_bytes(m.group(2).strip("\"'"))
        decoded = _strict(raw, charset) or _bytes_to_text(raw)
        name = _display_name(decoded)
        if name:
            return name
    value: str | None = None
    mq = _QUOTED.search(text)
    if mq:
        value = re.sub(r"\\(.)", r"\1", mq.group(1))
    else:
        mt = _TOKEN.search(text)
        if mt:
            value = mt.group(1).strip()
    if value is None:
        return None
    if _PCT.search(value):  # many Chinese servers %-encode UTF-8 inside filename=
        value = _bytes_to_text(unquote_to_bytes(value))
    return _display_name(value)
