"""Adding a site by the URL of a column page: fetch, detect the CMS family, try it out.

Used by ``noticewatch sites add/check`` and reusable by the web app: no database, no
click, no Scrapy. Requests go through the standard proxy environment variables
(``urllib.request.getproxies()``), carry the project's User-Agent, have a timeout and a
size cap, and only ever go to the host the user pointed at: other hosts (links, list
APIs, redirects) are refused with a ``DiscoveryError``.

Detection combines what the column page looks like with what it links to:
``confidence = 0.55·list + 0.25·notice + 0.1·(list parsed) + 0.1·(notice parsed)``,
where ``list``/``notice`` are the adapters' own ``detect`` scores on the column page
and on one linked notice page, and the last two reward a family whose parsers actually
extract entries and a notice (title and body) from those pages.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import Message
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

from crawler.parsing._html import selector, squash
from crawler.parsing.adapters import adapter_for
from crawler.parsing.encoding import decode_html
from crawler.parsing.families import ADAPTERS, FamilyAdapter, detect_family
from crawler.parsing.families._common import breadcrumb_category
from crawler.parsing.meta import read_meta
from crawler.parsing.types import ExtractionError, ListEntry, ListPage, PageRequest, ParsedNotice
from crawler.registry_edit import add_to_registry, site_row, suggest_key

__all__ = [
    "WEIGHTS", "ColumnCheck", "Detection", "DiscoveryError", "FamilyScore", "Fetched", "Fetcher",
    "FetchLimits", "NoticeCheck", "add_to_registry", "check_column", "detect_site", "fetcher_for",
    "fetcher_with_limits", "list_entries",
    "site_row", "suggest_key",
]

MiB = 1024 * 1024
MAX_PAGE_BYTES = 10 * MiB
WEIGHTS = {"list": 0.55, "notice": 0.25, "entries": 0.1, "parsed": 0.1}


class DiscoveryError(Exception):
    """The column page could not be fetched or used; the message is one line."""


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str
    final_url: str
    status: int
    headers: Message
    body: bytes

    @property
    def text(self) -> str:
        return decode_html(self.body, self.headers.get("Content-Type"))[0]


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    def __init__(self, fetcher: Fetcher) -> None:
        self.fetcher = fetcher

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
        self.fetcher.check_allowed(newurl)  # raises: never follow a redirect off the site
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class Fetcher:
    """Small, polite, capped fetching for a handful of pages of one site."""

    def __init__(self, *, user_agent: str, allowed_hosts: Sequence[str], timeout: float = 20.0,
                 max_bytes: int = 10 * MiB, delay: float = 0.0,
                 proxies: Mapping[str, str] | None = None) -> None:
        self.user_agent = user_agent
        self.allowed_hosts = {h.lower() for h in allowed_hosts}
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.delay = delay
        handlers = [urllib.request.ProxyHandler(dict(urllib.request.getproxies() if proxies is None else proxies)),
                    _SameHostRedirects(self)]
        self.opener = urllib.request.build_opener(*handlers)
        self.log: list[tuple[str, str, int]] = []  # (method, url, status)
        self._cache: dict[str, Fetched] = {}
        self._last = 0.0

    def check_allowed(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise DiscoveryError(f"refusing {url!r}: only http(s) URLs are fetched")
        host = (parts.hostname or "").lower()
        if host not in self.allowed_hosts:
            raise DiscoveryError(f"refusing to fetch {url}: {host} is not the site you pointed at")

    def fetch(self, url: str, *, method: str = "GET", form: Sequence[tuple[str, str]] = ()) -> Fetched:
        self.check_allowed(url)
        key = f"{method} {url} {urlencode(list(form))}"
        if key in self._cache:
            return self._cache[key]
        wait = self._last + self.delay - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        data = urlencode(list(form)).encode() if method.upper() == "POST" else None
        request = urllib.request.Request(url, data=data, method=method.upper(), headers={
            "User-Agent": self.user_agent, "Accept": "text/html,application/json,*/*;q=0.8",
            "Accept-Encoding": "gzip, deflate",
        })
        try:
            try:
                response = self.opener.open(request, timeout=self.timeout)
            except urllib.error.HTTPError as exc:  # 4xx/5xx still carry a page worth reporting
                response = exc
            with response:
                status = int(response.status or 0)
                headers = response.headers
                final_url = response.geturl() or url
                raw = response.read(self.max_bytes + 1)
        except DiscoveryError:
            raise
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DiscoveryError(f"cannot fetch {url}: {reason}") from exc
        finally:
            self._last = time.monotonic()
        if len(raw) > self.max_bytes:
            raise DiscoveryError(f"{url}: larger than {self.max_bytes} bytes; not parsed")
        body = self._decompress(raw, headers.get("Content-Encoding", ""), url)
        self.log.append((method.upper(), url, status))
        result = Fetched(url=url, final_url=final_url, status=status, headers=headers, body=body)
        self._cache[key] = result
        return result

    def _decompress(self, raw: bytes, encoding: str, url: str) -> bytes:
        encoding = encoding.strip().lower()
        if encoding not in ("gzip", "x-gzip", "deflate"):
            return raw
        decoder = zlib.decompressobj(47)  # 32 + 15: gzip or zlib header, detected
        try:
            body = decoder.decompress(raw, self.max_bytes + 1)
        except zlib.error as exc:
            raise DiscoveryError(f"{url}: broken {encoding} body ({exc})") from exc
        if len(body) > self.max_bytes or decoder.unconsumed_tail:
            raise DiscoveryError(f"{url}: decompresses to more than {self.max_bytes} bytes; not parsed")
        return body


def fetcher_for(url: str, *, user_agent: str, timeout: float = 20.0, max_bytes: int = 10 * MiB,
                delay: float = 0.0) -> Fetcher:
    """A fetcher allowed to talk to ``url``'s host only."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DiscoveryError(f"{url!r} is not an http(s) URL")
    return Fetcher(user_agent=user_agent, allowed_hosts=[parts.hostname], timeout=timeout,
                   max_bytes=max_bytes, delay=delay)


