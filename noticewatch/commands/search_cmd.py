"""``noticewatch search``: ranked full-text search with snippets, or an export of the hits."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from noticewatch.commands._common import get_settings
from noticewatch.commands.export_cmd import write_rows
from noticewatch.store import open_store
from storage import search as search_api
from storage.export import export_row
from storage.models import Notice, NoticeVersion, VersionAttachment

_MARK = re.compile(r"【(.*?)】")


class SearchProblem(click.ClickException):
    exit_code = 2


def _export_rows(session: Session, ids: Iterator[int], batch: int = 200) -> Iterator[dict[str, Any]]:
    """Export rows (the ``noticewatch export`` schema) for ``ids``, keeping their order."""
    pending: list[int] = []

    def flush() -> Iterator[dict[str, Any]]:
        notices = {n.id: n for n in session.scalars(
            select(Notice).where(Notice.id.in_(pending)).options(
                joinedload(Notice.site), selectinload(Notice.columns),
                selectinload(Notice.current_version).selectinload(NoticeVersion.attachments)
                .joinedload(VersionAttachment.blob)))}
        for notice_id in pending:
            if notice_id in notices:
                yield export_row(notices[notice_id])
        session.expunge_all()

    for notice_id in ids:
        pending.append(notice_id)
        if len(pending) >= batch:
            yield from flush()
            pending = []
    if pending:
        yield from flush()


@click.command()
@click.argument("query", default="")
@click.option("--site", default=None, help="Only this site key.")
@click.option("--column", default=None, help="Only this column (URL, name or id).")
@click.option("--from", "date_from", default=None, help="Published on or after (YYYY, YYYY-MM or YYYY-MM-DD).")
@click.option("--to", "date_to", default=None, help="Published on or before (YYYY, YYYY-MM or YYYY-MM-DD).")
@click.option("--issuing-org", default=None, help="Issuing body contains this text.")
@click.option("--doc-no", default=None, help="Document number contains this text.")
@click.option("--status", type=click.Choice(["active", "withdrawn"]), default=None)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--offset", default=0, type=click.IntRange(0), help="Skip this many hits (paging).")
@click.option("--json", "as_json", is_flag=True, help="Print the hits as one JSON document.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default=None,
              help="Export every hit (not only --limit) in the `noticewatch export` schema.")
@click.option("-o", "--output", default=None, help="File for --format (default: standard output).")
@click.pass_context
def search(ctx: click.Context, query: str, site: str | None, column: str | None, date_from: str | None,
           date_to: str | None, issuing_org: str | None, doc_no: str | None, status: str | None,
           limit: int, offset: int, as_json: bool, fmt: str | None, output: str | None) -> None:
    """Search titles, bodies and attachment text.

    \b
    Words and "phrases" match anywhere (垃圾分类 finds 生活垃圾分类); words side by side
    must all occur; OR, NOT/-word and (parentheses) combine them. Filters can also be
    written inline: site:mawei from:2024-01 to:2024-06-30 org:教育局 doc_no:〔2024〕
    status:active column:通知公告.
    """
    filters = {"site": site, "column": column, "date_from": date_from, "date_to": date_to,
               "issuing_org": issuing_org, "doc_no": doc_no, "status": status}
    try:
        parsed = search_api.parse_query(query, filters)
    except search_api.SearchSyntaxError as exc:
        raise SearchProblem(f"cannot read the query: {exc}") from None
    store = open_store(get_settings(ctx))
    try:
        with store.factory() as session:
            if fmt is not None:
                _export(session, parsed, fmt, output)
                return
            result = search_api.search(session, parsed, limit=limit, offset=offset)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps({
            "query": query, "filters": parsed.filters, "total": result.total,
            "total_is_capped": result.total_is_capped, "offset": result.offset,
            "hits": [h.as_dict() for h in result.hits],
        }, ensure_ascii=False, indent=2))
        return
    _print_hits(result, sys.stdout.isatty())


def _export(session: Session, parsed: search_api.ParsedQuery, fmt: str, output: str | None) -> None:
    write_rows(_export_rows(session, search_api.iter_search_ids(session, parsed)), fmt, output)


def _print_hits(result: search_api.SearchResult, color: bool) -> None:
    def marked(text: str) -> str:
        if not color:
            return text
        return _MARK.sub(lambda m: click.style(m.group(1), fg="yellow", bold=True), text)

    shown_total = f"{result.total}+" if result.total_is_capped else str(result.total)
    if not result.hits:
        click.echo("no notices found" if result.offset == 0 else f"no more hits ({shown_total} in all)")
        return
    for hit in result.hits:
        date = (hit.published_at or "")[:10] or "----------"
        state = "" if hit.status == "active" else f" [{hit.status}]"
        title = search_api.highlight(hit.title, result.terms, html_marks=False)
        click.echo(f"#{hit.notice_id:<6} {date} {hit.site:<10} {marked(title)}{state}")
        click.echo(f"         {marked(hit.snippet)}")
    first = result.offset + 1
    click.echo(f"\n{first}–{result.offset + len(result.hits)} of {shown_total} notices", err=True)
