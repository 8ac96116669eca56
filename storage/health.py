"""Site health: after each run, is a site fine, merely quiet, changed its layout, blocking us or down?

A run's yield per site is tallied by the persist pipeline (``SiteFigures``) and kept in
``crawl_run.stats["sites"][site_key]``; fetch errors come from ``fetch_error`` rows
(authoritative even when a crawl process died before writing its stats).
``assess_site_health`` compares the two with the site's history and stores the
verdict on ``site.health``/``site.health_detail``. A ``blocked`` verdict also sets
``site.blocked_until`` so the next runs leave the site alone for a while.

The distinction that matters to an operator: a *quiet* site (its lists read fine,
nothing new) needs nothing; a site whose lists suddenly parse to nothing, or whose
notices fail to parse, needs its selectors fixed; a blocking site needs time (or a
different approach); a down site needs nothing but patience.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.clock import as_utc, to_cst_iso, utcnow
from storage.models import Column, CrawlRun, FetchError, NoticeColumn, Site

__all__ = [
    "HEALTH_STATUSES",
    "HealthVerdict",
    "SiteFigures",
    "assess_site_health",
    "assess_sites_health",
    "backed_off_sites",
    "classify",
    "merge_site_figures",
    "run_errors",
    "stored_site_figures",
]

HEALTH_STATUSES = ("ok", "quiet", "layout_changed", "blocked", "down", "unknown")
# Error kinds that say nothing about the site being up: our own refusals and parse problems.
NOT_TRANSPORT = frozenset({"blocked", "parse", "http", "trap", "cap_exceeded", "refused_address"})
# Notice pages failing to parse: at least this many, and at least this share of those fetched.
PARSE_FAILURES_MIN = 2
PARSE_FAILURE_SHARE = 0.5
DEFAULT_BACKOFF_HOURS = 6.0
_COUNTERS = ("lists_parsed", "lists_not_modified", "list_entries", "new", "changed", "unchanged",
             "reactivated", "seen", "withdrawn", "duplicate", "missing_title", "missing_body")


@dataclass(frozen=True, slots=True)
class HealthVerdict:
    status: str  # one of HEALTH_STATUSES
    detail: str


class SiteFigures:
    """Per-site tallies of one crawl process, as plain JSON-ready dicts.

    ``columns`` maps a column URL to ``{"pages", "entries", "not_modified"}`` so an empty
    column can be told from a site whose other columns still list notices.
    """

    def __init__(self) -> None:
        self.sites: dict[str, dict[str, Any]] = {}

    def _site(self, site_key: str) -> dict[str, Any]:
        return self.sites.setdefault(site_key, {"columns": {}, "errors": {}})

    def add(self, site_key: str, counter: str, n: int = 1) -> None:
        figures = self._site(site_key)
        figures[counter] = figures.get(counter, 0) + n

    def error(self, site_key: str, kind: str) -> None:
        errors = self._site(site_key)["errors"]
        errors[kind] = errors.get(kind, 0) + 1

    def list_page(self, site_key: str, column_url: str, entries: int, *, not_modified: bool = False) -> None:
        column = self._site(site_key)["columns"].setdefault(
            column_url, {"pages": 0, "entries": 0, "not_modified": 0})
        if not_modified:
            column["not_modified"] += 1
            self.add(site_key, "lists_not_modified")
            return
        column["pages"] += 1
        column["entries"] += entries
        self.add(site_key, "lists_parsed")
        self.add(site_key, "list_entries", entries)

    def as_dict(self) -> dict[str, dict[str, Any]]:
        return self.sites


def merge_site_figures(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> dict[str, Any]:
    """Add ``new`` per-site figures to ``old`` (the workers of one distributed run each report)."""
    merged: dict[str, Any] = {key: _copy(value) for key, value in (old or {}).items()}
    for site_key, figures in new.items():
        target = merged.setdefault(site_key, {"columns": {}, "errors": {}})
        for key, value in figures.items():
            if key == "columns":
                columns = target.setdefault("columns", {})
                for url, col in value.items():
                    have = columns.setdefault(url, {"pages": 0, "entries": 0, "not_modified": 0})
                    for k, v in col.items():
                        have[k] = have.get(k, 0) + v
            elif key == "errors":
                errors = target.setdefault("errors", {})
                for kind, n in value.items():
                    errors[kind] = errors.get(kind, 0) + n
            elif isinstance(value, int):
                target[key] = target.get(key, 0) + value
    return merged


def stored_site_figures(session: Session, run_id: int) -> dict[str, Any]:
    """The per-site figures already recorded for a run (by an earlier worker), or {}."""
    stats = session.scalar(select(CrawlRun.stats).where(CrawlRun.id == run_id))
    return dict((stats or {}).get("sites") or {})


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


def _kinds(errors: Mapping[str, int], only: Iterable[str] | None = None) -> str:
    wanted = set(only) if only is not None else None
    parts = [f"{kind} {n}" for kind, n in sorted(errors.items(), key=lambda kv: (-kv[1], kv[0]))
             if n and (wanted is None or kind in wanted)]
    return ", ".join(parts)


def classify(figures: Mapping[str, Any], errors: Mapping[str, int], *,
             columns_with_history: Iterable[str] = ()) -> HealthVerdict:
    """The verdict for one site and run; pure, so the rules can be read (and tested) in one place.

    ``figures``: the site's ``SiteFigures`` entry; ``errors``: fetch errors by kind;
    ``columns_with_history``: column URLs that listed notices in earlier runs.
    """
    get = lambda key: int(figures.get(key, 0) or 0)  # noqa: E731 - a local shorthand
    lists_ok = get("lists_parsed") + get("lists_not_modified")
    fetched = get("new") + get("changed") + get("unchanged") + get("reactivated")
    blocked = int(errors.get("blocked", 0))
    transport = {k: n for k, n in errors.items() if k not in NOT_TRANSPORT and n}
    if blocked and (lists_ok == 0 or blocked >= lists_ok + fetched):
        return HealthVerdict("blocked", f"{blocked} requests met a block (WAF challenge or 403/412/521); "
                                        f"{lists_ok} list pages and {fetched} notices read")
    if lists_ok == 0:
        if transport:
            return HealthVerdict("down", f"no list page could be fetched: {_kinds(transport)}")
        if errors.get("parse") or errors.get("http"):
            return HealthVerdict("layout_changed", "no list page could be read: "
                                 + _kinds(errors, ("parse", "http")))
        if not figures and not errors:
            return HealthVerdict("unknown", "nothing was recorded for this site in the run")
    history = set(columns_with_history)
    empty = sorted(url for url, col in (figures.get("columns") or {}).items()
                   if col.get("pages") and not col.get("entries") and not col.get("not_modified"))
    lost = [url for url in empty if url in history]
    if lost:
        return HealthVerdict("layout_changed", f"{len(lost)} list(s) parsed to nothing where earlier runs "
                                               f"found notices: {', '.join(lost)}")
    failures = int(errors.get("parse", 0)) + get("missing_title") + get("missing_body")
    if failures >= PARSE_FAILURES_MIN and failures >= PARSE_FAILURE_SHARE * (failures + fetched):
        return HealthVerdict("layout_changed", f"{failures} of {failures + fetched} notice pages failed to parse "
                                               f"(missing title or body)")
    found = {k: get(k) for k in ("new", "changed", "reactivated", "withdrawn") if get(k)}
    problems = f"; errors: {_kinds(errors)}" if any(errors.values()) else ""
    if empty:
        problems += f"; {len(empty)} list(s) parsed to nothing (no earlier notices to compare)"
    if found:
        return HealthVerdict("ok", ", ".join(f"{n} {k}" for k, n in found.items())
                             + f" from {lists_ok} list pages{problems}")
    return HealthVerdict("quiet", f"nothing new: {get('lists_parsed')} list pages read, "
                                  f"{get('lists_not_modified')} unchanged since the last run{problems}")


def _columns_with_history(session: Session, site_ids: Iterable[int], before: datetime) -> dict[int, set[str]]:
    """Per site: the column URLs that listed notices before ``before``."""
    history: dict[int, set[str]] = {}
    rows = session.execute(
        select(Column.site_id, Column.url).join(NoticeColumn, NoticeColumn.column_id == Column.id)
        .where(Column.site_id.in_(list(site_ids)), NoticeColumn.first_seen_at < before).distinct())
    for site_id, url in rows:
        history.setdefault(site_id, set()).add(url)
    return history


def run_errors(session: Session, *, run_id: int, site_id: int | None = None) -> Counter[str]:
    """Fetch errors of a run by kind (of one site when ``site_id`` is given)."""
    stmt = select(FetchError.kind, func.count()).where(FetchError.run_id == run_id).group_by(FetchError.kind)
    if site_id is not None:
        stmt = stmt.where(FetchError.site_id == site_id)
    return Counter({kind: int(n) for kind, n in session.execute(stmt)})


def _run_errors_by_site(session: Session, run_id: int) -> dict[int | None, Counter[str]]:
    errors: dict[int | None, Counter[str]] = {}
    for site_id, kind, n in session.execute(
            select(FetchError.site_id, FetchError.kind, func.count()).where(FetchError.run_id == run_id)
            .group_by(FetchError.site_id, FetchError.kind)):
        errors.setdefault(site_id, Counter())[kind] = int(n)
    return errors


def assess_site_health(session: Session, *, site_key: str, run_id: int,
                       backoff_hours: float = DEFAULT_BACKOFF_HOURS,
                       now: datetime | None = None) -> HealthVerdict:
    """Judge ``site_key`` from run ``run_id`` and store the verdict on the site.

    ``blocked`` also backs the site off for ``backoff_hours`` (0: no back-off); any
    other verdict lifts a back-off. ``unknown`` (the run recorded nothing for the site,
    e.g. its process died first) leaves the stored health as it was.
    """
    return assess_sites_health(session, site_keys=[site_key], run_id=run_id, backoff_hours=backoff_hours,
                               now=now)[site_key]


def assess_sites_health(session: Session, *, site_keys: Iterable[str], run_id: int,
                        backoff_hours: float = DEFAULT_BACKOFF_HOURS, now: datetime | None = None,
                        sibling_run_ids: Iterable[int] = ()) -> dict[str, HealthVerdict]:
    """``assess_site_health`` for every site of a run at once: site key → verdict.

    A handful of grouped queries for the whole run (sites, errors by site and kind,
    columns with history) and one update of the run's stats, instead of a query set
    and a re-written stats document per site: at 500 sites the per-site way took seconds.

    ``sibling_run_ids``: the other runs of one distributed crawl cycle. Each worker saw
    only its share of a site's pages, so the verdict is judged once, from the figures
    and errors of all of them together, and recorded in every one of them.
    """
    keys = list(dict.fromkeys(site_keys))
    sites = {site.key: site for site in session.scalars(select(Site).where(Site.key.in_(keys)))}
    run_ids = list(dict.fromkeys([run_id, *sibling_run_ids]))
    cycle = {run.id: run for run in session.scalars(select(CrawlRun).where(CrawlRun.id.in_(run_ids)))}
    missing = [key for key in keys if key not in sites]
    absent = [rid for rid in run_ids if rid not in cycle]
    if absent or missing:
        raise LookupError(f"no site {missing[0]!r}" if missing else f"no run {absent[0]}")
    all_figures: dict[str, Any] = {}
    errors: dict[int | None, Counter[str]] = {}
    for rid in run_ids:
        all_figures = merge_site_figures(all_figures, (cycle[rid].stats or {}).get("sites") or {})
        for site_id, kinds in _run_errors_by_site(session, rid).items():
            errors[site_id] = errors.get(site_id, Counter()) + kinds
    started = min(as_utc(run.started_at) for run in cycle.values())
    history = _columns_with_history(session, [site.id for site in sites.values()], started)
    now = as_utc(now) if now is not None else utcnow()
    verdicts: dict[str, HealthVerdict] = {}
    recorded: dict[str, dict[str, str]] = {}
    for key in keys:
        site = sites[key]
        verdict = classify(all_figures.get(key) or {}, errors.get(site.id, Counter()),
                           columns_with_history=history.get(site.id, set()))
        verdicts[key] = verdict
        if verdict.status == "unknown":
            continue
        detail = verdict.detail
        if verdict.status == "blocked" and backoff_hours > 0:
            site.blocked_until = now + timedelta(hours=backoff_hours)
            detail += f"; left alone until {to_cst_iso(site.blocked_until.replace(microsecond=0))}"
            verdicts[key] = HealthVerdict("blocked", detail)
        elif verdict.status != "blocked":
            site.blocked_until = None
        site.health = verdict.status
        site.health_detail = detail
        recorded[key] = {"status": verdict.status, "detail": detail}
    for run in cycle.values() if recorded else ():
        # The run keeps its own verdicts (`noticewatch runs show`); the site only the latest.
        # A new dict, not an in-place update: plain JSON columns do not track mutation.
        stats = dict(run.stats or {})
        stats["health"] = {**(stats.get("health") or {}), **recorded}
        run.stats = stats
    session.flush()
    return verdicts


def backed_off_sites(session: Session, site_keys: Iterable[str], *,
                     now: datetime | None = None) -> dict[str, datetime]:
    """Sites among ``site_keys`` still backed off after blocking us: key → until when."""
    now = as_utc(now) if now is not None else utcnow()
    rows = session.execute(select(Site.key, Site.blocked_until)
                           .where(Site.key.in_(list(site_keys)), Site.blocked_until.is_not(None)))
    return {key: as_utc(until) for key, until in rows if until is not None and as_utc(until) > now}
