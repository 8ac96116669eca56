"""The ``noticewatch schedule`` daemon: registry schedules → APScheduler jobs → crawls.

One job per site, or per group of columns where columns carry their own schedule
(columns sharing a schedule share a job). Every job run is one ``run_crawl`` call,
i.e. one ``scrapy crawl`` process, followed by alert delivery; a nightly job verifies
the archive. Overlap is prevented twice: ``max_instances=1`` inside this daemon, and
the per-site lease in the database (``run_crawl``) against cron, manual runs and
other machines.

Schedules are 5-field cron expressions (crontab semantics, also for weekdays: 0 and 7
are Sunday) or intervals written ``every 30m`` / ``every 2h`` / ``every 1d``.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crawler.registry import Registry, SiteSpec, dump_registry
from noticewatch.crawling import CrawlResult, run_crawl

if TYPE_CHECKING:
    from noticewatch.config import Settings
    from noticewatch.store import Store

logger = logging.getLogger("noticewatch.scheduler")

_INTERVAL = re.compile(r"^every\s+(\d+)\s*([smhd])$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
COUNT_KEYS = ("new", "changed", "unchanged", "seen", "withdrawn", "failed", "blocked", "requests")


class ScheduleError(ValueError):
    """A schedule expression is malformed; the message names the site."""


# -- triggers ---------------------------------------------------------------------------------

def _weekday_field(text: str) -> str:
    """Crontab weekdays (0/7 = Sunday) as APScheduler names.

    APScheduler 3 numbers weekdays from Monday = 0, so ``from_crontab("0 3 * * 1")``
    would fire on Tuesdays. Expanding the field to names avoids that trap.
    """
    if text == "*" or any(c.isalpha() for c in text):
        return text  # "*" and names mean the same in both
    days: set[int] = set()
    for part in text.split(","):
        body, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if body == "*":
            first, last = 0, 6
        elif "-" in body:
            a, b = body.split("-", 1)
            first, last = int(a), int(b)
        else:
            first = last = int(body)
            if step_text:
                last = 7
        if not (0 <= first <= 7 and 0 <= last <= 7) or first > last or step < 1:
            raise ValueError(f"bad day-of-week field {text!r}")
        days.update(d % 7 for d in range(first, last + 1, step))
    return ",".join(_WEEKDAYS[d] for d in sorted(days))


def make_trigger(expression: str, *, jitter: int = 0, timezone: Any = None) -> BaseTrigger:
    """A trigger for a cron expression or ``every <n><s|m|h|d>``. Raises ValueError."""
    text = expression.strip()
    interval = _INTERVAL.match(text)
    if interval:
        seconds = int(interval.group(1)) * _UNIT_SECONDS[interval.group(2).lower()]
        if seconds <= 0:
            raise ValueError(f"interval must be positive, got {expression!r}")
        return IntervalTrigger(seconds=seconds, jitter=jitter or None, timezone=timezone)
    fields = text.split()
    if len(fields) != 5:
        raise ValueError(f"expected a 5-field cron expression or 'every 2h', got {expression!r}")
    minute, hour, day, month, weekday = fields
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=_weekday_field(weekday),
                       jitter=jitter or None, timezone=timezone)


# -- jobs -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CrawlJob:
    """Crawl ``columns`` of a site (all of them when None) on ``schedule``."""

    id: str
    site_key: str
    schedule: str
    columns: tuple[str, ...] | None = None


def plan_jobs(registry: Registry, default_schedule: str) -> list[CrawlJob]:
    """Group each site's columns by their effective schedule; one job per group."""
    jobs: list[CrawlJob] = []
    for site in registry.sites:
        groups: dict[str, list[str]] = {}
        for column in site.columns:
            expression = column.schedule or site.schedule or default_schedule
            groups.setdefault(expression, []).append(column.url)
        for expression in groups:
            try:
                make_trigger(expression)
            except ValueError as exc:
                raise ScheduleError(f"site {site.key!r}: schedule: {exc}") from None
        if len(groups) == 1:
            (expression,) = groups
            jobs.append(CrawlJob(id=f"site:{site.key}", site_key=site.key, schedule=expression))
            continue
        for index, (expression, urls) in enumerate(groups.items()):
            jobs.append(CrawlJob(id=f"site:{site.key}:{index}", site_key=site.key, schedule=expression,
                                 columns=tuple(urls)))
    return jobs


# -- running crawls ---------------------------------------------------------------------------

