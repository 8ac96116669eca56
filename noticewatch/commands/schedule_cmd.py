"""``noticewatch schedule``: the crawl scheduler daemon (or one pass with ``--once``)."""

from __future__ import annotations

import logging
import sys

import click

from crawler.registry import RegistryError, load_registry
from noticewatch.commands._common import get_settings
from noticewatch.store import open_store

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@click.command()
@click.option("--once", is_flag=True, help="Run every crawl job once now, deliver alerts, exit.")
@click.option("--list", "list_jobs", is_flag=True, help="Print the jobs and their next start, exit.")
@click.option("--no-crawl", is_flag=True,
              help="Schedule no crawls (workers or cron do them): only alert delivery and verify.")
@click.option("--site", "sites", multiple=True, metavar="KEY", help="Schedule only this site (repeatable).")
@click.option("--max-parallel", default=4, show_default=True, type=click.IntRange(1, 256),
              help="Crawl processes running at the same time.")
@click.option("--misfire-grace", default=3600, show_default=True, type=click.IntRange(1),
              help="Seconds a missed start may be late and still run.")
@click.option("--grace", default=300.0, show_default=True, type=click.FloatRange(0),
              help="On SIGTERM, seconds running crawls may go on before they are stopped.")
@click.option("--stop-timeout", default=120.0, show_default=True, type=click.FloatRange(0),
              help="Seconds a stopped crawl gets to close cleanly before it is killed.")
@click.option("--timezone", default=None, metavar="TZ",
              help="Time zone of the cron expressions (default: the machine's), e.g. Asia/Shanghai.")
@click.option("-s", "--set", "scrapy_overrides", multiple=True, metavar="NAME=VALUE",
              help="Scrapy setting for every crawl, like `noticewatch crawl -s`.")
@click.pass_context
def schedule(ctx: click.Context, once: bool, list_jobs: bool, no_crawl: bool, sites: tuple[str, ...], max_parallel: int,
             misfire_grace: int, grace: float, stop_timeout: float, timezone: str | None,
             scrapy_overrides: tuple[str, ...]) -> None:
    """Crawl the registry's sites on their schedules until stopped (SIGTERM/SIGINT).

    Each site (or group of columns with their own schedule) is one job; the default
    schedule, the jitter and the nightly verify come from the [schedule] settings.
    One log line per run goes to stderr (the journal under systemd).
    """
    from noticewatch.scheduler import (
        CrawlService,
        ScheduleError,
        SchedulerOptions,
        describe_jobs,
        plan_jobs,
        run_daemon,
        run_once,
    )

    settings = get_settings(ctx)
    try:
        registry = load_registry(settings.registry or None)
        if sites:
            from crawler.registry import Registry

            registry = Registry(tuple(registry.select(sites)))
        jobs = [] if no_crawl else plan_jobs(registry, settings.schedule_default)
    except (RegistryError, ScheduleError) as exc:
        raise click.ClickException(str(exc)) from exc
    tz = None
    if timezone:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            tz = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise click.BadParameter(f"unknown time zone {timezone!r}", param_hint="--timezone") from exc
    if list_jobs:
        for job_id, expression, nxt in describe_jobs(jobs, settings, tz):
            click.echo(f"{job_id:<40} {expression:<20} next {nxt}")
        return
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sys.stderr)
    store = open_store(settings)
    service = CrawlService(settings=settings, store=store, registry=registry,
                           registry_paths=[str(p) for p in settings.registry], overrides=scrapy_overrides,
                           config_path=(ctx.obj or {}).get("config_path"))
    try:
        if once:
            results = run_once(service, jobs, max_parallel)
            if any(r is None or r.status == "failed" for r in results):
                raise click.ClickException("some crawls failed; see the log lines above")
            return
        run_daemon(service, jobs, SchedulerOptions(max_parallel=max_parallel, misfire_grace=misfire_grace,
                                                   grace=grace, stop_timeout=stop_timeout, timezone=tz))
    finally:
        store.close()
