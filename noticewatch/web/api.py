"""The JSON API under /api (OpenAPI document at /openapi.json) and /metrics; the admin
routes (adding sites, subscriptions) are in ``api_write``."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import select
from sqlalchemy.orm import Session

from noticewatch.web import api_write, queries
from noticewatch.web.api_write import site_dict
from noticewatch.web.app import get_session
from noticewatch.web.security import content_disposition, safe_download_type
from storage import repository as repo
from storage import search as search_api
from storage.clock import to_cst_iso
from storage.models import Site

router = APIRouter()
router.include_router(api_write.router)  # the admin routes (sites add/check, subscriptions)
SessionDep = Annotated[Session, Depends(get_session)]
_SHA = re.compile(r"^[0-9a-f]{64}$")
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0)]


def _run_dict(run: Any) -> dict[str, Any]:
    return {"id": run.id, "site": run.site.key if run.site else None, "status": run.status,
            "trigger": run.trigger, "started_at": to_cst_iso(run.started_at),
            "finished_at": to_cst_iso(run.finished_at), "counts": run.counts or {}, "error": run.error}


@router.get("/api/notices", tags=["notices"], summary="List notices, newest first")
def api_notices(session: SessionDep, site: str | None = None, status: str | None = None,
                column: str | None = None,
                date_from: Annotated[str | None, Query(alias="from")] = None,
                date_to: Annotated[str | None, Query(alias="to")] = None,
                limit: Limit = 20, offset: Offset = 0) -> dict[str, Any]:
    rows, total = queries.list_notices(session, site=site, status=status, date_from=date_from,
                                       date_to=date_to, column=column, limit=limit, offset=offset)
    next_offset = offset + limit if offset + limit < total else None
    return {"total": total, "offset": offset, "next_offset": next_offset,
            "items": [queries.notice_summary(n) for n in rows]}


@router.get("/api/notices/{notice_id}", tags=["notices"], summary="One notice (export schema)")
def api_notice(notice_id: int, session: SessionDep) -> dict[str, Any]:
    notice = queries.load_notice(session, notice_id)
    if notice is None:
        raise HTTPException(404, f"no notice {notice_id}")
    row = repo.export_row(notice)
    row["versions"] = [{"version": v.version, "fetched_at": to_cst_iso(v.fetched_at), "title": v.title}
                       for v in notice.versions]
    return row


@router.get("/api/notices/{notice_id}/versions", tags=["notices"], summary="Every version of a notice")
def api_versions(notice_id: int, session: SessionDep) -> list[dict[str, Any]]:
    notice = queries.load_notice(session, notice_id)
    if notice is None:
        raise HTTPException(404, f"no notice {notice_id}")
    return [queries.version_dict(v) for v in notice.versions]


@router.get("/api/search", tags=["search"], summary="Full-text search (same language as the CLI)")
def api_search(session: SessionDep, q: str = "", site: str | None = None, column: str | None = None,
               date_from: Annotated[str | None, Query(alias="from")] = None,
               date_to: Annotated[str | None, Query(alias="to")] = None,
               org: str | None = None, doc_no: str | None = None, status: str | None = None,
               limit: Limit = 20, offset: Offset = 0) -> Any:
    filters = {"site": site, "column": column, "date_from": date_from, "date_to": date_to,
               "issuing_org": org, "doc_no": doc_no, "status": status}
    try:
        result = search_api.search(session, q, filters=filters, limit=limit, offset=offset)
    except search_api.SearchSyntaxError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=400)
    return {"query": q, "filters": result.query.filters, "total": result.total,
            "total_is_capped": result.total_is_capped, "offset": offset,
            "hits": [h.as_dict() for h in result.hits]}


@router.get("/api/sites", tags=["sites"], summary="Sites with their columns and health")
def api_sites(session: SessionDep) -> list[dict[str, Any]]:
    return [site_dict(s) for s in session.scalars(select(Site).order_by(Site.key))]


@router.get("/api/sites/{key}", tags=["sites"])
def api_site(key: str, session: SessionDep) -> dict[str, Any]:
    site = session.scalar(select(Site).where(Site.key == key))
    if site is None:
        raise HTTPException(404, f"no site {key!r}")
    return site_dict(site) | {"runs": [_run_dict(r) for r in queries.site_runs(session, site.id)]}


@router.get("/api/runs", tags=["runs"], summary="Crawl runs, newest first")
def api_runs(session: SessionDep, limit: Limit = 50) -> list[dict[str, Any]]:
    return [_run_dict(r) for r in repo.list_runs(session, limit=limit)]


@router.get("/api/runs/{run_id}", tags=["runs"])
def api_run(run_id: int, session: SessionDep) -> dict[str, Any]:
    run = repo.get_run(session, run_id)
    if run is None:
        raise HTTPException(404, f"no run {run_id}")
    return _run_dict(run) | {"stats": run.stats or {}, "errors": [
        {"url": e.url, "kind": e.kind, "detail": e.detail, "at": to_cst_iso(e.at)} for e in run.fetch_errors]}


@router.get("/api/attachments/{sha256}", tags=["attachments"], response_class=FileResponse,
            summary="Download an archived attachment by its SHA-256")
def api_attachment(sha256: str, request: Request, session: SessionDep) -> Response:
    if not _SHA.match(sha256):
        raise HTTPException(404, "not a SHA-256 digest")
    blob, name = queries.attachment_name(session, sha256)
    path = request.app.state.store.blobs.path_for(sha256)
    if blob is None or not path.is_file():
        raise HTTPException(404, "attachment not archived")
    return FileResponse(path, media_type=safe_download_type(blob.media_type), headers={
        "Content-Disposition": content_disposition(name, sha256[:16]),
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "X-Content-Type-Options": "nosniff",
    })


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics_registry), media_type=CONTENT_TYPE_LATEST)
