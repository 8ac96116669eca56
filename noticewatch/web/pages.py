"""Server-rendered pages (Chinese, no JavaScript needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from noticewatch.web import queries
from noticewatch.web.app import get_session, render
from noticewatch.web.diffview import side_by_side
from noticewatch.web.security import SANDBOX_CSP, content_disposition, sanitize_body
from storage import repository as repo
from storage import search as search_api
from storage.models import Site

router = APIRouter(include_in_schema=False)
SessionDep = Annotated[Session, Depends(get_session)]
PAGE_SIZE = 20
FILTER_LABELS = {"site": "站点", "column": "栏目", "date_from": "起始日期", "date_to": "截止日期",
                 "issuing_org": "发文机关", "doc_no": "文号", "status": "状态"}


@router.get("/")
def search_page(request: Request, session: SessionDep, q: str = "", site: str = "", column: str = "",
                date_from: Annotated[str, Query(alias="from")] = "",
                date_to: Annotated[str, Query(alias="to")] = "",
                org: str = "", doc_no: str = "", status: str = "",
                page: Annotated[int, Query(ge=1, le=500)] = 1) -> Any:
    form = {"q": q, "site": site, "column": column, "from": date_from, "to": date_to, "org": org,
            "doc_no": doc_no, "status": status}
    filters: dict[str, str | None] = {"site": site, "column": column, "date_from": date_from, "date_to": date_to,
               "issuing_org": org, "doc_no": doc_no, "status": status}
    sites = list(session.scalars(select(Site).order_by(Site.key)))
    context: dict[str, Any] = {"form": form, "sites": sites, "result": None, "facets": None,
                               "error": None, "recent": None, "page": page}
    if not any(form.values()):
        context["recent"], context["total"] = queries.list_notices(session, limit=PAGE_SIZE)
        context["summary"] = repo.summary(session)
        return render(request, "search.html", **context)
    try:
        result = search_api.search(session, q, filters=filters, limit=PAGE_SIZE,
                                   offset=(page - 1) * PAGE_SIZE)
        context["facets"] = search_api.facets(session, result.query)
    except search_api.SearchSyntaxError as exc:
        context["error"] = str(exc)
        return render(request, "search.html", status_code=400, **context)
    context["result"] = result

    def link(**changes: str | int) -> str:
        params = {k: v for k, v in {**form, **changes}.items() if v not in ("", None)}
        return "/?" + urlencode(params)

    context["link"] = link
    context["has_next"] = result.offset + len(result.hits) < result.total
    return render(request, "search.html", **context)


@router.get("/notices/{notice_id}")
def notice_page(notice_id: int, request: Request, session: SessionDep) -> Any:
    notice = queries.load_notice(session, notice_id)
    if notice is None:
        raise HTTPException(404, f"没有编号为 {notice_id} 的公告")
    versions = list(notice.versions)
    current = next((v for v in versions if v.id == notice.current_version_id), versions[-1] if versions else None)
    store = request.app.state.store
    archived = {v.version: bool(v.raw_sha256 and store.blobs.exists(v.raw_sha256)) for v in versions}
    return render(request, "notice.html", notice=notice, version=current, versions=versions,
                  body_html=sanitize_body(current.body_html if current else ""),
                  duplicates=queries.duplicates_of(session, notice), archived=archived)


@router.get("/notices/{notice_id}/diff")
def diff_page(notice_id: int, request: Request, session: SessionDep,
              a: Annotated[int | None, Query(ge=1)] = None, b: Annotated[int | None, Query(ge=1)] = None) -> Any:
    notice = queries.load_notice(session, notice_id)
    if notice is None:
        raise HTTPException(404, f"没有编号为 {notice_id} 的公告")
    by_number = {v.version: v for v in notice.versions}
    if len(by_number) < 2:
        raise HTTPException(404, "这条公告只有一个版本，没有可比较的修改")
    new_no = b or max(by_number)
    old_no = a or max((n for n in by_number if n < new_no), default=min(by_number))
    if old_no not in by_number or new_no not in by_number:
        raise HTTPException(404, "没有这个版本")
    old, new = by_number[old_no], by_number[new_no]
    changes = [c for c in repo.version_diff(old, new) if c.field != "body_text"]
    return render(request, "diff.html", notice=notice, old=old, new=new, changes=changes,
                  rows=side_by_side(old.body_text, new.body_text), versions=sorted(by_number))


@router.get("/notices/{notice_id}/versions/{number}/archived")
def archived_copy(notice_id: int, number: int, request: Request, session: SessionDep,
                  download: bool = False) -> Response:
    """The page as fetched, from the blob store: sandboxed (no script, unique origin)."""
    notice = queries.load_notice(session, notice_id)
    version = next((v for v in notice.versions if v.version == number), None) if notice else None
    store = request.app.state.store
    if version is None or not version.raw_sha256 or not store.blobs.exists(version.raw_sha256):
        raise HTTPException(404, "没有存档的原始页面")
    data = Path(store.blobs.path_for(version.raw_sha256)).read_bytes()
    headers = {"Content-Security-Policy": SANDBOX_CSP, "X-Content-Type-Options": "nosniff"}
    if download:
        headers["Content-Disposition"] = content_disposition(f"notice-{notice_id}-v{number}.html", "page")
        return Response(data, media_type="application/octet-stream", headers=headers)
    return Response(data, media_type="text/html", headers=headers)


@router.get("/sites")
def sites_page(request: Request, session: SessionDep) -> Any:
    return render(request, "sites.html", sites=list(session.scalars(select(Site).order_by(Site.key))))


@router.get("/sites/{key}")
def site_page(key: str, request: Request, session: SessionDep) -> Any:
    site = session.scalar(select(Site).where(Site.key == key))
    if site is None:
        raise HTTPException(404, f"没有站点 {key}")
    notices, total = queries.list_notices(session, site=key, limit=10)
    return render(request, "site.html", site=site, runs=queries.site_runs(session, site.id),
                  column_counts=queries.site_column_counts(session, site.id), notices=notices, total=total)


@router.get("/runs")
def runs_page(request: Request, session: SessionDep, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> Any:
    return render(request, "runs.html", runs=repo.list_runs(session, limit=limit))


@router.get("/runs/{run_id}")
def run_page(run_id: int, request: Request, session: SessionDep) -> Any:
    run = repo.get_run(session, run_id)
    if run is None:
        raise HTTPException(404, f"没有编号为 {run_id} 的运行记录")
    return render(request, "run.html", run=run)
