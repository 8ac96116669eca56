"""``noticewatch alerts``: deliver what is due, read the delivery log, write static feeds."""

from __future__ import annotations

from contextlib import closing

import click

from noticewatch.commands._common import get_settings
from noticewatch.store import open_store
from noticewatch.timefmt import cst
from pipeline.alerts.feeds import write_static_feeds
from pipeline.alerts.sender import send_due
from storage import alerts as alert_store


@click.group()
def alerts() -> None:
    """Deliver alerts and inspect deliveries."""


@alerts.command("send")
@click.pass_context
def send(ctx: click.Context) -> None:
    """Fan out new events, send instant alerts and the digests that are due.

    Delivery is at-least-once: a message whose result could not be recorded (a crash
    right after sending) is sent again with the same idempotency key.
    """
    settings = get_settings(ctx)
    with closing(open_store(settings)) as store:
        report = send_due(store, settings)
    click.echo(report.summary())
    for error in report.errors[:20]:
        click.echo(f"  failed: {error}", err=True)
    if report.dead:
        click.echo(f"{report.dead} deliveries were given up: see `noticewatch alerts log --failed`", err=True)


@alerts.command("log")
@click.option("--failed", "failed_only", is_flag=True, help="Only failed (retrying) and given-up deliveries.")
@click.option("--limit", default=50, show_default=True)
@click.pass_context
def log(ctx: click.Context, failed_only: bool, limit: int) -> None:
    """Show recent deliveries, newest first, and subscriptions flagged as failing."""
    with closing(open_store(get_settings(ctx))) as store, store.factory() as session:
        rows = alert_store.delivery_log(session, failed_only=failed_only, limit=limit)
        failing = [s for s in alert_store.list_subscriptions(session) if s.state == "failing"]
    for sub in failing:
        click.echo(f"! subscription #{sub.id} {sub.name} is failing: deliveries were given up")
    if not rows:
        click.echo("no deliveries" + (" failed" if failed_only else ""))
        return
    click.echo(f"{'id':>6} {'status':8} {'att':>3} {'sent / next try (UTC+8)':23} {'subscription':16} {'event':>6} "
               f"{'kind':9} title")
    for r in rows:
        when = cst(r.sent_at) if r.sent_at else (f"next {cst(r.next_attempt_at)}" if r.next_attempt_at else "-")
        click.echo(f"{r.delivery_id:>6} {r.status:8} {r.attempts:>3} {when:23} {r.subscription[:16]:16} "
                   f"{r.event_id:>6} {r.kind:9} {r.title[:40]}")
        if r.last_error and r.status != "sent":
            click.echo(f"{'':>6} error: {r.last_error}")


@alerts.command("feeds")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Directory to write site/*.atom|rss and subscription/*.atom|rss into.")
@click.pass_context
def feeds(ctx: click.Context, out_dir: str) -> None:
    """Write Atom and RSS feeds as static files."""
    settings = get_settings(ctx)
    with closing(open_store(settings)) as store:
        written = write_static_feeds(store, out_dir, base_url=settings.public_base_url)
    click.echo(f"wrote {len(written)} feeds to {out_dir}")
