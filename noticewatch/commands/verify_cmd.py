"""``noticewatch verify``: re-hash every stored blob and WARC record; non-zero exit on damage."""

from __future__ import annotations

import os

import click

from noticewatch.commands._common import get_settings
from noticewatch.store import open_store
from storage.fixity import verify_all


@click.command()
@click.option("--quick", is_flag=True, help="Check presence and sizes only (no hashing, no WARC reading).")
@click.option("--workers", type=int, default=min(4, os.cpu_count() or 1), show_default=True,
              help="Files hashed in parallel.")
@click.option("--clean-incoming", is_flag=True, help="Delete temp files a killed write left in blobs/.")
@click.option("--max-lines", type=int, default=50, show_default=True, help="Problems listed (0: all).")
@click.pass_context
def verify(ctx: click.Context, quick: bool, workers: int, clean_incoming: bool, max_lines: int) -> None:
    """Check the archive's fixity: blobs against their SHA-256, WARC files against their digests."""
    settings = get_settings(ctx)
    store = open_store(settings)
    try:
        with store.factory.begin() as session:
            report = verify_all(session, store.blobs, settings.data_path / "warc", quick=quick, workers=workers)
        if clean_incoming:
            removed = store.blobs.clean_incoming()
            click.echo(f"removed {removed} left-over temp files")
    finally:
        store.close()
    lines = list(report.lines())
    shown = lines if max_lines <= 0 else lines[:max_lines + 2]
    for line in shown:
        click.echo(line)
    if len(shown) < len(lines):
        click.echo(f"… {len(lines) - len(shown)} more")
    if not report.ok:
        click.echo("verify: FAILED (missing or corrupt files)", err=True)
        ctx.exit(1)
    click.echo("verify: ok" + (" (quick)" if quick else ""))
