"""Running one crawl: lock the sites, write the plan, run ``scrapy crawl`` in its own process.

A stopped Twisted reactor cannot be restarted, so every crawl (from the CLI, the
scheduler or a worker) is a fresh ``python -m scrapy crawl`` process.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.registry import Registry, SiteSpec, registry_rows
from noticewatch.crawl_process import CrawlProcess
from noticewatch.lease_keeper import LEASE_TTL, LeaseKeeper

# storage.runs/sites, not storage.repository: the repository also pulls in the notice
# writer's duplicate detection (datasketch, scipy: ~0.5 s of imports) that this process never uses.
from storage import crawlstate, health, runs
from storage import sites as site_store
from storage.models import CrawlRun

if TYPE_CHECKING:
    from noticewatch.config import Settings
    from noticewatch.store import Store

CYCLE_WINDOW = timedelta(hours=6)  # how far back the runs of a distributed cycle are looked for
_SIBLINGS_LOOKED_AT = 100  # earlier runs read to find the last one that is not a live sibling

logger = logging.getLogger(__name__)


@dataclass
class CrawlResult:
    run_id: int | None
    sites: list[str]
    skipped_locked: list[str] = field(default_factory=list)
    skipped_blocked: list[str] = field(default_factory=list)  # backed off: they blocked an earlier run
    returncode: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    status: str = "finished"
    log_file: Path | None = None
    health: dict[str, str] = field(default_factory=dict)  # site key → verdict after this run
    cycle: str | None = None  # the distributed crawl cycle the run belonged to

    @property
    def crawled_anything(self) -> bool:
        useful = ("new", "changed", "unchanged", "seen", "reactivated", "withdrawn")
        # An incremental cycle of unchanged sites stores nothing (every list answered 304):
        # lists read fine are a good crawl, and the health verdict says so.
        return (any(self.counts.get(k, 0) for k in useful)
                or any(verdict in ("ok", "quiet") for verdict in self.health.values()))


def holder_id() -> str:
    # Unique per call, not per process: the scheduler runs several crawls from one
    # process, and a lease renewable by the same holder must not let them overlap.
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def effective_scrapy_settings(settings: Settings, sites: Sequence[SiteSpec], *,
                              overrides: Sequence[str] = (), registry_paths: Sequence[str] = ()) -> dict[str, Any]:
    from noticewatch.config import parse_scrapy_overrides, scrapy_settings

    values = scrapy_settings(settings, overrides=())
    user = parse_scrapy_overrides(overrides) if overrides else {}
    # Per-site politeness overrides become Scrapy download slots. They rank below the
    # command line: a slot key the user set with -s is left to the global setting.
    slots: dict[str, dict[str, Any]] = {}
    for site in sites:
        if not site.overrides:
            continue
        site_settings = settings.for_site(site.overrides, site.key)
        slot: dict[str, Any] = {}
        if "DOWNLOAD_DELAY" not in user:
            slot["delay"] = site_settings.download_delay
        if "CONCURRENT_REQUESTS_PER_DOMAIN" not in user:
            slot["concurrency"] = site_settings.concurrent_requests_per_domain
        for domain in site.domains():
            slots[domain] = slot
    if slots:
        values["DOWNLOAD_SLOTS"] = slots
    values["NOTICEWATCH_DATABASE_URL"] = settings.resolved_database_url
    values["FILES_STORE"] = str(settings.data_path)
    values["WARC_DIR"] = str(settings.data_path / "warc")
    values["ROBOTSTXT_CACHE_DIR"] = str(settings.data_path / "cache" / "robots")
    if registry_paths:
        values["NOTICEWATCH_REGISTRY"] = list(registry_paths)
    values.update(user)
    return values


def _previous_run_broken(session: Any, keys: Sequence[str], run_id: int, holder: str) -> bool:
    """Did the last earlier run that could have covered these sites die or get interrupted?

    A run still "running" is older than our locks on these sites, so its process is gone
    — unless it shares our lease holder (the workers of one distributed crawl) and still
    holds its own run lease: then it is a sibling worker crawling right now, not a
    broken run (without this, whichever worker seeded second dropped every validator).
    """
    from sqlalchemy import or_, select

    from storage.clock import utcnow
    from storage.models import RunLock, Site

    site_ids = select(Site.id).where(Site.key.in_(list(keys)))
    # The earlier runs first, the live sibling leases second: a sibling committing its run
    # (and, in the same transaction, its lease) between the two statements is then seen
    # as a lease at least wherever it is seen as a run (read committed: each statement
    # sees what was committed before it started). The other order lost that race.
    earlier = list(session.execute(
        select(CrawlRun.id, CrawlRun.status).where(CrawlRun.id < run_id, CrawlRun.status != "skipped",
                                                   or_(CrawlRun.site_id.is_(None), CrawlRun.site_id.in_(site_ids)))
        .order_by(CrawlRun.id.desc()).limit(_SIBLINGS_LOOKED_AT)))
    live_siblings = {int(name.removeprefix("run:")) for name in session.scalars(
        select(RunLock.name).where(RunLock.holder == holder, RunLock.name.like("run:%"),
                                   RunLock.expires_at > utcnow()))}
    last = next((status for rid, status in earlier if rid not in live_siblings), None)
    return last in ("failed", "interrupted", "running")  # "running": its parent died too


def _until_text(backed_off: Mapping[str, datetime]) -> dict[str, str]:
    from storage.clock import to_cst_iso

    return {key: to_cst_iso(until.replace(microsecond=0)) or "" for key, until in sorted(backed_off.items())}


def _record_backoff_skips(store: Store, backed_off: Mapping[str, datetime], *, trigger: str,
                          nothing_left: bool) -> int | None:
    """Log the sites left alone after blocking us; with no site left to crawl, record a
    ``skipped`` run so the skip shows in ``noticewatch runs`` (else the run's stats say it)."""
    for key, until in sorted(backed_off.items()):
        logger.warning("site %s blocked an earlier crawl: skipped until %s", key, _until_text({key: until})[key])
    if not nothing_left:
        return None
    with store.factory.begin() as session:
        keys = sorted(backed_off)
        run = runs.start_run(session, site_key=keys[0] if len(keys) == 1 else None, trigger=trigger)
        run.status = "skipped"
        run.finished_at = run.started_at
        run.counts = {"skipped_blocked": len(keys)}
        run.stats = {"skipped_blocked": _until_text(backed_off)}
        run.error = "backed off after blocking: " + ", ".join(keys)
        return run.id


def run_crawl(settings: Settings, store: Store, registry: Registry, *, site_keys: Sequence[str] = (),
              overrides: Sequence[str] = (), trigger: str = "manual", registry_paths: Sequence[str] = (),
              env: Mapping[str, str] | None = None, spider: str = "notices", quiet: bool = True,
              on_process: Callable[[subprocess.Popen[bytes]], None] | None = None,
              holder: str | None = None, progress: bool | None = None,
              process: CrawlProcess | None = None) -> CrawlResult:
    """Lock the sites, run one ``scrapy crawl`` process, record the outcome.

    ``on_process`` receives the child process once it has its run (the scheduler
    keeps it to stop it cleanly with SIGTERM on shutdown). ``holder`` shares the site
    leases among the workers of one distributed crawl. ``progress``: render the
    child's progress file on the terminal (default: when quiet and stderr is a TTY).
    ``process``: a child the caller already started (``CrawlProcess.start``, before its
    own imports); by default one is started here, before the database work.
    """
    process = process or CrawlProcess.start(spider=spider, env=env, quiet=quiet)
    try:
        if process.spider != spider:
            raise ValueError(f"the crawl process runs spider {process.spider!r}, not {spider!r}")
        return _run_crawl(settings, store, registry, site_keys=site_keys, overrides=overrides, trigger=trigger,
                          registry_paths=registry_paths, quiet=quiet, holder=holder, progress=progress,
                          process=process, on_process=on_process)
    finally:
        process.cancel()  # nothing to crawl, or an error before the hand-over; no-op after it


def _run_crawl(settings: Settings, store: Store, registry: Registry, *, site_keys: Sequence[str],
               overrides: Sequence[str], trigger: str, registry_paths: Sequence[str], quiet: bool,
               holder: str | None, progress: bool | None, process: CrawlProcess,
               on_process: Callable[[subprocess.Popen[bytes]], None] | None) -> CrawlResult:
    sites = registry.select(site_keys or None)
    holder = holder or holder_id()
    with store.factory.begin() as session:
        site_store.sync_sites(session, [s.as_row() for s in sites])
        backed_off = health.backed_off_sites(session, [s.key for s in sites])
    if backed_off:
        sites = [s for s in sites if s.key not in backed_off]
        skips = _record_backoff_skips(store, backed_off, trigger=trigger, nothing_left=not sites)
        if not sites:
            return CrawlResult(run_id=skips, sites=[], skipped_blocked=sorted(backed_off), status="skipped")
    # One lease per site, all taken in one transaction (one transaction per site cost
    # ~1 s at 500 sites, on every cycle).
    with store.factory.begin() as session:
        held = runs.acquire_locks(session, names=[_lock_name(s.key) for s in sites], holder=holder, ttl=LEASE_TTL)
    locked = [s for s in sites if _lock_name(s.key) in held]
    skipped = [s.key for s in sites if _lock_name(s.key) not in held]
    if not locked:
        return CrawlResult(run_id=None, sites=[], skipped_locked=skipped, status="skipped",
                           skipped_blocked=sorted(backed_off))
    keys = [s.key for s in locked]
    run_lock = ""  # this run's own lease, once the run exists (see _previous_run_broken)
    result: CrawlResult | None = None
    try:
        with store.factory.begin() as session:
            run = runs.start_run(session, site_key=keys[0] if len(keys) == 1 else None, trigger=trigger)
            run_id = run.id
            run_lock = _run_lock_name(run_id)
            runs.acquire_locks(session, names=[run_lock], holder=holder, ttl=LEASE_TTL)
            plan = crawlstate.build_plan(session, site_keys=keys, run_id=run_id,
                                         recheck_days=settings.recheck_days, list_overlap=settings.list_overlap)
            if _previous_run_broken(session, keys, run_id, holder):
                # A killed run may have saved a column's validators and some of its notices but
                # not the rest: no 304 shortcut and no early stop, so every list page is read again.
                plan["columns"] = {}
                plan["list_overlap"] = 10**6
        result = _run_process(settings, store, locked, run_id=run_id, plan=plan, overrides=overrides,
                              trigger=trigger, registry_paths=registry_paths, quiet=quiet, progress=progress,
                              process=process, on_process=on_process,
                              keeper=LeaseKeeper(store, names=[*map(_lock_name, keys), run_lock], holder=holder),
                              extra_stats={"skipped_blocked": _until_text(backed_off)} if backed_off else {})
        result.skipped_locked = skipped
        result.skipped_blocked = sorted(backed_off)
        return result
    finally:
        # The workers of one distributed cycle share the holder and so the site leases:
        # only the last one out may judge the sites and free them (the first one done
        # used to free them while its siblings still crawled).
        last_out = _leave(store, holder=holder, run_lock=run_lock)
        try:
            if result is not None and result.status == "finished" and last_out:
                result.health = _judge_health(store, settings, result)
            elif result is not None and not last_out:
                logger.info("run %s done; sibling workers still crawling: they judge health and free the sites",
                            result.run_id)
        finally:
            if last_out:
                with store.factory.begin() as session:
                    # Ours, and those a sibling locked under the shared holder (for other --site choices).
                    sibling_sites = runs.held_leases(session, holder=holder, prefix="site:")
                    runs.release_locks(session, names=[*map(_lock_name, keys), *sibling_sites], holder=holder)


def _run_process(settings: Settings, store: Store, locked: Sequence[SiteSpec], *, run_id: int,
                 plan: dict[str, Any], overrides: Sequence[str], trigger: str, registry_paths: Sequence[str],
                 quiet: bool, progress: bool | None, process: CrawlProcess,
                 on_process: Callable[[subprocess.Popen[bytes]], None] | None, keeper: LeaseKeeper,
                 extra_stats: Mapping[str, Any]) -> CrawlResult:
    """Write the plan, hand the run to the waiting ``scrapy crawl``, read back how it ended
    (and add ``extra_stats`` to the run's stats)."""
    keys = [s.key for s in locked]
    run_dir = settings.data_path / "runs" / str(run_id)
    run_dir.mkdir(parents=True, exist_ok=True)
    plan_file = run_dir / "plan.json"
    plan_file.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    values = effective_scrapy_settings(settings, locked, overrides=overrides, registry_paths=registry_paths)
    log_file = settings.data_path / "logs" / f"run-{run_id}.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    values.setdefault("LOG_FILE", str(log_file))
    values["NOTICEWATCH_TRIGGER"] = trigger
    show_progress = (quiet and sys.stderr.isatty()) if progress is None else progress
    progress_file = run_dir / "progress.json"
    if show_progress:
        values.setdefault("PROGRESS_FILE", str(progress_file))
    # Settings (they may hold a password) and arguments go over the child's stdin.
    process.go(settings=values, spider_args={"sites": ",".join(keys), "plan": str(plan_file),
                                             "site_rows": registry_rows(locked)})
    proc = process.proc
    try:
        if on_process is not None:
            on_process(proc)
        if show_progress:
            from crawler.extensions.progress import render_until_exit

            render_until_exit(proc, Path(values["PROGRESS_FILE"]), tick=keeper.tick)
        keeper.wait(proc)
    except BaseException:
        # Ctrl-C reaches the child too (same process group); let Scrapy close its spider.
        if proc.poll() is None:
            proc.wait()
        raise
    with store.factory.begin() as session:
        run = session.get(CrawlRun, run_id)
        assert run is not None
        if run.status == "running":
            # The crawl process died before its pipeline could close the run: stopped by
            # an operator's signal (systemd stopping the whole group while the process
            # still waited for its run, Ctrl-C) is an interruption, anything else a failure.
            stopped = proc.returncode in (-signal.SIGTERM, -signal.SIGINT, -signal.SIGHUP)
            run.status = "interrupted" if stopped else "failed"
            run.finished_at = datetime.now(UTC)
            run.error = (f"crawl process stopped by {signal.Signals(-proc.returncode).name}" if stopped
                         else f"crawl process exited with code {proc.returncode}")
        if extra_stats:
            run.stats = {**(run.stats or {}), **extra_stats}
        if run.status == "finished":
            site_store.mark_baselines(session, keys)
        return CrawlResult(run_id=run_id, sites=keys, returncode=proc.returncode, counts=dict(run.counts or {}),
                           status=run.status, log_file=log_file,
                           cycle=str((run.stats or {}).get(runs.CYCLE_STAT) or "") or None)


def _leave(store: Store, *, holder: str, run_lock: str) -> bool:
    """Drop this run's lease; True when no other run of the same holder is still live.

    Two transactions on purpose: each finishing worker commits its own release before
    it looks for siblings, so of two finishing together at least the later one sees
    none left (both may: freeing a lease twice is harmless).
    """
    if run_lock:
        with store.factory.begin() as session:
            runs.release_locks(session, names=[run_lock], holder=holder)
    with store.factory.begin() as session:
        return not runs.held_leases(session, holder=holder, prefix="run:")


def _judge_health(store: Store, settings: Settings, result: CrawlResult) -> dict[str, str]:
    """Site verdicts from a complete run — or, for a distributed cycle, from all its runs."""
    assert result.run_id is not None
    with store.factory.begin() as session:
        siblings: list[CrawlRun] = []
        keys = dict.fromkeys(result.sites)  # ordered, de-duplicated: thousands of sites per run
        if result.cycle:
            siblings = runs.runs_of_cycle(session, cycle=result.cycle, since=datetime.now(UTC) - CYCLE_WINDOW)
            if any(run.status != "finished" for run in siblings):
                # Only complete runs say enough about a site to judge its health.
                logger.warning("crawl cycle %s had an incomplete run: site health not judged", result.cycle)
                return {}
            for run in siblings:
                keys.update(dict.fromkeys((run.stats or {}).get("sites") or {}))
        verdicts = health.assess_sites_health(session, site_keys=keys, run_id=result.run_id,
                                              sibling_run_ids=[run.id for run in siblings],
                                              backoff_hours=settings.blocked_backoff_hours)
        return {key: verdict.status for key, verdict in verdicts.items()}


def _lock_name(site_key: str) -> str:
    return f"site:{site_key}"


def _run_lock_name(run_id: int) -> str:
    return f"run:{run_id}"
