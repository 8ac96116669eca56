"""Text from attachments, for search: PDF, DOCX, DOC (best effort), XLSX, XLS, OFD, ZIP.

``extract_text`` never raises for a bad file: it returns ``ExtractResult(text, error)``
with the reason in ``error`` (``"encrypted"``, ``"no text layer (scanned?)"``, a parse
error), so the archive records why a file has no text. Caps bound the input size, the
text kept and the time spent (checked between pages/rows, so a single pathological
page can overrun it a little).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from storage import mediatype as mt

__all__ = ["ExtractResult", "Limits", "extract_text", "EXTRACTABLE"]


@dataclass(frozen=True, slots=True)
class ExtractResult:
    text: str | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Limits:
    max_input_bytes: int = 64 * 1024 * 1024
    max_text_chars: int = 2_000_000
    max_seconds: float = 30.0
    # ZIP: bomb defences.
    zip_max_members: int = 200
    zip_max_total_bytes: int = 64 * 1024 * 1024
    zip_max_ratio: float = 100.0
    zip_max_depth: int = 1


class Budget:
    """Time and size left for one extraction."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.deadline = time.monotonic() + limits.max_seconds
        self.chars = 0

    def expired(self) -> bool:
        return time.monotonic() > self.deadline

    def take(self, text: str) -> str | None:
        """Account for ``text``; None once the text cap is reached."""
        room = self.limits.max_text_chars - self.chars
        if room <= 0:
            return None
        piece = text[:room]
        self.chars += len(piece)
        return piece


class Truncated(Exception):
    """Raised inside an extractor when a cap is hit; the text so far is kept."""


Extractor = Callable[[bytes, Budget, int], ExtractResult]


def _dispatch() -> dict[str, Extractor]:
    from . import archive, ofd, office, pdf

    return {
        mt.PDF: pdf.extract_pdf,
        mt.DOCX: office.extract_docx,
        mt.DOC: office.extract_doc,
        mt.WPS: office.extract_doc,
        mt.XLSX: office.extract_xlsx,
        mt.XLS: office.extract_xls,
        mt.OFD: ofd.extract_ofd,
        mt.ZIP: archive.extract_zip,
        mt.HTML: office.extract_html,
        mt.TEXT: office.extract_plain,
    }


EXTRACTABLE = frozenset({mt.PDF, mt.DOCX, mt.DOC, mt.WPS, mt.XLSX, mt.XLS, mt.OFD, mt.ZIP, mt.HTML, mt.TEXT})


def extract_text(source: bytes | str | os.PathLike[str], media_type: str, *, limits: Limits | None = None,
                 depth: int = 0) -> ExtractResult:
    """Text of ``source`` (bytes or a file path) of type ``media_type``."""
    limits = limits or Limits()
    extractor = _dispatch().get(media_type.split(";")[0].strip().lower())
    if extractor is None:
        return ExtractResult(None, f"no text extraction for {media_type}")
    if isinstance(source, bytes):
        data = source
    else:
        path = Path(source)
        size = path.stat().st_size
        if size > limits.max_input_bytes:
            return ExtractResult(None, f"too large to extract ({size} bytes)")
        data = path.read_bytes()
    if len(data) > limits.max_input_bytes:
        return ExtractResult(None, f"too large to extract ({len(data)} bytes)")
    budget = Budget(limits)
    try:
        return extractor(data, budget, depth)
    except Exception as exc:  # noqa: BLE001 - a hostile file must never stop the crawl
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        return ExtractResult(None, f"{type(exc).__name__}: {reason}" if reason else type(exc).__name__)