class FetchLimits(Protocol):
    """The settings discovery honours (``noticewatch.config.Settings`` has them)."""

    @property
    def resolved_user_agent(self) -> str: ...
    @property
    def download_timeout(self) -> int: ...
    @property
    def max_page_size(self) -> int: ...
    @property
    def download_delay(self) -> float: ...


def fetcher_with_limits(url: str, settings: FetchLimits) -> Fetcher:
    """The fetcher ``sites add/check`` and the web app use: the crawl's User-Agent and
    timeout, its page size cap (at most 10 MiB) and delay (at most 1 s: a handful of pages)."""
    return fetcher_for(url, user_agent=settings.resolved_user_agent, timeout=float(settings.download_timeout),
                       max_bytes=min(settings.max_page_size, MAX_PAGE_BYTES), delay=min(settings.download_delay, 1.0))


def _page(fetcher: Fetcher, url: str, what: str) -> tuple[Fetched, str]:
    page = fetcher.fetch(url)
    if page.status >= 400:
        raise DiscoveryError(f"{what} {url} answered HTTP {page.status}")
    return page, page.text


def list_entries(adapter: FamilyAdapter, html: str, url: str, fetcher: Fetcher | None) -> ListPage:
    """The first page's entries; when they come from a list API (gkmlpt, an empty
    datastore), fetch the first API request (same host only) and parse that."""
    try:
        listing = adapter.parse_list(html, url, kind="list")
    except ExtractionError:
        return ListPage()
    if listing.entries or fetcher is None:
        return listing
    api = next((r for r in listing.follow if r.kind == "list_api"), None)
    if api is None:
        return listing
    try:
        answer = fetcher.fetch(api.url, method=api.method, form=api.formdata)
    except DiscoveryError:
        return listing
    if answer.status >= 400:
        return listing
    try:
        return adapter.parse_list(answer.text, answer.final_url, kind="list_api", request=api)
    except ExtractionError:
        return listing


@dataclass(slots=True)
class FamilyScore:
    family: str
    label: str
    confidence: float
    list_score: float
    notice_score: float | None
    entries: int
    notice_ok: bool | None

    def explain(self) -> str:
        notice = "-" if self.notice_score is None else f"{self.notice_score:.2f}"
        parsed = {True: "notice parsed", False: "notice not parsed", None: "no notice tried"}[self.notice_ok]
        return f"list page {self.list_score:.2f}, notice page {notice}, {self.entries} entries, {parsed}"


@dataclass(slots=True)
class Detection:
    url: str
    final_url: str
    ranked: list[FamilyScore]
    site_name: str
    column_name: str
    base_url: str
    sample: ParsedNotice | None = None
    sample_url: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def best(self) -> FamilyScore:
        return self.ranked[0]

    @property
    def margin(self) -> float:
        return self.ranked[0].confidence - self.ranked[1].confidence if len(self.ranked) > 1 else 1.0

    @property
    def level(self) -> str:
        """How sure: the best score and its lead over the runner-up both count."""
        c, lead = self.best.confidence, self.margin
        return "high" if c >= 0.6 and lead >= 0.3 else "medium" if c >= 0.4 and lead >= 0.15 else "low"


def _site_name(metas: Sequence[Mapping[str, str]], titles: Sequence[str], host: str) -> str:
    for meta in metas:
        if meta.get("SiteName"):
            return meta["SiteName"]
    for title in titles:
        parts = [p.strip() for p in title.replace("—", "_").replace("-", "_").split("_") if p.strip()]
        if len(parts) > 1:
            return parts[-1]
    return host


def _column_name(html: str, meta: Mapping[str, str], site_name: str, notice_meta: Mapping[str, str],
                 url: str) -> str:
    if meta.get("ColumnName"):
        return meta["ColumnName"]
    sel = selector(html)
    title = squash(sel.xpath("string(//title)").get())
    first = title.replace("—", "_").replace("-", "_").split("_")[0].strip()
    if first and first != site_name:
        return first
    return breadcrumb_category(sel) or notice_meta.get("ColumnName") or urlsplit(url).path.strip("/") or url


