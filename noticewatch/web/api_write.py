"""The admin part of the JSON API: adding and checking sites, managing subscriptions.

Every route here needs ``Authorization: Bearer <admin_token>`` (403 when the app has no
token: it is read-only). Sites are added exactly like ``noticewatch sites add``: the
column page and one linked notice are fetched (``crawler.discovery``, same proxy, size,
time and host limits as the CLI), the family detected, the entry appended to
``<data_dir>/sites.yaml`` after the whole registry validates, then synced to the store.
Subscriptions use the CLI's validation (``parse_channel``, ``storage.alerts``); their
channel URLs and secrets are masked in every answer except the one that creates them.

Routes that fetch are plain ``def``: FastAPI runs them in its threadpool, so a slow site
never blocks the event loop.
"""

from __future__ import annotations

import threading
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.discovery import (
    Detection,
    DiscoveryError,
    check_column,
    detect_site,
    fetcher_with_limits,
)
from crawler.parsing.families import ADAPTERS
from crawler.parsing.types import ParsedNotice
from crawler.registry import Registry, RegistryError, load_registry
from crawler.registry_edit import (
    AlreadyRegistered,
    add_to_registry,
    known_column,
    refuse_registered,
    registry_files,
    site_row,
    suggest_key,
)
from noticewatch.config import USER_REGISTRY_NAME, Settings
from noticewatch.web.app import get_session
from noticewatch.web.security import require_admin
from pipeline.alerts.channels import DeliveryError, parse_channel
from pipeline.alerts.feeds import feed_path
from pipeline.alerts.messages import sample_message
from storage import alerts
from storage import repository as repo
from storage.clock import to_cst_iso, utcnow
from storage.models import Site, Subscription

router = APIRouter(dependencies=[Depends(require_admin)])
SessionDep = Annotated[Session, Depends(get_session)]
FAMILIES = tuple(a.name for a in ADAPTERS)
MASK = "********"
# One web process appends to sites.yaml at a time: the duplicate check, the file write
# and the store sync must see each other's results.
_REGISTRY_LOCK = threading.Lock()


def site_dict(site: Site) -> dict[str, Any]:
    return {"key": site.key, "name": site.name, "base_url": site.base_url, "family": site.family,
            "area_code": site.area_code, "verified": site.verified, "health": site.health,
            "health_detail": site.health_detail, "baseline_at": to_cst_iso(site.baseline_at),
            "columns": [{"id": c.id, "name": c.name, "url": c.url,
                         "last_crawled_at": to_cst_iso(c.last_crawled_at)} for c in site.columns]}


# ── models ─────────────────────────────────────────────────────────────────────────────

def _web_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL with a host")
    return value.strip()


class NewSite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(description="URL of a column (list) page of the site", max_length=1000)
    name: str | None = Field(None, max_length=200, description="Site name (default: from the page)")
    family: str = Field("auto", description=f"CMS family: auto or one of {', '.join(FAMILIES)}")
    key: str | None = Field(None, max_length=100, pattern=r"^[a-z0-9][a-z0-9_-]*$",
                            description="Registry key (default: from the host name, e.g. mawei)")
    _check_url = field_validator("url")(_web_url)


class ColumnCheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(description="URL of a column (list) page", max_length=1000)
    family: str | None = Field(None, description="CMS family (default: the registry's for a known column, "
                                                 "else auto-detect)")
    notices: int = Field(2, ge=1, le=10, description="Notices to fetch and extract")
    _check_url = field_validator("url")(_web_url)


class ColumnOut(BaseModel):
    id: int
    name: str
    url: str
    last_crawled_at: str | None


class SiteOut(BaseModel):
    key: str
    name: str
    base_url: str
    family: str
    area_code: str | None
    verified: bool
    health: str
    health_detail: str | None
    baseline_at: str | None
    columns: list[ColumnOut]


class FamilyScoreOut(BaseModel):
    family: str
    label: str
    confidence: float
    list_score: float
    notice_score: float | None
    entries: int = Field(description="entries this family's parser found on the column page")
    notice_ok: bool | None = Field(description="whether it parsed the linked notice (null: none tried)")
    explanation: str


class DetectionOut(BaseModel):
    url: str
    final_url: str
    family: str = Field(description="the best-scoring family")
    confidence: float
    level: Literal["high", "medium", "low"]
    margin: float = Field(description="lead of the best family over the runner-up")
    ranking: list[FamilyScoreOut]
    site_name: str
    column_name: str
    sample_url: str | None
    sample_title: str | None
    notes: list[str]


