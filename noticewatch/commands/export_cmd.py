"""``noticewatch export``: notices as JSON Lines or CSV (stable schema)."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import click

from noticewatch.commands._common import get_settings
from noticewatch.store import open_store
from noticewatch.timefmt import CST
from storage import repository

CSV_FIELDS = ("id", "site", "site_name", "columns", "url", "title", "published_at", "source", "index_no",
              "doc_no", "issuing_org", "written_date", "validity", "subject", "status", "version",
              "first_seen_at", "last_changed_at", "duplicate_of", "attachments", "body_text")


@contextmanager
def _output(path: str | None) -> Iterator[IO[str]]:
    if not path or path == "-":
        yield sys.stdout
        return
    target = Path(path)
    tmp = target.with_name(f".{target.name}.part")
    try:
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            yield fh
        tmp.replace(target)  # a half-written export never takes the real name
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _check_output(path: str | None) -> None:
    """Refuse an unwritable -o before any work: one line, nothing written."""
    if not path or path == "-":
        return
    parent = Path(path).parent
    if not parent.is_dir():
        raise click.ClickException(f"cannot write {path}: directory {parent} does not exist")
    if Path(path).is_dir():
        raise click.ClickException(f"cannot write {path}: it is a directory")


def _csv_row(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: row.get(k) for k in CSV_FIELDS}
    out["columns"] = "; ".join(row.get("columns") or [])
    out["attachments"] = "; ".join(f"{a.get('name')} <{a.get('url')}>" for a in row.get("attachments") or [])
    return out


def write_rows(rows: Iterable[dict[str, Any]], fmt: str, output: str | None) -> int:
    """Write export rows as JSON Lines or CSV to ``output`` (standard output for None or -)."""
    count = 0
    with _output(output) as fh:
        if fmt == "jsonl":
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                count += 1
        else:
            writer = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
            writer.writeheader()
            for row in rows:
                writer.writerow(_csv_row(row))
                count += 1
    if output and output != "-":
        click.echo(f"exported {count} notices to {output}", err=True)
    return count


@click.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("--site", default=None, help="Only this site key.")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Published on or after (YYYY-MM-DD, UTC+8).")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Published on or before.")
@click.option("--status", type=click.Choice(["active", "withdrawn"]), default=None)
@click.option("--changed-since", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S%z"]), default=None,
              help="Only notices first seen or changed since this time (incremental exports).")
@click.option("-o", "--output", default=None, help="File to write (default: standard output).")
@click.option("--bag", "bag_dir", default=None, type=click.Path(file_okay=False),
              help="Write a BagIt bag (notices.jsonl, attachments, WARC files) into this new directory.")
@click.pass_context
def export(ctx: click.Context, fmt: str, site: str | None, date_from: datetime | None, date_to: datetime | None,
           status: str | None, changed_since: datetime | None, output: str | None, bag_dir: str | None) -> None:
    """Export notices, one JSON object (or CSV row) per notice."""
    settings = get_settings(ctx)
    _check_output(output)
    if bag_dir:
        from noticewatch.commands.bag_export import export_bag

        export_bag(settings, Path(bag_dir), site=site, date_from=date_from, date_to=date_to, status=status)
        return
    store = open_store(settings)
    try:
        with store.factory() as session:
            since = changed_since.replace(tzinfo=changed_since.tzinfo or CST) if changed_since else None
            write_rows(repository.iter_export_rows(
                session, site_key=site, status=status, since=since,
                published_from=date_from.date() if date_from else None,
                published_to=date_to.date() if date_to else None), fmt, output)
    finally:
        store.close()
