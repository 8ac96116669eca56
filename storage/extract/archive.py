"""Text inside ZIP archives, with zip-bomb defences checked on the directory before reading."""

from __future__ import annotations

import contextlib
import io
import zipfile
from pathlib import PurePosixPath

from . import Budget, ExtractResult, Limits, Truncated
from ._text import Collector

_INNER_TYPES = {
    ".txt": "text/plain", ".htm": "text/html", ".html": "text/html", ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".doc": "application/msword", ".xls": "application/vnd.ms-excel", ".ofd": "application/ofd",
}


class ZipBomb(ValueError):
    pass


def check_zip(data: bytes, limits: Limits) -> None:
    """Refuse a ZIP whose directory promises too many members, too many bytes or a wild ratio."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
    if len(infos) > max(limits.zip_max_members * 50, 10_000):
        raise ZipBomb(f"zip bomb suspected: {len(infos)} members")
    total = sum(i.file_size for i in infos)
    if total > limits.zip_max_total_bytes:
        raise ZipBomb(f"zip bomb suspected: {total} bytes uncompressed")
    if total > 1024 * 1024 and total / max(len(data), 1) > limits.zip_max_ratio:
        raise ZipBomb(f"zip bomb suspected: compression ratio {total / max(len(data), 1):.0f}")


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    """Read a member, never inflating more than ``cap`` bytes whatever its header claims."""
    with zf.open(info) as fh:
        data = fh.read(cap + 1)
    if len(data) > cap:
        raise ZipBomb(f"zip bomb suspected: {info.filename} inflates past {cap} bytes")
    return data


def _name(info: zipfile.ZipInfo) -> str:
    name = info.filename
    if not info.flag_bits & 0x800:  # not flagged UTF-8: Chinese archivers write GBK
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            name = name.encode("cp437").decode("gb18030")
    return name


def extract_zip(data: bytes, budget: Budget, depth: int = 0) -> ExtractResult:
    from . import extract_text

    limits = budget.limits
    out = Collector(budget)
    skipped: list[str] = []
    inflated = 0
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > limits.zip_max_members:
            skipped.append(f"{len(infos) - limits.zip_max_members} members over the cap")
            infos = infos[:limits.zip_max_members]
        try:
            for info in infos:
                name = _name(info)
                media_type = _INNER_TYPES.get(PurePosixPath(name).suffix.lower())
                if media_type is None:
                    continue
                if depth >= limits.zip_max_depth and media_type == "application/zip":
                    continue
                room = limits.zip_max_total_bytes - inflated
                if info.file_size > room:
                    skipped.append(f"{name}: over the size cap")
                    continue
                if info.compress_size and info.file_size / info.compress_size > limits.zip_max_ratio \
                        and info.file_size > 1024 * 1024:
                    skipped.append(f"{name}: compression ratio too high")
                    continue
                try:
                    member = _read_capped(zf, info, room)
                except ZipBomb as exc:
                    skipped.append(str(exc))
                    continue
                inflated += len(member)
                inner = extract_text(member, media_type, limits=limits, depth=depth + 1)
                if inner.text:
                    out.add(f"## {name}\n{inner.text}")
                if budget.expired():
                    raise Truncated("time cap")
        except Truncated:
            pass
    note = ("skipped: " + "; ".join(skipped)[:500]) if skipped else None
    return out.result(note=note, empty_error=note or "no extractable files in the archive")
