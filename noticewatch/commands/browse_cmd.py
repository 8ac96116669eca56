"""``noticewatch show`` and ``noticewatch runs``: a notice's history, what runs found."""

from __future__ import annotations

import click

from noticewatch.commands._common import get_settings
from noticewatch.store import open_store
from noticewatch.timefmt import cst
from storage import repository


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


@click.group(invoke_without_command=True)
@click.option("--limit", default=20, show_default=True)
@click.pass_context
def runs(ctx: click.Context, limit: int) -> None:
    """List crawl runs with what they found; `runs show ID` for one run."""
    if ctx.invoked_subcommand is not None:
        return
    store = open_store(get_settings(ctx))
    keys = ("new", "changed", "withdrawn", "duplicate", "failed", "blocked")
    try:
        with store.factory() as session:
            click.echo(f"{'id':>5} {'started (UTC+8)':19} {'status':11} {'trigger':9} " + " ".join(f"{k:>9}" for k in keys))
            for run in repository.list_runs(session, limit=limit):
                counts = run.counts or {}
                click.echo(f"{run.id:>5} {cst(run.started_at):19} {run.status:11} {run.trigger:9} "
                           + " ".join(f"{counts.get(k, 0):>9}" for k in keys))
    finally:
        store.close()


@runs.command("show")
@click.argument("run_id", type=int)
@click.pass_context
def runs_show(ctx: click.Context, run_id: int) -> None:
    """Details of one run: counts, timing and every recorded error."""
    store = open_store(get_settings(ctx))
    try:
        with store.factory() as session:
            found = repository.get_run(session, run_id)
            if found is None:
                raise click.ClickException(f"no run with id {run_id}")
            run, errors = found if isinstance(found, tuple) else (found, getattr(found, "errors", []))
            click.echo(f"run {run.id}: {run.status} ({run.trigger})")
            click.echo(f"  started {cst(run.started_at)}  finished {cst(run.finished_at)}")
            for key, value in sorted((run.counts or {}).items()):
                click.echo(f"  {key:20} {value}")
            if run.error:
                click.echo(f"  error: {run.error}")
            if errors:
                click.echo(f"\n{len(errors)} errors:")
                for err in errors:
                    click.echo(f"  [{err.kind}] {err.url} {err.detail}")
    finally:
        store.close()
