"""``noticewatch crawl``: crawl the sites of the registry into the store."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from crawler.registry import RegistryError, load_registry
from noticewatch.commands._common import get_settings
from noticewatch.crawl_process import CrawlProcess

if TYPE_CHECKING:
    from noticewatch.crawling import CrawlResult


def _keys(keys: list[str], *, most: int = 12) -> str:
    """Site keys for one terminal line: a crawl of 2,000 sites should not print them all."""
    shown = ", ".join(keys[:most])
    return shown if len(keys) <= most else f"{shown} … ({len(keys)} sites)"


def echo_result(result: CrawlResult) -> None:
    if result.skipped_locked:
        click.echo(f"skipped (another crawl holds the lock): {_keys(result.skipped_locked)}")
    if result.skipped_blocked:
        click.echo(f"skipped (blocked an earlier crawl; backed off): {_keys(result.skipped_blocked)}")
    if result.run_id is None:
        return
    counts = result.counts
    keys = ("new", "changed", "unchanged", "seen", "withdrawn", "duplicate", "failed", "blocked", "requests")
    summary = ", ".join(f"{k} {counts.get(k, 0)}" for k in keys)
    click.echo(f"run {result.run_id} {result.status}: {_keys(result.sites)}")
    click.echo(f"  {summary}")
    if result.log_file:
        click.echo(f"  log: {result.log_file}")
    unwell = {k: v for k, v in result.health.items() if v not in ("ok", "quiet")}
    if unwell:
        click.echo("  site health: " + ", ".join(f"{k} {v}" for k, v in sorted(unwell.items())))


@click.command()
@click.option("--site", "sites", multiple=True, metavar="KEY", help="Crawl only this site (repeatable).")
@click.option("-s", "--set", "scrapy_overrides", multiple=True, metavar="NAME=VALUE",
              help="Scrapy setting, exactly like `scrapy crawl -s NAME=VALUE` (highest precedence).")
@click.option("--trigger", default="manual", type=click.Choice(["manual", "cron", "scheduler", "worker"]),
              help="Recorded with the run.")
@click.option("--verbose", is_flag=True, help="Show Scrapy's log on the terminal too.")
@click.pass_context
def crawl(ctx: click.Context, sites: tuple[str, ...], scrapy_overrides: tuple[str, ...], trigger: str,
          verbose: bool) -> None:
    """Crawl every site in the registry (or --site KEY ...) into the archive."""
    settings = get_settings(ctx)
    # Scrapy's process starts now and imports while this one loads the store (see
    # noticewatch/crawl_process.py); it gets its run, or is let go, below.
    process = CrawlProcess.start(quiet=not verbose)
    try:
        try:
            registry = load_registry(settings.registry or None)
            registry.select(sites or None)
        except RegistryError as exc:
            raise click.ClickException(str(exc)) from exc
        from noticewatch.crawling import run_crawl
        from noticewatch.store import open_store

        store = open_store(settings)
        try:
            result = run_crawl(settings, store, registry, site_keys=sites, overrides=scrapy_overrides,
                               trigger=trigger, registry_paths=[str(p) for p in settings.registry],
                               quiet=not verbose, process=process)
        finally:
            store.close()
    finally:
        process.cancel()
    echo_result(result)
    if result.run_id is not None and not result.crawled_anything:
        raise click.ClickException("nothing could be crawled; see the run's errors with `noticewatch runs show "
                                   f"{result.run_id}`")
