"""``noticewatch demo`` (crawl the bundled demo web) and ``noticewatch demo-web`` (serve it)."""

from __future__ import annotations

import os
from itertools import islice
from pathlib import Path

import click
import yaml

from crawler.registry import load_registry
from noticewatch.commands._common import get_settings
from noticewatch.commands.crawl_cmd import echo_result
from noticewatch.crawling import run_crawl
from noticewatch.store import Store, open_store
from storage import repository
from storage.overview import site_overview

# The demo web is local: no politeness delay is needed, and it lets the demo finish in seconds.
# The address guard refuses loopback; the demo web (the crawl's proxy) is on 127.0.0.1 only.
DEMO_OVERRIDES = ("DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=False", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
                  "NOTICEWATCH_ALLOW_PRIVATE_NETWORKS=127.0.0.1/32")


def proxy_env(proxy_url: str) -> dict[str, str]:
    """Environment for a crawl whose every request goes through the local demo web."""
    env = dict(os.environ)
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        env[name] = proxy_url
    for name in ("no_proxy", "NO_PROXY"):
        env.pop(name, None)
    return env


def write_demo_registry(data_dir: Path) -> Path:
    from noticewatch.demoweb import demo_registry

    path = data_dir / "demo-registry.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# Written by `noticewatch demo`: the bundled demo sites.\n"
                    + yaml.safe_dump(demo_registry(), allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def print_archive_summary(store: Store, *, examples: int = 3) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    with store.factory() as session:
        summary = repository.summary(session)
        table = Table(title="Archive")
        table.add_column("what")
        table.add_column("count", justify="right")
        for key, value in summary.items():
            table.add_row(str(key).replace("_", " "), str(value))
        console.print(table)
        sites = Table(title="Sites")
        for name in ("site", "name", "family", "notices", "attachments"):
            sites.add_column(name)
        for row in site_overview(session):
            sites.add_row(*(str(row.get(k, "")) for k in ("key", "name", "family", "notices", "attachments")))
        console.print(sites)
        # Show the richest notices: those with attachments and disclosure fields first.
        rows = sorted(islice(repository.iter_export_rows(session), 200),
                      key=lambda r: (not r.get("attachments"), not r.get("doc_no"), r["id"]))
        for row in rows[:examples]:
            body = (row.get("body_text") or "").replace("\n", " ")
            console.print(f"[bold]{row['title']}[/bold]  ({row['site_name']}, {row.get('published_at') or '-'})")
            console.print(f"  来源: {row.get('source') or '-'}  文号: {row.get('doc_no') or '-'}  "
                          f"附件: {len(row.get('attachments') or [])}")
            console.print(f"  {body[:120]}…" if len(body) > 120 else f"  {body}")


@click.command()
@click.option("--port", default=0, show_default=True, help="Port of the local demo web (0: any free port).")
@click.pass_context
def demo(ctx: click.Context, port: int) -> None:
    """Serve the bundled demo sites locally, crawl them into the archive, print what was archived."""
    from noticewatch.demoweb import DemoWeb

    settings = get_settings(ctx)
    registry_path = write_demo_registry(settings.data_path)
    registry = load_registry([registry_path])
    store = open_store(settings)
    try:
        with DemoWeb(port=port) as web:
            click.echo(f"demo web serving {len(registry.sites)} sites through {web.proxy_url}")
            result = run_crawl(settings, store, registry, overrides=DEMO_OVERRIDES, trigger="manual",
                               registry_paths=[str(registry_path)], env=proxy_env(web.proxy_url))
        echo_result(result)
        print_archive_summary(store)
        click.echo(f"\narchive: {settings.data_path.resolve()}  (try: noticewatch export --format jsonl)")
    finally:
        store.close()
    if not result.crawled_anything:
        raise click.ClickException("the demo crawl archived nothing; see " + str(result.log_file))


@click.command("demo-web")
@click.option("--port", default=8765, show_default=True)
def demo_web(port: int) -> None:
    """Serve the demo sites on 127.0.0.1:PORT until interrupted (use it as an HTTP proxy)."""
    from noticewatch.demoweb.server import main as serve

    click.echo(f"crawl them with: http_proxy=http://127.0.0.1:{port} noticewatch crawl ...")
    serve(["--port", str(port)])
