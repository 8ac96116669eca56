"""Atom and RSS feed routes: ``/feeds/site/<key>.atom|.rss`` and
``/feeds/subscription/<id>.atom|.rss?token=<secret>``.

Included by the app with ``app.include_router(feeds_routes.router)``. A subscription's
feed is a saved search: without its token the answer is 404, as for an unknown id.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from sqlalchemy.orm import Session

from noticewatch.web.app import get_session
from pipeline.alerts.feeds import FeedKind, FeedNotFound, build_feed
from storage.models import Subscription

router = APIRouter(prefix="/feeds", tags=["feeds"])

_MEDIA_TYPES: dict[str, str] = {
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
}


def _split(filename: str) -> tuple[str, FeedKind]:
    stem, _, suffix = filename.rpartition(".")
    if not stem or suffix not in _MEDIA_TYPES:
        raise HTTPException(status_code=404, detail="feeds end in .atom or .rss")
    return stem, "rss" if suffix == "rss" else "atom"


def _feed_response(data: bytes, kind: FeedKind) -> Response:
    return Response(content=data, media_type=_MEDIA_TYPES[kind],
                    headers={"Cache-Control": "max-age=300"})


@router.get("/site/{filename}")
def site_feed(filename: str, request: Request, session: Session = Depends(get_session)) -> Response:
    key, kind = _split(filename)
    try:
        data = build_feed(session, site_key=key, kind=kind,
                          base_url=request.app.state.settings.public_base_url)
    except FeedNotFound:
        raise HTTPException(status_code=404, detail="no such site") from None
    return _feed_response(data, kind)


@router.get("/subscription/{filename}")
def subscription_feed(filename: str, request: Request, token: str = Query(default=""),
                      session: Session = Depends(get_session)) -> Response:
    stem, kind = _split(filename)
    sub = session.get(Subscription, int(stem)) if stem.isdigit() else None
    # Constant-time comparison: the token is the only thing guarding the saved search.
    if sub is None or not sub.secret or not hmac.compare_digest(token.encode(), sub.secret.encode()):
        raise HTTPException(status_code=404, detail="no such feed")
    data = build_feed(session, subscription_id=sub.id, kind=kind,
                      base_url=request.app.state.settings.public_base_url)
    return _feed_response(data, kind)
