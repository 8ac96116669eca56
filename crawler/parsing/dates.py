"""Chinese date/time strings -> ISO 8601 in China Standard Time (UTC+8).

Returns ``2022-01-04T09:40:00+08:00`` when the text carries a time and a bare
``2022-01-04`` when it carries only a date, so callers never invent a midnight.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

CST = timezone(timedelta(hours=8), "CST")

# Labels that precede dates on list rows and detail pages; removed before matching
# so "日期:2022-01-04" and "发布时间：2022-01-04" parse the same way.
_PREFIX = re.compile(r"(信息提供日期|发布时间|发布日期|成文日期|更新时间|日期|时间)\s*[:：]?")

# Separators may be surrounded by whitespace/newlines (lists split dates over lines).
_DATE = re.compile(
    r"(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)\s*日?"
    r"(?:\s*[T ]?\s*(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2}))?)?"
)
_COMPACT = re.compile(r"(?<!\d)(20\d{2}|19\d{2})(\d{2})(\d{2})(?!\d)")
_EPOCH = re.compile(r"^\s*(\d{10}|\d{13})(?:\.\d+)?\s*$")

_MIN_YEAR, _MAX_YEAR = 1949, 2100


def _iso(y: int, mo: int, d: int, hh: int | None, mi: int | None, ss: int | None) -> str | None:
    if not _MIN_YEAR <= y <= _MAX_YEAR:
        return None
    try:
        day = date(y, mo, d)
        if hh is None or mi is None:
            return day.isoformat()
        return datetime(y, mo, d, hh, mi, ss or 0, tzinfo=CST).isoformat()
    except ValueError:  # 2023-02-30, 25:00 ... impossible dates are rejected
        return None


def from_epoch(value: object) -> str | None:
    """Epoch seconds or milliseconds (int, float or digit string) -> ISO 8601 +08:00."""
    try:
        if isinstance(value, bool):
            return None
        if isinstance(value, str):
            value = float(value.strip())
        if not isinstance(value, int | float):
            return None
        num = float(value)
        if num != num or num <= 0:  # NaN or non-positive
            return None
        if num > 1e11:  # milliseconds: 1e11 s would be year 5138
            num /= 1000.0
        moment = datetime.fromtimestamp(int(num), tz=UTC).astimezone(CST)
    except (ValueError, OverflowError, OSError):
        return None
    if not _MIN_YEAR <= moment.year <= _MAX_YEAR:
        return None
    return moment.isoformat()


def parse_cn_datetime(text: str | None) -> str | None:
    """Parse the first date (with optional time) in ``text``; ``None`` if there is none."""
    if not text or not isinstance(text, str):
        return None
    text = text[:2000]  # dates sit at the start of short fields; bound the regex work
    if _EPOCH.match(text):
        return from_epoch(text)
    cleaned = _PREFIX.sub(" ", text.replace("\u3000", " ").replace("\xa0", " "))
    m = _DATE.search(cleaned)
    if m:
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if m.group(4) is not None and m.group(5) is not None:
            hh, mi = int(m.group(4)), int(m.group(5))
            ss = int(m.group(6)) if m.group(6) else 0
            return _iso(y, mo, d, hh, mi, ss)
        return _iso(y, mo, d, None, None, None)
    m = _COMPACT.search(cleaned)
    if m:
        return _iso(int(m.group(1)), int(m.group(2)), int(m.group(3)), None, None, None)
    return None


def parse_cn_date(text: str | None) -> str | None:
    """Like :func:`parse_cn_datetime` but always a bare date (for 成文日期 etc.)."""
    value = parse_cn_datetime(text)
    return value[:10] if value else None
