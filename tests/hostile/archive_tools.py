"""Helpers for the end-to-end hostile tests and the reliability benchmark."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select

from crawler.registry import load_registry
from noticewatch.commands.demo_cmd import DEMO_OVERRIDES, proxy_env
from noticewatch.crawling import CrawlResult, run_crawl
from storage import repository
from storage.models import FetchError, Notice, NoticeVersion, Site
from tests.e2e.harness import Archive, make_archive

SNAPSHOT_FIELDS = ("url", "title", "published_at", "source", "index_no", "doc_no", "issuing_org", "written_date",
                   "validity", "subject", "body_text", "status")
# Fast retries for tests: a 30% fault rate needs many, each short.
FAST_RETRY = ("RETRY_TIMES=12", "NOTICEWATCH_RETRY_BACKOFF_BASE=0.02", "NOTICEWATCH_RETRY_BACKOFF_MAX=0.2",
              "DOWNLOAD_TIMEOUT=10")


def hostile_archive(tmp_path: Path) -> Archive:
    """An archive whose registry also holds the blocked/down demo sites and the trap column."""
    from noticewatch.demoweb import demo_registry

    archive = make_archive(tmp_path)
    path = archive.data_dir / "hostile-registry.yaml"
    path.write_text(yaml.safe_dump(demo_registry(include_hostile=True), allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    archive.registry_path = path
    archive.registry = load_registry([path])
    return archive


def crawl(archive: Archive, proxy_url: str, *, overrides: Sequence[str] = (), sites: Sequence[str] = (),
          on_process: Callable[[Any], None] | None = None) -> CrawlResult:
    return run_crawl(archive.settings, archive.store, archive.registry, site_keys=sites,
                     overrides=(*DEMO_OVERRIDES, "ROBOTSTXT_OBEY=True", *FAST_RETRY, *overrides),
                     registry_paths=[str(archive.registry_path)], env=proxy_env(proxy_url), on_process=on_process)


def snapshot(archive: Archive) -> dict[str, dict[str, Any]]:
    """Every notice by canonical URL: its fields and attachments (url, name, sha256)."""
    out: dict[str, dict[str, Any]] = {}
    with archive.store.factory() as session:
        canon = dict(session.execute(select(Notice.id, Notice.canonical_url)).all())
        for row in repository.iter_export_rows(session):
            entry = {k: row.get(k) for k in SNAPSHOT_FIELDS}
            entry["attachments"] = sorted((a["url"], a["name"], a["sha256"]) for a in row["attachments"])
            entry["version"] = row["version"]
            out[canon[row["id"]]] = entry
    return out


def fetch_errors(archive: Archive, run_id: int | None = None) -> list[tuple[str, str, str]]:
    with archive.store.factory() as session:
        stmt = select(Site.key, FetchError.kind, FetchError.url).join(Site, FetchError.site_id == Site.id, isouter=True)
        if run_id is not None:
            stmt = stmt.where(FetchError.run_id == run_id)
        return [(k or "", kind, url) for k, kind, url in session.execute(stmt)]


def version_count(archive: Archive) -> int:
    with archive.store.factory() as session:
        return int(session.scalar(select(func.count()).select_from(NoticeVersion)) or 0)


def blob_problems(archive: Archive) -> list[str]:
    """Blob files whose content does not match their name, plus left-over temp files."""
    problems = []
    blobs = archive.data_dir / "blobs"
    for path in blobs.rglob("*") if blobs.is_dir() else ():
        if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() != path.name:
            problems.append(str(path))
    problems += [str(p) for p in blobs.glob(".incoming-*")] if blobs.is_dir() else []
    return problems