def detect_site(url: str, fetcher: Fetcher, *, families: Sequence[FamilyAdapter] = ADAPTERS) -> Detection:
    """Fetch the column page and one linked notice; rank the families (best first)."""
    page, html = _page(fetcher, url, "the column page")
    base = page.final_url
    list_scores = dict(detect_family(html, base))
    listings: dict[str, ListPage] = {}
    for adapter in families:
        # Only a family that claims the page earns an API request; the rest parse what is there.
        allowed = fetcher if list_scores.get(adapter.name, 0.0) >= 0.3 else None
        listings[adapter.name] = list_entries(adapter_for(adapter.name), html, base, allowed)
    order = sorted(families, key=lambda a: -list_scores.get(a.name, 0.0))
    notes: list[str] = []
    sample_url = None
    for adapter in order:
        candidates = [e for e in listings[adapter.name].entries if _same_host(e, fetcher)]
        if candidates:
            sample_url = candidates[0].url
            break
    notice_scores: dict[str, float] = {}
    parsed_by: dict[str, ParsedNotice | None] = {}
    notice_meta: dict[str, str] = {}
    if sample_url is None:
        notes.append("no notice link found on the column page: detection used the column page only")
    else:
        try:
            _notice_page, notice_html = _page(fetcher, sample_url, "the linked notice")
        except DiscoveryError as exc:
            notes.append(f"linked notice not fetched: {exc}")
        else:
            notice_scores = dict(detect_family(notice_html, sample_url))
            notice_meta = read_meta(notice_html)
            for adapter in families:
                try:
                    parsed = adapter_for(adapter.name).parse_notice(notice_html, sample_url)
                    parsed_by[adapter.name] = parsed if parsed.title and parsed.body_text else None
                except ExtractionError:
                    parsed_by[adapter.name] = None
    ranked = []
    for adapter in families:
        entries = len(listings[adapter.name].entries)
        notice_score = notice_scores.get(adapter.name) if notice_scores else None
        ok = (parsed_by.get(adapter.name) is not None) if parsed_by else None
        confidence = (WEIGHTS["list"] * list_scores.get(adapter.name, 0.0)
                      + WEIGHTS["notice"] * (notice_score or 0.0)
                      + WEIGHTS["entries"] * (entries > 0) + WEIGHTS["parsed"] * bool(ok))
        ranked.append(FamilyScore(adapter.name, adapter.label, round(min(1.0, confidence), 3),
                                  list_scores.get(adapter.name, 0.0), notice_score, entries, ok))
    ranked.sort(key=lambda s: -s.confidence)  # stable: registry order breaks ties
    if len(ranked) > 1 and ranked[0].confidence - ranked[1].confidence < 0.1:
        notes.append(f"{ranked[0].family} and {ranked[1].family} are close: check the result with `sites check`")
    meta = read_meta(html)
    title = squash(selector(html).xpath("string(//title)").get())
    host = urlsplit(base).hostname or ""
    site_name = _site_name([meta, notice_meta], [title], host)
    parts = urlsplit(base)
    return Detection(
        url=url, final_url=base, ranked=ranked, site_name=site_name,
        column_name=_column_name(html, meta, site_name, notice_meta, base),
        base_url=f"{parts.scheme}://{parts.netloc}/", sample=parsed_by.get(ranked[0].family),
        sample_url=sample_url, notes=notes,
    )


def _same_host(entry: ListEntry, fetcher: Fetcher) -> bool:
    return (urlsplit(entry.url).hostname or "").lower() in fetcher.allowed_hosts


@dataclass(slots=True)
class NoticeCheck:
    url: str
    notice: ParsedNotice | None = None
    error: str | None = None


@dataclass(slots=True)
class ColumnCheck:
    url: str
    family: str
    entries: list[ListEntry]
    follow: list[PageRequest]
    page_count: int | None
    notices: list[NoticeCheck]
    detection: Detection | None = None


def check_column(url: str, fetcher: Fetcher, *, family: str = "auto",
                 selectors: Mapping[str, str] | None = None, notices: int = 2) -> ColumnCheck:
    """Parse the first list page and the first ``notices`` notices; store nothing."""
    detection = None
    if family == "auto":
        detection = detect_site(url, fetcher)
        family = detection.best.family
    adapter = adapter_for(family, selectors)
    page, html = _page(fetcher, url, "the column page")
    listing = list_entries(adapter, html, page.final_url, fetcher)
    results: list[NoticeCheck] = []
    for entry in listing.entries[:notices]:
        try:
            notice_page, notice_html = _page(fetcher, entry.url, "the notice")
            results.append(NoticeCheck(entry.url, adapter.parse_notice(notice_html, notice_page.final_url)))
        except (DiscoveryError, ExtractionError) as exc:
            results.append(NoticeCheck(entry.url, error=getattr(exc, "reason", None) or str(exc)))
    return ColumnCheck(url=url, family=family, entries=listing.entries, follow=listing.follow,
                       page_count=listing.page_count, notices=results, detection=detection)
