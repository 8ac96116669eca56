"""``noticewatch subscriptions``: saved searches and where their alerts go."""

from __future__ import annotations

import json
from contextlib import closing

import click
from sqlalchemy.orm import Session

from noticewatch.commands._common import get_settings
from noticewatch.config import Settings
from noticewatch.store import open_store
from noticewatch.timefmt import cst
from pipeline.alerts.channels import DeliveryError, parse_channel
from pipeline.alerts.feeds import feed_path
from pipeline.alerts.messages import sample_message
from storage import alerts
from storage.clock import utcnow
from storage.models import Subscription


def _feed_url(settings: Settings, sub: Subscription) -> str:
    return f"{settings.public_base_url.rstrip('/')}/{feed_path(subscription=sub)}"


def _find(session: Session, ref: str) -> Subscription:
    sub = alerts.get_subscription(session, ref)
    if sub is None:
        raise click.ClickException(f"no subscription {ref!r}")
    return sub


@click.group()
def subscriptions() -> None:
    """Add, list, show, remove and test alert subscriptions."""


@subscriptions.command("add")
@click.option("--name", required=True, help="Unique name.")
@click.option("--channel", "channel_url", required=True,
              help="mailto:a@b.cn, smtp://host/?to=…, webhook+https://…, feed:, or an Apprise URL.")
@click.option("--site", "sites", multiple=True, help="Only these site keys (repeatable).")
@click.option("--column", "columns", multiple=True, help="Only notices listed in these column URLs.")
@click.option("--all", "all_words", multiple=True, help="Every one of these words must appear.")
@click.option("--any", "any_words", multiple=True, help="At least one of these words must appear.")
@click.option("--none", "none_words", multiple=True, help="None of these words may appear.")
@click.option("--issuing-org", default=None, help="Text contained in the issuing body.")
@click.option("--doc-no", default=None, help="Regular expression searched in the document number.")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(["new", "changed", "withdrawn"]),
              help="Event kinds (default: all three).")
@click.option("--mode", type=click.Choice(list(alerts.MODES)), default="instant", show_default=True)
@click.option("--backfill", is_flag=True, help="Also alert on the first crawl of a new site.")
@click.pass_context
def add(ctx: click.Context, name: str, channel_url: str, sites: tuple[str, ...], columns: tuple[str, ...],
        all_words: tuple[str, ...], any_words: tuple[str, ...], none_words: tuple[str, ...],
        issuing_org: str | None, doc_no: str | None, kinds: tuple[str, ...], mode: str,
        backfill: bool) -> None:
    """Add a subscription (words match title, body and attachment text)."""
    settings = get_settings(ctx)
    try:
        parse_channel(channel_url, settings)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--channel") from None
    filters = {"sites": sites, "columns": columns, "all": all_words, "any": any_words,
               "none": none_words, "issuing_org": issuing_org, "doc_no": doc_no, "kinds": kinds,
               "backfill": backfill}
    with closing(open_store(settings)) as store, store.factory.begin() as session:
        try:
            sub = alerts.create_subscription(session, name=name, channel_url=channel_url,
                                             filters=filters, mode=mode, now=utcnow())
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"added subscription #{sub.id} {sub.name} ({sub.mode})")
        if channel_url.split(":", 1)[0].lower() in ("webhook+https", "webhook+http", "https", "http"):
            click.echo(f"webhook signing secret: {sub.secret}")
        click.echo(f"feed: {_feed_url(settings, sub)}")


@subscriptions.command("list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """List subscriptions with their delivery counts; failing ones are marked."""
    with closing(open_store(get_settings(ctx))) as store, store.factory() as session:
        counts = alerts.delivery_counts(session)
        subs = alerts.list_subscriptions(session)
        if not subs:
            click.echo("no subscriptions (add one with `noticewatch subscriptions add`)")
            return
        click.echo(f"{'id':>4} {'name':20} {'mode':8} {'state':8} {'sent':>6} {'queued':>6} {'dead':>5}  channel")
        for sub in subs:
            c = counts.get(sub.id, {})
            queued = c.get("pending", 0) + c.get("failed", 0) + c.get("sending", 0)
            flag = " !" if sub.state == "failing" else ""
            click.echo(f"{sub.id:>4} {sub.name[:20]:20} {sub.mode:8} {sub.state:8} {c.get('sent', 0):>6} "
                       f"{queued:>6} {c.get('dead', 0):>5}  {alerts.redact_channel_url(sub.channel_url)}{flag}")
        if any(s.state == "failing" for s in subs):
            click.echo("! failing: deliveries were given up; see `noticewatch alerts log --failed`")


@subscriptions.command("show")
@click.argument("ref")
@click.pass_context
def show(ctx: click.Context, ref: str) -> None:
    """Show one subscription (NAME or ID) with its filters and latest deliveries."""
    settings = get_settings(ctx)
    with closing(open_store(settings)) as store, store.factory() as session:
        sub = _find(session, ref)
        click.echo(f"#{sub.id} {sub.name}")
        click.echo(f"  channel: {alerts.redact_channel_url(sub.channel_url)}")
        click.echo(f"  mode:    {sub.mode}   state: {sub.state}   created: {cst(sub.created_at)}")
        if sub.mode != "instant":
            click.echo(f"  last digest: {cst(sub.last_digest_at)}")
        click.echo(f"  filters: {json.dumps(sub.filters or {}, ensure_ascii=False)}")
        click.echo(f"  feed:    {_feed_url(settings, sub)}")
        for row in alerts.delivery_log(session, subscription_id=sub.id, limit=10):
            click.echo(f"  {row.status:8} attempts {row.attempts}  event {row.event_id} {row.kind:9} "
                       f"{row.title[:40]}" + (f"  error: {row.last_error}" if row.last_error else ""))


@subscriptions.command("remove")
@click.argument("ref")
@click.pass_context
def remove(ctx: click.Context, ref: str) -> None:
    """Remove a subscription (NAME or ID) and its delivery records."""
    with closing(open_store(get_settings(ctx))) as store, store.factory.begin() as session:
        sub = _find(session, ref)
        label = f"#{sub.id} {sub.name}"
        alerts.delete_subscription(session, sub)
    click.echo(f"removed subscription {label}")


@subscriptions.command("test")
@click.argument("ref")
@click.pass_context
def test(ctx: click.Context, ref: str) -> None:
    """Send a sample alert through the subscription's channel and report the result."""
    settings = get_settings(ctx)
    with closing(open_store(settings)) as store, store.factory() as session:
        sub = _find(session, ref)
        name, sub_id, url, secret = sub.name, sub.id, sub.channel_url, sub.secret
    try:
        channel = parse_channel(url, settings)
        if not channel.pushes:
            click.echo(f"{name}: feed subscription, nothing to push; read "
                       f"{settings.public_base_url.rstrip('/')}/feeds/subscription/{sub_id}.atom?token={secret}")
            return
        detail = channel.send(sample_message(name, sub_id, base_url=settings.public_base_url),
                              secret=secret)
    except (ValueError, DeliveryError) as exc:
        raise click.ClickException(f"{name}: test alert failed: {exc}") from None
    click.echo(f"{name}: test alert sent ({detail})")
