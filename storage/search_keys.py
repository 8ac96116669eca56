"""Index keys and sort keys of a search row (pure Python, shared by both backends).

Every key lives in one index (an FTS5 table on SQLite, a tsvector on PostgreSQL):

* text keys: each character and each pair of adjacent characters of the document
  (``search_text.gram_keys``), 1 or 2 characters long;
* namespaced keys, always 3+ characters so they can never equal a text key:
  ``tt`` + a title gram (title hits, used for ranking), ``oo`` + an issuing-body gram,
  ``nn`` + a document-number gram, ``zzsite<id>``, ``zz<status>`` and ``zzall`` (in
  every row: the candidate set of a query with no positive word).

The sort key orders results "newest first" inside the index itself: on SQLite it is
the FTS rowid, so ``ORDER BY rowid DESC LIMIT n`` walks the matches newest first and
stops after a page instead of ranking every match.
"""

from __future__ import annotations

import re
from datetime import date

from storage.search_text import gram_keys

__all__ = [
    "ALL_KEY",
    "SORT_SHIFT",
    "doc_no_keys",
    "index_keys",
    "minute_bound",
    "org_keys",
    "site_key",
    "sort_key",
    "status_key",
    "title_keys",
]

ALL_KEY = "zzall"
SORT_SHIFT = 32  # sort key = published minute << 32 | notice id (notice ids < 2**32)
_EPOCH = date(1900, 1, 1).toordinal()
_ISO = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2})(?:[T ](\d{1,2}):(\d{2}))?)?)?")


def _minute(value: str | None) -> int:
    """Wall-clock minutes since 1900-01-01 plus one, as written (the offset is ignored so
    that ordering and date filters agree with comparing the ISO strings); 0 = no date."""
    match = _ISO.match(value or "")
    if match is None:
        return 0
    year, month, day, hour, minute = (int(g) if g else None for g in match.groups())
    try:
        ordinal = date(year or 1900, month or 1, day or 1).toordinal()
    except ValueError:
        return 0
    minutes = (ordinal - _EPOCH) * 1440 + (hour or 0) * 60 + (minute or 0) + 1
    return max(0, min(minutes, 2**30))


def sort_key(published_at: str | None, notice_id: int) -> int:
    """Newest-first order key, unique per notice: fits a signed 64-bit integer."""
    return (_minute(published_at) << SORT_SHIFT) | (int(notice_id) & 0xFFFFFFFF)


def minute_bound(value: str) -> int:
    """The sort key at which a ``YYYY[-MM[-DD]]`` date starts (for from:/to: filters)."""
    return _minute(value) << SORT_SHIFT


def site_key(site_id: int) -> str:
    return f"zzsite{int(site_id)}"


def status_key(status: str) -> str:
    return "zz" + "".join(c for c in status.lower() if c.isascii() and c.isalnum())


def title_keys(keys: list[str]) -> list[str]:
    return ["tt" + k for k in keys]


def org_keys(keys: list[str]) -> list[str]:
    return ["oo" + k for k in keys]


def doc_no_keys(keys: list[str]) -> list[str]:
    return ["nn" + k for k in keys]


def index_keys(*, doc: str, title: str, issuing_org: str | None, doc_no: str | None,
               site_id: int, status: str) -> list[str]:
    """Every key of one search row (its columns as stored: already normalised)."""
    keys = gram_keys(doc)
    keys += title_keys(gram_keys(title))
    keys += org_keys(gram_keys(issuing_org or ""))
    keys += doc_no_keys(gram_keys(doc_no or ""))
    keys += [site_key(site_id), status_key(status), ALL_KEY]
    return keys
