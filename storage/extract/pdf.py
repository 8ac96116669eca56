"""PDF text through pypdf; encrypted files and image-only scans are reported, not guessed at."""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader

from . import Budget, ExtractResult, Truncated
from ._text import Collector

SCANNED = "no text layer (scanned?)"
ENCRYPTED = "encrypted"


def extract_pdf(data: bytes, budget: Budget, depth: int = 0) -> ExtractResult:
    # pypdf logs every malformed object it recovers from; government PDFs have many.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        try:
            # Owner-password-only files open with an empty user password.
            opened = bool(reader.decrypt(""))
        except Exception:  # noqa: BLE001 - unsupported algorithms land here too
            opened = False
        if not opened:
            return ExtractResult(None, ENCRYPTED)
    out = Collector(budget)
    try:
        for page in reader.pages:
            out.add(page.extract_text() or "")
    except Truncated:
        pass
    return out.result(empty_error=SCANNED)