class AddedSite(BaseModel):
    detection: DetectionOut
    family: str = Field(description="the family recorded (detected, or the one asked for)")
    confidence: float
    warnings: list[str]
    registry_file: str
    site: SiteOut


class AttachmentOut(BaseModel):
    url: str
    name: str


class NoticeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    url: str
    title: str
    published_at: str | None
    source: str | None
    category: str | None
    index_no: str | None
    doc_no: str | None
    issuing_org: str | None
    written_date: str | None
    validity: str | None
    subject: str | None
    body_text: str
    attachments: list[AttachmentOut]


class EntryOut(BaseModel):
    url: str
    title: str
    published_at: str | None


class NoticeCheckOut(BaseModel):
    url: str
    notice: NoticeOut | None
    error: str | None


class ColumnCheckOut(BaseModel):
    url: str
    family: str
    known_site: str | None = Field(description="registry key when the column is already known")
    detection: DetectionOut | None
    entries: list[EntryOut]
    page_count: int | None
    follow_requests: int
    notices: list[NoticeCheckOut]
    ok: bool = Field(description="entries found and every notice extracted")


def _detection_out(d: Detection) -> DetectionOut:
    return DetectionOut(
        url=d.url, final_url=d.final_url, family=d.best.family, confidence=d.best.confidence,
        level=d.level, margin=round(d.margin, 3),  # type: ignore[arg-type]
        ranking=[FamilyScoreOut(family=s.family, label=s.label, confidence=s.confidence, list_score=s.list_score,
                                notice_score=s.notice_score, entries=s.entries, notice_ok=s.notice_ok,
                                explanation=s.explain()) for s in d.ranked],
        site_name=d.site_name, column_name=d.column_name, sample_url=d.sample_url,
        sample_title=d.sample.title if d.sample else None, notes=list(d.notes))


def _notice_out(notice: ParsedNotice) -> NoticeOut:
    return NoticeOut.model_validate({**{f: getattr(notice, f) for f in NoticeOut.model_fields if f != "attachments"},
                                     "attachments": [{"url": a.url, "name": a.name} for a in notice.attachments]})


# ── sites ──────────────────────────────────────────────────────────────────────────────

def _registry(settings: Settings) -> tuple[Registry, list[Any]]:
    files = registry_files(settings.registry, settings.data_path / USER_REGISTRY_NAME)
    try:
        return load_registry(files), files
    except RegistryError as exc:  # the operator's files are broken: not the request's fault
        raise HTTPException(500, f"site registry: {exc}") from None


def _check_family(family: str | None, *, allow_auto: bool) -> None:
    allowed = (*(("auto",) if allow_auto else ()), *FAMILIES)
    if family is not None and family not in allowed:
        raise HTTPException(400, f"unknown family {family!r}: use one of {', '.join(allowed)}")


@router.post("/api/sites", tags=["sites"], status_code=201, response_model=AddedSite,
             summary="Add a site by the URL of a column page (CMS family detected); needs the admin token",
             responses={400: {"description": "unreachable page, duplicate column/host/key, bad family"}})
def api_add_site(body: NewSite, request: Request) -> AddedSite:
    settings: Settings = request.app.state.settings
    _check_family(body.family, allow_auto=True)
    try:
        refuse_registered(_registry(settings)[0], body.url, body.key)  # before fetching anything
        detection = detect_site(body.url, fetcher_with_limits(body.url, settings))
    except (AlreadyRegistered, DiscoveryError) as exc:
        raise HTTPException(400, str(exc)) from None
    chosen = detection.best.family if body.family == "auto" else body.family
    warnings = []
    if chosen != detection.best.family:
        warnings.append(f"recording family {chosen} as asked, although {detection.best.family} scored best")
    if chosen == "generic" or detection.level == "low":
        warnings.append("no family recognised this site well: check it with POST /api/sites/check and "
                        "consider explicit selectors in the registry entry")
    target = settings.data_path / USER_REGISTRY_NAME
    with _REGISTRY_LOCK:
        registry, files = _registry(settings)  # again: another request may have added it meanwhile
        try:
            refuse_registered(registry, body.url, body.key)
            row = site_row(detection, key=body.key or suggest_key(body.url, {s.key for s in registry.sites}),
                           family=chosen, name=body.name)
            spec = add_to_registry(target, row, others=files)
        except RegistryError as exc:
            raise HTTPException(400, str(exc)) from None
        with request.app.state.store.factory.begin() as session:
            repo.sync_sites(session, [spec.as_row()])
            site = session.scalars(select(Site).where(Site.key == spec.key)).one()
            stored = SiteOut.model_validate(site_dict(site))
    return AddedSite(detection=_detection_out(detection), family=chosen, confidence=detection.best.confidence,
                     warnings=warnings, registry_file=str(target), site=stored)


