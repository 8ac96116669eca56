"""``noticewatch sites``: list the sites, add one by a column URL, check extraction.

The fetching and detection live in ``crawler.discovery`` (shared with the web app);
this module only turns them into commands and output.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from pathlib import Path

import click

from crawler.discovery import (
    ColumnCheck,
    Detection,
    DiscoveryError,
    Fetcher,
    add_to_registry,
    check_column,
    detect_site,
    fetcher_with_limits,
    site_row,
    suggest_key,
)
from crawler.parsing.families import ADAPTERS
from crawler.parsing.types import ParsedNotice
from crawler.registry import Registry, RegistryError, load_registry
from crawler.registry_edit import AlreadyRegistered, known_column, refuse_registered
from noticewatch.commands._common import get_settings
from noticewatch.config import Settings
from noticewatch.store import open_store
from noticewatch.timefmt import cst
from storage import repository
from storage.overview import site_overview

FAMILY_CHOICES = ["auto", *(a.name for a in ADAPTERS)]
USER_REGISTRY = "sites.yaml"


def _registry(settings: Settings) -> Registry:
    try:
        return load_registry(list(settings.registry) or None)
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from exc


def _fetcher(settings: Settings, url: str) -> Fetcher:
    try:
        return fetcher_with_limits(url, settings)
    except DiscoveryError as exc:
        raise click.BadParameter(str(exc), param_hint="URL") from exc


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Aligned columns that respect the double width of Chinese characters."""
    widths = [max(_width(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        cells = [str(c) + " " * (w - _width(str(c))) for c, w in zip(row, widths, strict=True)]
        click.echo("  ".join(cells).rstrip())


@click.group()
def sites() -> None:
    """List the sites, add one by the URL of a column page, check extraction."""


@sites.command("list")
@click.pass_context
def list_sites(ctx: click.Context) -> None:
    """The sites of the registry with what the archive knows about them."""
    settings = get_settings(ctx)
    registry = _registry(settings)
    store = open_store(settings)
    try:
        with store.factory() as session:
            stored = {row["key"]: row for row in site_overview(session)}
    finally:
        store.close()
    rows = []
    for site in registry.sites:
        info = stored.pop(site.key, {})
        last = info.get("last_run_at")
        rows.append([site.key, site.name, site.family, str(len(site.columns)), "yes" if site.verified else "no",
                     str(info.get("health", "-")), str(info.get("notices", 0)), cst(last)])
    for key, info in sorted(stored.items()):  # archived, but no longer in the registry
        last = info.get("last_run_at")
        rows.append([key, info["name"], info["family"], str(info["columns"]), "yes" if info["verified"] else "no",
                     f"{info['health']} (not in registry)", str(info["notices"]), cst(last)])
    _table(["key", "name", "family", "columns", "verified", "health", "notices", "last run"], rows)
    click.echo(f"registry: {', '.join(str(p) for p in settings.registry) or 'bundled'}")


def _echo_detection(detection: Detection, top: int = 4) -> None:
    click.echo(f"Column page: {detection.final_url}")
    click.echo(f"Site: {detection.site_name}   column: {detection.column_name}")
    click.echo("Detected CMS family (best first):")
    for score in detection.ranked[:top]:
        click.echo(f"  {score.family:<8} {score.confidence:4.2f}  {score.label}  ({score.explain()})")
    best = detection.best
    click.echo(f"Best: {best.family}, confidence {best.confidence:.2f} ({detection.level}; "
               f"lead {detection.margin:.2f} over the next)")
    if detection.sample is not None:
        click.echo(f"Linked notice: {detection.sample_url}\n  title: {detection.sample.title}")
    for note in detection.notes:
        click.echo(f"Note: {note}")


@sites.command("add")
@click.argument("url")
@click.option("--name", help="Site name (default: from the page's SiteName meta tag or title).")
@click.option("--family", type=click.Choice(FAMILY_CHOICES), default="auto", show_default=True,
              help="CMS family; auto records the best detected one.")
@click.option("--key", help="Registry key (default: from the host name, e.g. mawei).")
@click.option("--registry", "registry_file", type=click.Path(dir_okay=False, path_type=Path),
              help=f"Registry YAML to append to (default: <data_dir>/{USER_REGISTRY}).")
@click.pass_context
def add(ctx: click.Context, url: str, name: str | None, family: str, key: str | None,
        registry_file: Path | None) -> None:
    """Detect the CMS family of the column page URL and record the site and column."""
    settings = get_settings(ctx)
    registry = _registry(settings)
    try:
        refuse_registered(registry, url, key)
    except AlreadyRegistered as exc:
        if exc.field == "key":
            raise click.BadParameter(str(exc), param_hint="--key") from None
        raise click.ClickException(str(exc)) from None
    fetcher = _fetcher(settings, url)
    try:
        detection = detect_site(url, fetcher)
    except DiscoveryError as exc:
        raise click.ClickException(str(exc)) from exc
    _echo_detection(detection)
    chosen = detection.best.family if family == "auto" else family
    if family != "auto" and family != detection.best.family:
        click.echo(f"Note: recording family {family} as asked, although {detection.best.family} scored best")
    if chosen == "generic" or detection.level == "low":
        click.echo("Warning: no family recognised this site well; run `noticewatch sites check` and consider "
                   "explicit selectors in the registry entry")
    target = registry_file or settings.data_path / USER_REGISTRY
    row = site_row(detection, key=key or suggest_key(url, {s.key for s in registry.sites}), family=chosen,
                   name=name)
    try:
        spec = add_to_registry(target, row, others=list(settings.registry))
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Recorded site {spec.key!r} ({spec.name}), family {spec.family}, column "
               f"{spec.columns[0].name!r} in {target}")
    store = open_store(settings)
    try:
        with store.factory.begin() as session:
            repository.sync_sites(session, [spec.as_row()])
    finally:
        store.close()
    click.echo("Synced to the store.")
    known = {Path(p).resolve() for p in settings.registry}
    if target.resolve() not in known and target.resolve() != (settings.data_path / USER_REGISTRY).resolve():
        click.echo(f"Note: {target} is not in the `registry` setting; add it there to crawl this site")
    click.echo(f"Next: `noticewatch sites check {url}`, then `noticewatch crawl --site {spec.key}`")


def _echo_notice(notice: ParsedNotice, excerpt: int) -> None:
    fields = [("title", notice.title), ("published", notice.published_at), ("source", notice.source),
              ("category", notice.category), ("index no", notice.index_no), ("doc no", notice.doc_no),
              ("issuing org", notice.issuing_org), ("written", notice.written_date),
              ("validity", notice.validity), ("subject", notice.subject)]
    for label, value in fields:
        if value:
            click.echo(f"  {label + ':':<13}{value}")
    body = notice.body_text.replace("\n\n", " ¶ ")
    click.echo(f"  {'body:':<13}{len(notice.body_text)} chars: {body[:excerpt]}{'…' if len(body) > excerpt else ''}")
    if notice.attachments:
        click.echo(f"  {'attachments:':<13}{len(notice.attachments)}")
        for att in notice.attachments:
            click.echo(f"    - {att.name}  <{att.url}>")
    else:
        click.echo(f"  {'attachments:':<13}none")


def _echo_check(result: ColumnCheck, excerpt: int) -> None:
    pages = f", {result.page_count} pages" if result.page_count else ""
    click.echo(f"List page: {len(result.entries)} entries{pages}, {len(result.follow)} further requests queued "
               f"(family {result.family})")
    for entry in result.entries[:5]:
        click.echo(f"  {entry.published_at or '-':<25} {entry.title}")
    if len(result.entries) > 5:
        click.echo(f"  … {len(result.entries) - 5} more")
    for item in result.notices:
        click.echo(f"\nNotice {item.url}")
        if item.notice is None:
            click.echo(f"  EXTRACTION FAILED: {item.error}")
        else:
            _echo_notice(item.notice, excerpt)


@sites.command("check")
@click.argument("url")
@click.option("--family", type=click.Choice(FAMILY_CHOICES), default=None,
              help="CMS family (default: the registry's for a known column, else auto-detect).")
@click.option("--notices", default=2, show_default=True, type=click.IntRange(1, 10),
              help="Notices to fetch and extract.")
@click.option("--excerpt", default=160, show_default=True, help="Characters of body text shown.")
@click.pass_context
def check(ctx: click.Context, url: str, family: str | None, notices: int, excerpt: int) -> None:
    """Extract the first list page and two notices of a column and print them; stores nothing."""
    settings = get_settings(ctx)
    selectors: dict[str, str] = {}
    known = known_column(_registry(settings), url)
    if known is not None:
        site, column = known
        family = family or column.family or site.family
        selectors = dict(column.selectors)
        click.echo(f"Known column of site {site.key!r}" + (" with explicit selectors" if selectors else ""))
    fetcher = _fetcher(settings, url)
    try:
        result = check_column(url, fetcher, family=family or "auto", selectors=selectors, notices=notices)
    except DiscoveryError as exc:
        raise click.ClickException(str(exc)) from exc
    if result.detection is not None:
        _echo_detection(result.detection, top=3)
        click.echo("")
    _echo_check(result, excerpt)
    if not result.entries:
        raise click.ClickException("no notice links found on the list page")
    if any(item.notice is None for item in result.notices):
        raise click.ClickException("extraction failed for some notices (see above)")