@dataclass
class CrawlService:
    """Runs crawl jobs and tracks their child processes for a clean shutdown."""

    settings: Settings
    store: Store
    registry: Registry
    registry_paths: Sequence[str] = ()
    overrides: Sequence[str] = ()
    config_path: str | None = None
    crawl: Callable[..., CrawlResult] = run_crawl
    stopping: threading.Event = field(default_factory=threading.Event)
    _children: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    _active: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _idle: threading.Condition = field(init=False)
    _terminating: bool = False

    def __post_init__(self) -> None:
        self._idle = threading.Condition(self._lock)

    # child tracking

    def _track(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._children[proc.pid] = proc
            late = self._terminating
        if late:  # started while we were already stopping: stop it at once
            proc.terminate()

    def _untrack(self, proc: subprocess.Popen[bytes] | None) -> None:
        if proc is not None:
            with self._lock:
                self._children.pop(proc.pid, None)

    def _enter(self) -> bool:
        with self._lock:
            if self.stopping.is_set():
                return False
            self._active += 1
            return True

    def _leave(self) -> None:
        with self._lock:
            self._active -= 1
            self._idle.notify_all()

    @property
    def active(self) -> int:
        with self._lock:
            return self._active

    # jobs

    def _job_registry(self, job: CrawlJob) -> tuple[Registry, list[str]]:
        site = self.registry.get(job.site_key)
        if job.columns is None:
            return self.registry, list(self.registry_paths)
        subset: SiteSpec = dataclasses.replace(
            site, columns=tuple(c for c in site.columns if c.url in job.columns))
        # The spider reads the registry from files: hand it one with just these columns.
        path = self.settings.data_path / "schedule" / (job.id.replace(":", "_") + ".yaml")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump_registry([subset]), encoding="utf-8")
        return Registry((subset,)), [str(path)]

    def run_job(self, job: CrawlJob) -> CrawlResult | None:
        if not self._enter():
            logger.info("crawl job=%s site=%s skipped: shutting down", job.id, job.site_key)
            return None
        started = time.monotonic()
        procs: list[subprocess.Popen[bytes]] = []

        def on_process(proc: subprocess.Popen[bytes]) -> None:
            procs.append(proc)
            self._track(proc)

        try:
            registry, paths = self._job_registry(job)
            result = self.crawl(self.settings, self.store, registry, site_keys=[job.site_key],
                                overrides=self.overrides, trigger="scheduler", registry_paths=paths,
                                on_process=on_process, progress=False)
        except Exception:
            logger.exception("crawl job=%s site=%s status=error duration=%.1fs", job.id, job.site_key,
                             time.monotonic() - started)
            return None
        finally:
            for proc in procs:
                self._untrack(proc)
            self._leave()
        log_result(job, result, time.monotonic() - started)
        if result.run_id is not None:
            self.deliver_alerts()
        return result

    def deliver_alerts(self) -> None:
        from pipeline.alerts.sender import send_due

        try:
            outcome = send_due(self.store, self.settings)
        except Exception:
            logger.exception("alert delivery failed")
            return
        logger.info("alerts delivered: %s", outcome)

    def verify(self) -> int | None:
        """Run ``noticewatch verify`` in its own process; None when shutting down."""
        if not self._enter():
            return None
        started = time.monotonic()
        cmd = [sys.executable, "-m", "noticewatch"]
        if self.config_path:
            cmd += ["--config", self.config_path]
        proc = subprocess.Popen([*cmd, "verify"])
        self._track(proc)
        try:
            code = proc.wait()
        finally:
            self._untrack(proc)
            self._leave()
        logger.info("verify status=%s duration=%.1fs", "ok" if code == 0 else f"exit {code}",
                    time.monotonic() - started)
        return code

    # shutdown

    def drain(self, grace: float, stop_timeout: float, hurry: threading.Event | None = None) -> None:
        """Let running crawls finish for ``grace`` seconds, then SIGTERM them (Scrapy
        closes the spider and the run is recorded as interrupted); SIGKILL after
        ``stop_timeout`` more seconds. ``hurry`` (a second signal) skips the grace."""
        self.stopping.set()
        deadline = time.monotonic() + grace
        with self._lock:
            while self._active and time.monotonic() < deadline and not (hurry and hurry.is_set()):
                self._idle.wait(timeout=min(0.5, max(0.0, deadline - time.monotonic())))
            if not self._active:
                return
            self._terminating = True
            children = list(self._children.values())
        logger.warning("stopping %d running crawl process(es) with SIGTERM", len(children))
        for proc in children:
            if proc.poll() is None:
                proc.terminate()
        kill_at = time.monotonic() + stop_timeout
        for proc in children:
            try:
                proc.wait(timeout=max(0.0, kill_at - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.error("crawl process %d did not stop in time: SIGKILL", proc.pid)
                proc.kill()
        with self._lock:  # let run_crawl record the outcome and release its leases
            while self._active:
                self._idle.wait(timeout=1.0)


def log_result(job: CrawlJob, result: CrawlResult, duration: float) -> None:
    """The one line per run an operator greps for."""
    if result.run_id is None:
        logger.info("crawl job=%s site=%s run=- status=skipped reason=locked duration=%.1fs",
                    job.id, job.site_key, duration)
        return
    counts = " ".join(f"{k}={result.counts.get(k, 0)}" for k in COUNT_KEYS)
    logger.info("crawl job=%s site=%s run=%s status=%s %s duration=%.1fs", job.id, job.site_key,
                result.run_id, result.status, counts, duration)


# -- the daemon -------------------------------------------------------------------------------

@dataclass
class SchedulerOptions:
    max_parallel: int = 4
    misfire_grace: int = 3600
    grace: float = 300.0  # seconds a running crawl may go on after SIGTERM
    stop_timeout: float = 120.0  # seconds Scrapy gets to close after our SIGTERM
    timezone: Any = None
    alert_interval: int = 300  # seconds between deliveries of due alerts


def build_scheduler(service: CrawlService, jobs: Sequence[CrawlJob], options: SchedulerOptions) -> BlockingScheduler:
    from apscheduler.executors.pool import ThreadPoolExecutor

    settings = service.settings
    scheduler_kwargs: dict[str, Any] = {
        "executors": {"default": ThreadPoolExecutor(options.max_parallel)},
        # A missed run (daemon down, all workers busy) still runs if at most
        # misfire_grace late; several missed runs collapse into one.
        "job_defaults": {"coalesce": True, "max_instances": 1, "misfire_grace_time": options.misfire_grace},
    }
    if options.timezone is not None:
        scheduler_kwargs["timezone"] = options.timezone
    scheduler = BlockingScheduler(**scheduler_kwargs)
    tz = options.timezone
    for job in jobs:
        trigger = make_trigger(job.schedule, jitter=settings.schedule_jitter, timezone=tz)
        scheduler.add_job(service.run_job, trigger, args=[job], id=job.id, name=f"crawl {job.id}")
    scheduler.add_job(service.verify, make_trigger(settings.verify_schedule, timezone=tz), id="verify",
                      name="verify archive")
    # Alerts of crawls run elsewhere (cron, workers, other machines) go out too.
    scheduler.add_job(service.deliver_alerts, IntervalTrigger(seconds=options.alert_interval, timezone=tz),
                      id="alerts", name="deliver due alerts")
    return scheduler


def run_daemon(service: CrawlService, jobs: Sequence[CrawlJob], options: SchedulerOptions) -> None:
    """Block until SIGTERM/SIGINT, then drain (see ``CrawlService.drain``)."""
    scheduler = build_scheduler(service, jobs, options)
    hurry = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        name = signal.Signals(signum).name
        if service.stopping.is_set():
            logger.warning("%s again: stopping running crawls now", name)
            hurry.set()
            return
        logger.info("%s received: no new crawls; %d running, grace %.0fs", name, service.active, options.grace)
        service.stopping.set()
        scheduler.shutdown(wait=False)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        logger.info("scheduler started: %d crawl jobs, verify at %r, max %d in parallel", len(jobs),
                    service.settings.verify_schedule, options.max_parallel)
        scheduler.start()  # returns after shutdown()
        service.drain(options.grace, options.stop_timeout, hurry)
        logger.info("scheduler stopped")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_once(service: CrawlService, jobs: Sequence[CrawlJob], max_parallel: int = 1) -> list[CrawlResult | None]:
    """Run every job once now (for cron and tests), at most ``max_parallel`` at a time."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=max(1, max_parallel)) as pool:
        return list(pool.map(service.run_job, jobs))


def describe_jobs(jobs: Sequence[CrawlJob], settings: Settings, timezone: Any = None) -> list[tuple[str, str, str]]:
    """(job id, schedule, next fire time without jitter) for ``schedule --list``."""
    from datetime import datetime

    from tzlocal import get_localzone

    tz = timezone or get_localzone()
    now = datetime.now(tz)
    rows = []
    for job in [*jobs, CrawlJob(id="verify", site_key="", schedule=settings.verify_schedule)]:
        nxt = make_trigger(job.schedule, timezone=tz).get_next_fire_time(None, now)
        detail = f" ({len(job.columns)} columns)" if job.columns else ""
        rows.append((job.id + detail, job.schedule, nxt.isoformat(timespec="minutes") if nxt else "-"))
    return rows