@router.post("/api/sites/check", tags=["sites"], response_model=ColumnCheckOut,
             summary="Extract a column's first list page and notices without storing anything (admin)",
             responses={400: {"description": "unreachable page or bad family"}})
def api_check_site(body: ColumnCheckRequest, request: Request) -> ColumnCheckOut:
    settings: Settings = request.app.state.settings
    _check_family(body.family, allow_auto=True)
    family, selectors, known_key = body.family, {}, None
    known = known_column(_registry(settings)[0], body.url)
    if known is not None:
        site, column = known
        family, selectors, known_key = family or column.family or site.family, dict(column.selectors), site.key
    try:
        result = check_column(body.url, fetcher_with_limits(body.url, settings), family=family or "auto",
                              selectors=selectors, notices=body.notices)
    except DiscoveryError as exc:
        raise HTTPException(400, str(exc)) from None
    notices = [NoticeCheckOut(url=n.url, notice=_notice_out(n.notice) if n.notice else None, error=n.error)
               for n in result.notices]
    return ColumnCheckOut(
        url=result.url, family=result.family, known_site=known_key,
        detection=_detection_out(result.detection) if result.detection else None,
        entries=[EntryOut(url=e.url, title=e.title, published_at=e.published_at) for e in result.entries],
        page_count=result.page_count, follow_requests=len(result.follow), notices=notices,
        ok=bool(result.entries) and all(n.notice is not None for n in notices))


# ── subscriptions ──────────────────────────────────────────────────────────────────────

class NewSubscription(BaseModel):
    """The options of ``noticewatch subscriptions add``; filters combine with AND."""

    # A misspelt filter key must fail, not silently widen the subscription.
    model_config = ConfigDict(populate_by_name=True, extra="forbid")
    name: str = Field(max_length=200, description="unique name")
    channel: str = Field(max_length=2000, description="mailto:a@b.cn, smtp://host/?to=…, webhook+https://…, "
                                                     "feed:, or an Apprise URL")
    sites: list[str] = Field([], description="only these site keys")
    columns: list[str] = Field([], description="only notices listed in these column URLs")
    all_words: list[str] = Field([], alias="all", description="every one of these words must appear")
    any_words: list[str] = Field([], alias="any", description="at least one of these words must appear")
    none_words: list[str] = Field([], alias="none", description="none of these words may appear")
    issuing_org: str | None = Field(None, description="text contained in the issuing body")
    doc_no: str | None = Field(None, description="regular expression searched in the document number")
    kinds: list[Literal["new", "changed", "withdrawn"]] = Field([], description="event kinds (default: all)")
    mode: Literal["instant", "daily", "weekly"] = "instant"
    backfill: bool = Field(False, description="also alert on the first crawl of a new site")

    def filters(self) -> dict[str, Any]:
        return {"sites": self.sites, "columns": self.columns, "all": self.all_words, "any": self.any_words,
                "none": self.none_words, "issuing_org": self.issuing_org, "doc_no": self.doc_no,
                "kinds": self.kinds, "backfill": self.backfill}


class SubscriptionOut(BaseModel):
    id: int
    name: str
    channel: str = Field(description="the channel URL with passwords, tokens and paths masked")
    mode: str
    state: str = Field(description="active, or failing after a delivery was given up")
    created_at: str | None
    last_digest_at: str | None
    filters: dict[str, Any]
    secret: str = Field(description=f"webhook HMAC key and feed token: {MASK} except when created")
    feed_url: str
    deliveries: dict[str, int] = Field(description="delivery count per status")


class DeliveryOut(BaseModel):
    delivery_id: int
    event_id: int
    kind: str
    notice_id: int
    title: str
    status: str
    attempts: int
    sent_at: str | None
    last_error: str | None


class SubscriptionDetail(SubscriptionOut):
    recent_deliveries: list[DeliveryOut]


class TestResult(BaseModel):
    delivered: bool = Field(description="false for feed subscriptions: nothing is pushed")
    detail: str


