"""``noticewatch show`` and ``noticewatch runs``: a notice's history, what runs found."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import click
from sqlalchemy import select

from noticewatch.commands._common import get_settings
from noticewatch.store import open_store
from noticewatch.timefmt import cst
from storage import repository
from storage.models import Site


@click.command()
@click.argument("notice_id", type=int)
@click.pass_context
def show(ctx: click.Context, notice_id: int) -> None:
    """Print a notice with its versions and a field-level diff between them."""
    store = open_store(get_settings(ctx))
    try:
        with store.factory() as session:
            notice = repository.get_notice(session, notice_id)
            if notice is None:
                raise click.ClickException(f"no notice with id {notice_id}")
            click.echo(f"#{notice.id} {notice.title}")
            click.echo(f"  url:        {notice.url}")
            click.echo(f"  status:     {notice.status}" + (f" since {cst(notice.withdrawn_at)}" if notice.withdrawn_at else ""))
            click.echo(f"  published:  {notice.published_at or '-'}")
            click.echo(f"  first seen: {cst(notice.first_seen_at)}   last changed: {cst(notice.last_changed_at)}")
            if notice.duplicate_of_id:
                click.echo(f"  duplicate of: #{notice.duplicate_of_id}")
            versions = list(notice.versions)
            for index, version in enumerate(versions):
                click.echo(f"\nversion {version.version}  fetched {cst(version.fetched_at)}"
                           + (f"  warc {version.warc_record}" if version.warc_record else ""))
                if index == 0:
                    for att in version.attachments:
                        click.echo(f"  attachment: {att.name} {att.blob_sha256 or '(' + (att.skipped_reason or 'missing') + ')'}")
                    continue
                for change in repository.version_diff(versions[index - 1], version):
                    click.echo(f"  {change.field}: {change.describe() if hasattr(change, 'describe') else change}")
    finally:
        store.close()


RUN_COUNT_KEYS = ("new", "changed", "withdrawn", "duplicate", "failed", "blocked")
_SITE_COLUMNS = (("lists", "lists_parsed"), ("304", "lists_not_modified"), ("entries", "list_entries"),
                 ("new", "new"), ("changed", "changed"), ("seen", "seen"), ("withdrawn", "withdrawn"),
                 ("dup", "duplicate"))
ERRORS_SHOWN_PER_KIND = 5


@click.group(invoke_without_command=True)
@click.option("--limit", default=20, show_default=True)
@click.pass_context
def runs(ctx: click.Context, limit: int) -> None:
    """List crawl runs with what they found; `runs show ID` for one run."""
    if ctx.invoked_subcommand is not None:
        return
    store = open_store(get_settings(ctx))
    keys = RUN_COUNT_KEYS
    try:
        with store.factory() as session:
            click.echo(f"{'id':>5} {'started (UTC+8)':19} {'status':11} {'trigger':9} "
                       + " ".join(f"{k:>9}" for k in keys) + "  sites")
            for run in repository.list_runs(session, limit=limit):
                counts = run.counts or {}
                click.echo(f"{run.id:>5} {cst(run.started_at):19} {run.status:11} {run.trigger:9} "
                           + " ".join(f"{counts.get(k, 0):>9}" for k in keys) + f"  {_run_sites(run)}")
    finally:
        store.close()


def _run_sites(run: Any) -> str:
    stats = run.stats or {}
    keys = sorted({*(stats.get("sites") or {}), *(stats.get("skipped_blocked") or {})})
    if not keys and run.site is not None:
        keys = [run.site.key]
    return ",".join(keys) or "-"


@runs.command("show")
@click.argument("run_id", type=int)
@click.pass_context
def runs_show(ctx: click.Context, run_id: int) -> None:
    """Details of one run: counts, per-site figures and health, errors grouped by kind."""
    store = open_store(get_settings(ctx))
    try:
        with store.factory() as session:
            run = repository.get_run(session, run_id)
            if run is None:
                raise click.ClickException(f"no run with id {run_id}")
            click.echo(f"run {run.id}: {run.status} ({run.trigger})")
            click.echo(f"  started {cst(run.started_at)}  finished {cst(run.finished_at)}")
            for key, value in sorted((run.counts or {}).items()):
                click.echo(f"  {key:20} {value}")
            if run.error:
                click.echo(f"  error: {run.error}")
            stats = run.stats or {}
            _echo_sites(stats.get("sites") or {}, stats.get("health") or {})
            for key, until in sorted((stats.get("skipped_blocked") or {}).items()):
                click.echo(f"  skipped {key}: it blocked an earlier crawl; backed off until {until}")
            _echo_errors(session, run)
    finally:
        store.close()


def _echo_sites(figures: dict[str, Any], verdicts: dict[str, Any]) -> None:
    keys = sorted({*figures, *verdicts})
    if not keys:
        return
    width = max(len(k) for k in keys)
    click.echo(f"\n{'site':{width}} {'health':14} " + " ".join(f"{h:>8}" for h, _ in _SITE_COLUMNS) + "   errors")
    for key in keys:
        site = figures.get(key) or {}
        verdict = verdicts.get(key) or {}
        errors = ", ".join(f"{kind} {n}" for kind, n in sorted((site.get("errors") or {}).items()))
        click.echo(f"{key:{width}} {verdict.get('status', '-'):14} "
                   + " ".join(f"{site.get(field, 0):>8}" for _, field in _SITE_COLUMNS) + f"   {errors or '-'}")
        if verdict.get("detail"):
            click.echo(f"{'':{width}}   {verdict['detail']}")


def _echo_errors(session: Any, run: Any) -> None:
    errors = list(run.fetch_errors)
    if not errors:
        return
    site_keys = dict(session.execute(select(Site.id, Site.key)).tuples().all())
    by_kind: dict[str, list[Any]] = defaultdict(list)
    for err in errors:
        by_kind[err.kind].append(err)
    click.echo(f"\n{len(errors)} errors:")
    for kind, group in sorted(by_kind.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        per_site = Counter(site_keys.get(e.site_id, "-") for e in group)
        click.echo(f"  {kind} ({len(group)}): " + ", ".join(f"{k} {n}" for k, n in sorted(per_site.items())))
        for err in group[:ERRORS_SHOWN_PER_KIND]:
            click.echo(f"    {err.url} {err.detail}")
        if len(group) > ERRORS_SHOWN_PER_KIND:
            click.echo(f"    … and {len(group) - ERRORS_SHOWN_PER_KIND} more")
