"""Per-site overview rows (the demo's table, `sites list`, the site page)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Column, CrawlRun, Notice, NoticeVersion, Site, VersionAttachment


def site_overview(session: Session) -> list[dict[str, Any]]:
    notices = dict(session.execute(
        select(Notice.site_id, func.count()).group_by(Notice.site_id)).tuples().all())
    withdrawn = dict(session.execute(
        select(Notice.site_id, func.count()).where(Notice.status == "withdrawn").group_by(Notice.site_id)
    ).tuples().all())
    columns = dict(session.execute(
        select(Column.site_id, func.count()).group_by(Column.site_id)).tuples().all())
    attachments = dict(session.execute(
        select(Notice.site_id, func.count(func.distinct(VersionAttachment.blob_sha256)))
        .join(NoticeVersion, NoticeVersion.notice_id == Notice.id)
        .join(VersionAttachment, VersionAttachment.version_id == NoticeVersion.id)
        .group_by(Notice.site_id)
    ).tuples().all())
    last_run = dict(session.execute(
        select(CrawlRun.site_id, func.max(CrawlRun.started_at)).group_by(CrawlRun.site_id)).tuples().all())
    rows = []
    for site in session.scalars(select(Site).order_by(Site.key)):
        rows.append({
            "key": site.key, "name": site.name, "family": site.family, "verified": site.verified,
            "health": site.health, "columns": columns.get(site.id, 0), "notices": notices.get(site.id, 0),
            "withdrawn": withdrawn.get(site.id, 0), "attachments": attachments.get(site.id, 0),
            "last_run_at": last_run.get(site.id),
        })
    return rows