def _subscription_out(settings: Settings, sub: Subscription, counts: dict[str, int], *,
                      reveal: bool = False) -> dict[str, Any]:
    path = feed_path(subscription=sub)
    if not reveal:
        path = path.split("?token=", 1)[0] + f"?token={MASK}"
    return {"id": sub.id, "name": sub.name, "channel": alerts.redact_channel_url(sub.channel_url),
            "mode": sub.mode, "state": sub.state, "created_at": to_cst_iso(sub.created_at),
            "last_digest_at": to_cst_iso(sub.last_digest_at), "filters": dict(sub.filters or {}),
            "secret": sub.secret if reveal else MASK,
            "feed_url": f"{settings.public_base_url.rstrip('/')}/{path}", "deliveries": counts}


def _find(session: Session, subscription_id: int) -> Subscription:
    sub = alerts.get_subscription(session, subscription_id)
    if sub is None:
        raise HTTPException(404, f"no subscription {subscription_id}")
    return sub


@router.get("/api/subscriptions", tags=["subscriptions"], response_model=list[SubscriptionOut],
            summary="Alert subscriptions (admin; secrets masked)")
def api_subscriptions(request: Request, session: SessionDep) -> list[dict[str, Any]]:
    counts = alerts.delivery_counts(session)
    return [_subscription_out(request.app.state.settings, s, counts.get(s.id, {}))
            for s in alerts.list_subscriptions(session)]


@router.get("/api/subscriptions/{subscription_id}", tags=["subscriptions"], response_model=SubscriptionDetail,
            summary="One subscription with its latest deliveries (admin; secrets masked)")
def api_subscription(subscription_id: int, request: Request, session: SessionDep) -> dict[str, Any]:
    sub = _find(session, subscription_id)
    out = _subscription_out(request.app.state.settings, sub, alerts.delivery_counts(session).get(sub.id, {}))
    out["recent_deliveries"] = [
        {"delivery_id": r.delivery_id, "event_id": r.event_id, "kind": r.kind, "notice_id": r.notice_id,
         "title": r.title, "status": r.status, "attempts": r.attempts, "sent_at": to_cst_iso(r.sent_at),
         "last_error": r.last_error}
        for r in alerts.delivery_log(session, subscription_id=sub.id, limit=10)]
    return out


@router.post("/api/subscriptions", tags=["subscriptions"], status_code=201, response_model=SubscriptionOut,
             summary="Add a subscription (admin); the answer shows the secret, this once",
             responses={400: {"description": "bad channel, filter or mode; duplicate name"}})
def api_add_subscription(body: NewSubscription, request: Request) -> dict[str, Any]:
    settings: Settings = request.app.state.settings
    try:
        parse_channel(body.channel, settings)
        with request.app.state.store.factory.begin() as session:
            sub = alerts.create_subscription(session, name=body.name, channel_url=body.channel,
                                             filters=body.filters(), mode=body.mode, now=utcnow())
            return _subscription_out(settings, sub, {}, reveal=True)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None


@router.delete("/api/subscriptions/{subscription_id}", tags=["subscriptions"], status_code=204,
               summary="Remove a subscription and its delivery records (admin)")
def api_remove_subscription(subscription_id: int, request: Request) -> None:
    with request.app.state.store.factory.begin() as session:
        alerts.delete_subscription(session, _find(session, subscription_id))


@router.post("/api/subscriptions/{subscription_id}/test", tags=["subscriptions"], response_model=TestResult,
             summary="Send a sample alert through the subscription's channel (admin)",
             responses={502: {"description": "the channel did not accept the test alert"}})
def api_test_subscription(subscription_id: int, request: Request, session: SessionDep) -> TestResult:
    settings: Settings = request.app.state.settings
    sub = _find(session, subscription_id)
    name, url, secret = sub.name, sub.channel_url, sub.secret
    session.close()  # the send may take seconds: hold no connection meanwhile
    try:
        channel = parse_channel(url, settings)
        if not channel.pushes:
            return TestResult(delivered=False, detail="feed subscription: nothing to push; read its feed")
        detail = channel.send(sample_message(name, subscription_id, base_url=settings.public_base_url),
                              secret=secret)
    except (ValueError, DeliveryError) as exc:
        raise HTTPException(502, f"{name}: test alert failed: {exc}") from None
    return TestResult(delivered=True, detail=detail)
