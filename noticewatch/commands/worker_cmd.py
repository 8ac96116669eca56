"""``noticewatch worker``: one of several processes sharing a crawl through Redis."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from crawler.registry import RegistryError, SiteSpec, load_registry
from noticewatch.commands._common import get_settings
from noticewatch.commands.crawl_cmd import echo_result
from noticewatch.crawl_process import CrawlProcess

if TYPE_CHECKING:
    from noticewatch.store import Store


def _sync_sites(store: Store, specs: Sequence[SiteSpec]) -> None:
    """Register the sites before the crawl: workers starting together on an empty
    database race to insert the same rows; the loser retries and finds them there."""
    from sqlalchemy.exc import IntegrityError

    # storage.sites, not the repository: that would import duplicate detection (~0.5 s).
    from storage import sites as site_store

    for attempt in range(5):
        try:
            with store.factory.begin() as session:
                site_store.sync_sites(session, [s.as_row() for s in specs])
            return
        except IntegrityError:
            if attempt == 4:
                raise
            time.sleep(0.2 + random.random())


@click.command()
@click.option("--site", "sites", multiple=True, metavar="KEY", help="Crawl only this site (repeatable).")
@click.option("--prefix", default="noticewatch", show_default=True,
              help="Redis key prefix of the shared crawl; workers with the same prefix share one crawl.")
@click.option("--idle-seconds", default=10.0, show_default=True, type=click.FloatRange(0),
              help="Workers stop once all of them are idle and the shared queue is empty; at the "
                   "latest after the queue stayed empty this long (a crashed worker never turns idle).")
@click.option("--loop", is_flag=True, help="Start the next crawl cycle after --pause seconds, forever.")
@click.option("--pause", default=3600.0, show_default=True, type=click.FloatRange(0),
              help="With --loop: seconds between cycles.")
@click.option("--reset", is_flag=True, help="Clear the shared crawl's Redis keys (after a crash) and exit.")
@click.option("-s", "--set", "scrapy_overrides", multiple=True, metavar="NAME=VALUE",
              help="Scrapy setting, like `noticewatch crawl -s`.")
@click.option("--verbose", is_flag=True, help="Show Scrapy's log on the terminal too.")
@click.pass_context
def worker(ctx: click.Context, sites: tuple[str, ...], prefix: str, idle_seconds: float, loop: bool,
           pause: float, reset: bool, scrapy_overrides: tuple[str, ...], verbose: bool) -> None:
    """Crawl as one of several workers sharing a queue in Redis (needs NOTICEWATCH_REDIS_URL).

    The first worker of a cycle seeds the column start pages into the shared queue;
    every worker takes requests from it until it stays empty, and all write to the
    same database (use PostgreSQL). Start as many as you like, on any machine.
    """
    from crawler.distributed import check_prefix, reset_cycle

    settings = get_settings(ctx)
    if not settings.redis_url:
        raise click.ClickException("noticewatch worker needs redis_url ([distributed] in the config, "
                                   "or NOTICEWATCH_REDIS_URL)")
    try:
        check_prefix(prefix)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--prefix") from exc
    if reset:
        import redis

        removed = reset_cycle(redis.Redis.from_url(settings.redis_url), prefix)
        click.echo(f"cleared {removed} key(s) of the shared crawl {prefix!r}")
        return
    if settings.resolved_database_url.startswith("sqlite"):
        click.echo("warning: workers on several machines need a shared database (PostgreSQL); "
                   "this one is SQLite", err=True)
    try:
        registry = load_registry(settings.registry or None)
        registry.select(sites or None)
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from exc
    overrides = (f"NOTICEWATCH_REDIS_PREFIX={prefix}", f"NOTICEWATCH_WORKER_IDLE_SECONDS={idle_seconds}",
                 *scrapy_overrides)
    # The first cycle's Scrapy process starts now and imports while this one opens the
    # store and syncs the sites (noticewatch/crawl_process.py); later cycles start theirs
    # in run_crawl.
    process: CrawlProcess | None = CrawlProcess.start(spider="notices_distributed", quiet=not verbose)
    try:
        from noticewatch.crawling import run_crawl
        from noticewatch.store import open_store

        store = open_store(settings)
        try:
            _sync_sites(store, registry.select(sites or None))
            while True:
                # Workers of one shared crawl hold the site leases together (one holder
                # name), so cron or manual crawls of the same sites are skipped meanwhile.
                result = run_crawl(settings, store, registry, site_keys=sites, overrides=overrides,
                                   trigger="worker", registry_paths=[str(p) for p in settings.registry],
                                   spider="notices_distributed", holder=f"distributed:{prefix}",
                                   quiet=not verbose, process=process)
                process = None
                echo_result(result)
                if not loop:
                    break
                time.sleep(pause)
        finally:
            store.close()
    finally:
        if process is not None:
            process.cancel()
    if result.run_id is not None and result.status == "failed":
        raise click.ClickException(f"worker run {result.run_id} failed; see {result.log_file}")
