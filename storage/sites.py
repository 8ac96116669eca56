"""Sites and columns, mirrored from the registry files."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.clock import as_utc, utcnow
from storage.models import Column, Site

__all__ = ["SiteRowLike", "get_site", "mark_baseline", "mark_baselines", "sync_sites"]


class SiteRowLike(Protocol):
    """A registry ``SiteSpec`` (or anything else) that renders the plain row dict."""

    def as_row(self) -> dict[str, Any]: ...


def _as_row(spec: Mapping[str, Any] | SiteRowLike) -> Mapping[str, Any]:
    return spec if isinstance(spec, Mapping) else spec.as_row()


_SYNC_BATCH = 500  # site ids per query: far below SQLite's and PostgreSQL's parameter limits


def sync_sites(session: Session, registry_sites: Iterable[Mapping[str, Any] | SiteRowLike]) -> dict[str, int]:
    """Upsert sites and their columns from registry rows; return site key → id.

    Never deletes: a site or column dropped from the registry keeps its archive.
    Health and baseline belong to the store and are left alone.
    """
    rows = [_as_row(s) for s in registry_sites]
    keys = [str(r["key"]) for r in rows]
    existing: dict[str, Site] = {}
    if keys:
        existing = {s.key: s for s in session.scalars(select(Site).where(Site.key.in_(keys)))}
    now = utcnow()
    for row in rows:
        site = existing.get(row["key"])
        if site is None:
            site = Site(key=row["key"], created_at=now, health="unknown")
            session.add(site)
            existing[site.key] = site
        site.name = row["name"]
        site.base_url = row["base_url"]
        site.domain = (urlsplit(row["base_url"]).hostname or "").lower()
        site.family = row["family"]
        site.area_code = row.get("area_code")
        site.verified = bool(row.get("verified", True))
        site.overrides = dict(row.get("overrides") or {})
    session.flush()
    # Every column of these sites in one query (one per site cost ~0.2 s at 500 sites, every crawl).
    by_site: dict[int, dict[str, Column]] = {site.id: {} for site in existing.values()}
    for start in range(0, len(keys), _SYNC_BATCH):
        site_ids = [existing[key].id for key in keys[start:start + _SYNC_BATCH]]
        for stored in session.scalars(select(Column).where(Column.site_id.in_(site_ids))):
            by_site[stored.site_id][stored.url] = stored
    for row in rows:
        site = existing[row["key"]]
        columns = by_site[site.id]
        for col in row.get("columns") or []:
            column = columns.get(col["url"])
            if column is None:
                column = Column(site_id=site.id, url=col["url"])
                session.add(column)
                columns[column.url] = column
            column.name = col.get("name") or col["url"]
            column.hints = dict(col.get("hints") or {})
    session.flush()
    return {key: existing[key].id for key in keys}


def get_site(session: Session, site_key: str) -> Site:
    site = session.scalar(select(Site).where(Site.key == site_key))
    if site is None:
        raise LookupError(f"no site {site_key!r} in the store (run `noticewatch sites sync`?)")
    return site


def mark_baseline(session: Session, site_key: str, *, at: datetime | None = None) -> bool:
    """Record that a site's first complete run is done; alerts start after it.

    Returns False when the baseline was already set (it is never moved).
    """
    site = get_site(session, site_key)
    if site.baseline_at is not None:
        return False
    site.baseline_at = as_utc(at) if at is not None else utcnow()
    session.flush()
    return True


def mark_baselines(session: Session, site_keys: Iterable[str], *, at: datetime | None = None) -> int:
    """``mark_baseline`` for many sites in one statement; returns how many got their baseline now."""
    result = session.execute(
        update(Site).where(Site.key.in_(list(site_keys)), Site.baseline_at.is_(None))
        .values(baseline_at=as_utc(at) if at is not None else utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)
