"""Crawl runs, their fetch errors, and the per-site run lease."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from storage.clock import as_utc, utcnow
from storage.models import CrawlRun, FetchError, RunLock, Site
from storage.sites import get_site

__all__ = [
    "acquire_lock",
    "acquire_locks",
    "finish_run",
    "get_run",
    "held_leases",
    "list_runs",
    "record_fetch_error",
    "release_lock",
    "release_locks",
    "runs_of_cycle",
    "start_run",
]


def start_run(session: Session, *, site_key: str | None, trigger: str) -> CrawlRun:
    """Open a run row (status ``running``); flushed so the caller can hand out its id."""
    site_id = get_site(session, site_key).id if site_key is not None else None
    run = CrawlRun(
        site_id=site_id, started_at=utcnow(), trigger=trigger, status="running", counts={}, stats={}
    )
    session.add(run)
    session.flush()
    return run


def finish_run(
    session: Session,
    run_id: int,
    *,
    status: str,
    counts: dict[str, Any],
    stats: dict[str, Any],
    error: str | None = None,
) -> CrawlRun:
    run = session.get(CrawlRun, run_id)
    if run is None:
        raise LookupError(f"no crawl run {run_id}")
    run.status = status
    # New dicts, not in-place updates: plain JSON columns do not track mutation.
    run.counts = dict(counts)
    run.stats = dict(stats)
    run.error = error
    run.finished_at = utcnow()
    session.flush()
    return run


def record_fetch_error(
    session: Session, *, run_id: int | None, site_key: str | None, url: str, kind: str, detail: str
) -> FetchError:
    site_id = None
    if site_key is not None:
        site_id = session.scalar(select(Site.id).where(Site.key == site_key))
    err = FetchError(run_id=run_id, site_id=site_id, url=url, kind=kind, detail=detail, at=utcnow())
    session.add(err)
    session.flush()
    return err


def list_runs(session: Session, limit: int = 50) -> list[CrawlRun]:
    """Newest first, with their site loaded (the runs page shows the key)."""
    stmt = (
        select(CrawlRun)
        .options(selectinload(CrawlRun.site))
        .order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def get_run(session: Session, run_id: int) -> CrawlRun | None:
    """One run with ``site`` and ``fetch_errors`` loaded."""
    stmt = (
        select(CrawlRun)
        .where(CrawlRun.id == run_id)
        .options(selectinload(CrawlRun.site), selectinload(CrawlRun.fetch_errors))
    )
    return session.scalar(stmt)


def acquire_lock(
    session: Session, *, name: str, holder: str, ttl: timedelta, now: datetime | None = None
) -> bool:
    """Take (or renew) the lease ``name`` for ``holder`` until ``now + ttl``.

    One atomic statement, so two processes or machines can race safely: the row is
    inserted, or — only if the current lease has expired or is already ours — taken
    over. ``RETURNING`` yields a row exactly when we hold the lease afterwards.
    ``now`` exists for tests; leases compare database-stored UTC times, so hosts need
    roughly synchronised clocks (a TTL of minutes absorbs ordinary drift).
    """
    return bool(acquire_locks(session, names=[name], holder=holder, ttl=ttl, now=now))


# Leases per statement: 4 bound parameters each, far below SQLite's and psycopg's limits.
_LOCK_BATCH = 250


def acquire_locks(
    session: Session, *, names: Sequence[str], holder: str, ttl: timedelta, now: datetime | None = None
) -> set[str]:
    """Take (or renew) each lease in ``names`` for ``holder``; returns the names now held.

    Every lease stays its own row with the semantics of ``acquire_lock`` (taken when free,
    expired or already ours); a crawl of 500 sites just does it in a few multi-row
    statements instead of 500 transactions. Names are taken in sorted order, so two
    hosts racing for overlapping sets on PostgreSQL wait on each other, never deadlock.
    """
    now = as_utc(now) if now is not None else utcnow()
    dialect = session.get_bind().dialect.name
    ins: Any
    if dialect == "postgresql":
        ins = postgresql.insert(RunLock)
    elif dialect == "sqlite":
        ins = sqlite.insert(RunLock)
    else:  # pragma: no cover - only the two supported databases
        raise NotImplementedError(f"run locks are not implemented for {dialect}")
    held: set[str] = set()
    ordered = sorted(set(names))
    for start in range(0, len(ordered), _LOCK_BATCH):
        rows = [{"name": name, "holder": holder, "acquired_at": now, "expires_at": now + ttl}
                for name in ordered[start:start + _LOCK_BATCH]]
        held.update(session.scalars(_lock_upsert(ins, rows, holder=holder, now=now)))
    return held


def _lock_upsert(ins: Any, rows: list[dict[str, Any]], *, holder: str, now: datetime) -> Any:
    return (
        ins.values(rows)
        .on_conflict_do_update(
            index_elements=[RunLock.name],
            set_={
                "holder": ins.excluded.holder,
                "acquired_at": ins.excluded.acquired_at,
                "expires_at": ins.excluded.expires_at,
            },
            where=(RunLock.expires_at < now) | (RunLock.holder == holder),
        )
        .returning(RunLock.name)
    )


def release_lock(session: Session, *, name: str, holder: str) -> bool:
    """Drop the lease if ``holder`` still holds it; False when it was stolen or gone."""
    result = session.execute(
        delete(RunLock)
        .where(RunLock.name == name, RunLock.holder == holder)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def release_locks(session: Session, *, names: Sequence[str], holder: str) -> int:
    """Drop every lease in ``names`` that ``holder`` still holds; returns how many were dropped."""
    dropped = 0
    ordered = sorted(set(names))
    for start in range(0, len(ordered), _LOCK_BATCH):
        result = session.execute(
            delete(RunLock)
            .where(RunLock.name.in_(ordered[start:start + _LOCK_BATCH]), RunLock.holder == holder)
            .execution_options(synchronize_session=False)
        )
        dropped += int(getattr(result, "rowcount", 0) or 0)
    return dropped


def held_leases(session: Session, *, holder: str, prefix: str = "", now: datetime | None = None) -> list[str]:
    """Names of the unexpired leases ``holder`` holds (those starting with ``prefix``)."""
    now = as_utc(now) if now is not None else utcnow()
    stmt = select(RunLock.name).where(RunLock.holder == holder, RunLock.expires_at > now)
    if prefix:
        stmt = stmt.where(RunLock.name.startswith(prefix, autoescape=True))
    return sorted(session.scalars(stmt))


CYCLE_STAT = "distributed/cycle"  # the Scrapy stat the distributed spider records its cycle id in


def runs_of_cycle(session: Session, *, cycle: str, since: datetime) -> list[CrawlRun]:
    """The worker runs of one distributed crawl cycle started since ``since``, oldest first.

    The cycle id lives in each run's stats (its Scrapy stats snapshot), so the runs of the
    window are filtered here rather than by a JSON query that differs per database; a
    window of hours holds a few runs per worker.
    """
    candidates = session.scalars(select(CrawlRun).where(CrawlRun.trigger == "worker",
                                                        CrawlRun.started_at >= as_utc(since))
                                 .order_by(CrawlRun.id))
    return [run for run in candidates if (run.stats or {}).get(CYCLE_STAT) == cycle]
