"""Time helpers shared by the repository modules.

Everything is stored in UTC. SQLite has no time zone type: SQLAlchemy writes the wall
clock and reads back naive values, so every value is converted to UTC before it is
written and naive values read back are taken as UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

CST = timezone(timedelta(hours=8), "CST")  # China Standard Time, every site's clock


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Aware UTC; naive values (SQLite read-back, careless callers) are taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_cst_iso(value: datetime | None) -> str | None:
    """ISO 8601 with the +08:00 offset, as exported and displayed."""
    if value is None:
        return None
    return as_utc(value).astimezone(CST).isoformat()
