"""``noticewatch export --bag DIR``: the selection as a BagIt bag (see storage/bag.py)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from noticewatch.store import open_store
from storage.bag import write_bag

if TYPE_CHECKING:
    from noticewatch.config import Settings


def export_bag(settings: Settings, target: Path, *, site: str | None, date_from: datetime | None,
               date_to: datetime | None, status: str | None) -> None:
    # --from/--to select by publication date (calendar days in UTC+8), as in `export`.
    store = open_store(settings)
    try:
        with store.factory() as session:
            try:
                result = write_bag(session, store.blobs, settings.data_path / "warc", target, site_key=site,
                                   status=status, published_from=date_from.date() if date_from else None,
                                   published_to=date_to.date() if date_to else None)
            except FileExistsError as exc:
                raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
    click.echo(f"bag {result.path}: {result.notices} notices, {result.attachments} attachments, "
               f"{result.warc_files} WARC files", err=True)
    if result.missing:
        click.echo(f"warning: {len(result.missing)} referenced files were missing from the store:", err=True)
        for rel in result.missing[:20]:
            click.echo(f"  {rel}", err=True)
