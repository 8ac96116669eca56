"""One spider for every CMS family: the family adapters do the parsing.

The spider walks column list pages (following the pagination the adapter reports,
one page at a time so an incremental crawl can stop early), fetches notices it does
not know or that are due for a re-check, and hands attachment URLs to the files
pipeline. It never touches the database: what the store knows arrives as a plan file.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any, Self
from urllib.parse import urlsplit

import scrapy
from scrapy.http import FormRequest, Request, Response
from scrapy.settings import BaseSettings

from crawler.items import (
    ColumnStateItem,
    FetchErrorItem,
    ListPageItem,
    NoticeGoneItem,
    NoticeItem,
    NoticeSeenItem,
)
from crawler.parsing.adapters import adapter_for
from crawler.parsing.encoding import decode_html
from crawler.parsing.types import ExtractionError, ListPage, PageRequest
from crawler.plan import CrawlPlan
from crawler.registry import ColumnSpec, Registry, SiteSpec, load_registry, registry_from_data
from crawler.runtime import SPIDER_ARGS, apply_settings_file
from storage.urls import canonicalize_url

BLOCK_STATUSES = (403, 405, 412, 521)
# Statuses notice callbacks handle themselves: not-modified, removals, blocks, and
# redirects (followed by hand, since a redirect to the column means "withdrawn").
NOTICE_STATUSES = [304, 404, 410, *BLOCK_STATUSES, 301, 302, 303, 307, 308]


def _now() -> datetime:
    return datetime.now(UTC)


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


class NoticeSpider(scrapy.Spider):
    """``scrapy crawl notices -a sites=mawei,gulou -a plan=plan.json``"""

    name = "notices"
    family: str | None = None  # subclasses crawl one family only

    # Statuses our callbacks handle themselves (withdrawals, blocks, 304s).
    # WARN_ON_GENERATOR_RETURN_VALUE off: Scrapy's check re-reads and re-parses the source
    # of the callback for every response (its cache is keyed by the bound method, a new
    # object per request): ~1.4 ms each, a fifth of the CPU of a 304-heavy cycle.
    custom_settings = {"HTTPERROR_ALLOWED_CODES": [304, 403, 404, 405, 410, 412, 521],
                       "WARN_ON_GENERATOR_RETURN_VALUE": False}

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        apply_settings_file(settings)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> Self:
        # Arguments handed over with the settings on standard input (crawler/runtime.py);
        # ones given with -a on the command line win.
        handed = crawler.settings.getdict(SPIDER_ARGS)
        return super().from_crawler(crawler, *args, **{**handed, **kwargs})

    def __init__(self, sites: str = "", plan: str = "", registry: str = "",
                 site_rows: list[dict[str, Any]] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.site_keys = [k for k in sites.split(",") if k]
        self.registry_paths = [p for p in registry.split(",") if p]
        # The crawl's sites as registry rows, handed over on stdin by `noticewatch crawl`
        # (which has read the registry already): no second parse of the YAML files here,
        # ~0.3 s at 2,800 sites on the crawl's critical path.
        self.site_rows = site_rows
        # Loaded here, not in start(): pipelines open before start() runs and need the run id.
        self.plan = CrawlPlan.load(plan)
        self.refetch = set(self.plan.refetch)
        self.registry: Registry | None = None
        self.site_by_host: dict[str, SiteSpec] = {}  # filled in start()
        # canonical URL → columns that listed it in this run (one notice, many columns)
        self.columns_of: dict[str, set[str]] = defaultdict(set)
        self.requested: set[str] = set()
        self.emitted: set[str] = set()
        self.list_signatures: dict[str, set[tuple[str, ...]]] = defaultdict(set)
        self.listed: dict[str, set[str]] = defaultdict(set)  # column URL → notices listed this run
        self.oldest_listed: dict[str, str] = {}  # column URL → oldest list date walked

    # -- setup -------------------------------------------------------------------------

    def _sites(self) -> list[SiteSpec]:
        if self.site_rows is not None:
            self.registry = registry_from_data({"sites": self.site_rows}, source="<noticewatch crawl>")
        else:
            paths = self.registry_paths or self.settings.getlist("NOTICEWATCH_REGISTRY")
            self.registry = load_registry(paths or None)
        sites = self.registry.select(self.site_keys or None)
        if self.family:
            sites = [s for s in sites if s.family == self.family]
        return sites

    async def start(self) -> AsyncIterator[Any]:
        self.max_pages = self.settings.getint("NOTICEWATCH_MAX_PAGES_PER_COLUMN", 50)
        sites = self._sites()
        self.sites_by_key = {s.key: s for s in sites}  # read by the guard, caps and block middlewares
        # host → site: looked up for every listed URL and, by middlewares, for requests
        # without an ``nw_site`` (robots.txt); a scan of every site would be quadratic.
        self.site_by_host = {}
        for site in sites:
            for domain in site.domains():
                self.site_by_host.setdefault(domain, site)
        self.allowed_domains = sorted(self.site_by_host)
        for site in sites:
            for column in site.columns:
                yield self._list_request(site, column, PageRequest(url=column.url, kind="list", page=0), first=True)
        # Notices whose files were not all stored are fetched again unconditionally; the
        # re-check window re-fetches recent notices (conditionally) to catch quiet edits
        # that leave the list unchanged.
        for url in [*self.plan.refetch, *self.plan.recent_active()]:
            owner = self._site_for_url(url)
            if owner is not None and url not in self.requested:
                yield self._notice_request(owner, url, url)

    def _site_for_url(self, url: str) -> SiteSpec | None:
        return self.site_by_host.get((urlsplit(url).hostname or "").lower())

    # -- list pages --------------------------------------------------------------------

    def _list_request(self, site: SiteSpec, column: ColumnSpec, page: PageRequest, *,
                      first: bool = False, pending: list[PageRequest] | None = None, depth: int = 0) -> Request:
        meta = {"nw_site": site.key, "nw_kind": "list", "handle_httpstatus_all": False}
        kwargs = {"site": site, "column": column, "page": page, "pending": pending or [], "depth": depth}
        headers = dict(page.headers)
        if first:
            state = self.plan.columns.get(column.url)
            if state and state.etag:
                headers["If-None-Match"] = state.etag
            if state and state.last_modified:
                headers["If-Modified-Since"] = state.last_modified
        if page.method.upper() == "POST":
            return FormRequest(page.url, formdata=dict(page.formdata), headers=headers, callback=self.parse_list,
                               errback=self.on_error, cb_kwargs=kwargs, meta=meta, dont_filter=True)
        return Request(page.url, headers=headers, callback=self.parse_list, errback=self.on_error,
                       cb_kwargs=kwargs, meta=meta, dont_filter=True)

    def parse_list(self, response: Response, site: SiteSpec, column: ColumnSpec, page: PageRequest,
                   pending: list[PageRequest], depth: int = 0) -> Iterator[Any]:
        stats = self.crawler.stats
        assert stats is not None
        if response.status == 304:
            stats.inc_value("lists/not_modified")
            yield ListPageItem(site.key, column.url, 0, not_modified=True)
            return  # the column's first page is unchanged: nothing new in it
        if response.status in BLOCK_STATUSES:
            yield FetchErrorItem(site.key, response.url, "blocked", f"HTTP {response.status} on a list page")
            return
        if response.status >= 400:
            yield FetchErrorItem(site.key, response.url, "http", f"HTTP {response.status} on a list page")
            return
        if depth == 0 and page.kind == "list":
            yield ColumnStateItem(site.key, column.url, _header(response, "ETag"),
                                  _header(response, "Last-Modified"), _now())
        family = column.family or site.family
        text, _encoding = decode_html(response.body, _header(response, "Content-Type"))
        try:
            listing: ListPage = adapter_for(family, column.selectors).parse_list(
                text, response.url, kind=page.kind, request=page)
        except ExtractionError as exc:
            yield FetchErrorItem(site.key, response.url, "parse", exc.reason)
            return
        stats.inc_value("lists/pages")
        yield ListPageItem(site.key, column.url, len(listing.entries))  # site health compares yields
        signature = tuple(e.url for e in listing.entries)
        if signature and signature in self.list_signatures[column.url]:
            # The same rows again: a pagination trap or a stub page. End the column.
            self.logger.warning("list repeats itself at %s; ending column %s", response.url, column.url)
            stats.inc_value("lists/trap_ended")
            yield FetchErrorItem(site.key, response.url, "trap", "list page repeats an earlier page")
            return
        self.list_signatures[column.url].add(signature)
        fresh = 0
        for entry in listing.entries:
            canon = canonicalize_url(entry.url)
            self.columns_of[canon].add(column.url)
            self.listed[column.url].add(canon)
            if entry.published_at:
                day = entry.published_at[:10]
                if day < self.oldest_listed.get(column.url, "9999"):
                    self.oldest_listed[column.url] = day
            if canon in self.requested:
                if canon in self.emitted:  # linked from a second column after its item left
                    yield NoticeSeenItem(site.key, canon, [column.url], _now())
                continue
            if (self.plan.is_known(canon) and not self.plan.due_for_recheck(canon)
                    and not self.plan.title_changed(canon, entry.title)):
                yield NoticeSeenItem(site.key, canon, [column.url], _now())
                continue
            if not self.plan.is_known(canon):
                fresh += 1
            target = self._site_for_url(entry.url) or site
            yield self._notice_request(target, entry.url, canon, column if target is site else None)
        queue = list(pending) + [r for r in listing.follow if r not in pending]
        # Pages walked so far in this column (adapters do not always number their pages).
        page_no = depth + 1
        stop_early = fresh == 0 and bool(self.plan.known) and page_no > self.plan.list_overlap
        if not queue:
            yield from self._column_finished(site, column, complete=True)
            return
        if stop_early:
            stats.inc_value("lists/stopped_early")
            yield from self._column_finished(site, column, complete=False)
            return
        if page_no >= self.max_pages:
            stats.inc_value("lists/page_cap")
            self.logger.info("page cap %d reached for column %s", self.max_pages, column.url)
            yield from self._column_finished(site, column, complete=False)
            return
        nxt, rest = queue[0], queue[1:]
        yield self._list_request(site, column, nxt, pending=rest, depth=page_no)

    def _column_finished(self, site: SiteSpec, column: ColumnSpec, *, complete: bool) -> Iterator[Any]:
        """Fetch known notices that this run's walk of the column no longer lists.

        Only notices the walk should have seen are checked: all of them after a complete
        walk, else those at least as recent as the oldest row walked. Each is fetched
        (conditionally) and becomes withdrawn only if its own page says it is gone.
        """
        listed = self.listed.get(column.url, set())
        if not listed:
            return  # a list that parsed to nothing says nothing about removals
        oldest = self.oldest_listed.get(column.url)
        for canon in self.plan.column_members.get(column.url, ()):
            if canon in listed or canon in self.requested:
                continue
            known = self.plan.known.get(canon)
            if not complete:
                published = (known.published_at or "")[:10] if known else ""
                if not oldest or not published or published < oldest:
                    continue
            self.crawler.stats.inc_value("lists/unlisted_checked")
            yield self._notice_request(site, canon, canon)

    # -- notices -----------------------------------------------------------------------

    def _notice_request(self, site: SiteSpec, url: str, canon: str, column: ColumnSpec | None = None) -> Request:
        self.requested.add(canon)
        headers: dict[str, str] = {}
        known = self.plan.known.get(canon)
        if known is not None and known.status == "active" and canon not in self.refetch:
            if known.etag:
                headers["If-None-Match"] = known.etag
            if known.last_modified:
                headers["If-Modified-Since"] = known.last_modified
        return Request(url, headers=headers, callback=self.parse_notice, errback=self.on_error,
                       cb_kwargs={"site": site, "canon": canon, "column": column},
                       meta={"nw_site": site.key, "nw_kind": "notice", "dont_redirect": True,
                             "handle_httpstatus_list": NOTICE_STATUSES})

    def parse_notice(self, response: Response, site: SiteSpec, canon: str,
                     column: ColumnSpec | None = None) -> Iterator[Any]:
        columns = sorted(self.columns_of.get(canon, ()))
        if response.status == 304:
            self.emitted.add(canon)
            yield NoticeSeenItem(site.key, canon, columns, _now())
            return
        if response.status in (404, 410):
            yield NoticeGoneItem(site.key, canon, str(response.status), _now())
            return
        if response.status in (301, 302, 303, 307, 308):
            location = _header(response, "Location") or ""
            target = canonicalize_url(response.urljoin(location)) if location else ""
            column_urls = {canonicalize_url(c.url) for c in site.columns}
            if target in column_urls or target.rstrip("/") == canonicalize_url(site.base_url).rstrip("/"):
                yield NoticeGoneItem(site.key, canon, "redirect", _now())
            else:
                yield Request(response.urljoin(location), callback=self.parse_notice, errback=self.on_error,
                              cb_kwargs={"site": site, "canon": canon, "column": column},
                              meta={"nw_site": site.key, "nw_kind": "notice"})
            return
        if response.status in BLOCK_STATUSES:
            yield FetchErrorItem(site.key, response.url, "blocked", f"HTTP {response.status} on a notice")
            return
        if response.status >= 400:
            yield FetchErrorItem(site.key, response.url, "http", f"HTTP {response.status}")
            return
        text, _encoding = decode_html(response.body, _header(response, "Content-Type"))
        # The listing column's family and selectors; a re-check has no column: use the
        # site's first column with selectors (explicit selectors are rare, usually one per site).
        column = column or next((c for c in site.columns if c.selectors), None)
        family = (column.family if column else None) or site.family
        try:
            parsed = adapter_for(family, column.selectors if column else None).parse_notice(text, response.url)
        except ExtractionError as exc:
            yield FetchErrorItem(site.key, response.url, "parse", exc.reason)
            return
        if parsed.withdrawn_hint:
            yield NoticeGoneItem(site.key, canon, "refresh", _now())
            return
        self.emitted.add(canon)
        yield NoticeItem(
            site_key=site.key, column_urls=columns, url=response.url, canonical_url=canon, parsed=parsed,
            fetched_at=_now(), etag=_header(response, "ETag"), last_modified=_header(response, "Last-Modified"),
            raw_sha256=hashlib.sha256(response.body).hexdigest(),
            warc_record=response.meta.get("warc_record"),
            file_urls=[a.url for a in parsed.attachments],
        )

    def on_error(self, failure: Any) -> Iterator[Any]:
        request = failure.request
        site_key = request.meta.get("nw_site", "")
        kind = request.meta.get("nw_error_kind") or type(failure.value).__name__
        self.logger.warning("request failed: %s (%s)", request.url, failure.value)
        yield FetchErrorItem(site_key, request.url, str(kind), str(failure.value)[:500])


class TrsWcmSpider(NoticeSpider):
    name = "trs_wcm"
    family = "trs_wcm"


class FujianSpider(NoticeSpider):
    name = "fujian"
    family = "fujian"


class HanwebSpider(NoticeSpider):
    name = "hanweb"
    family = "hanweb"


class KaipuSpider(NoticeSpider):
    name = "kaipu"
    family = "kaipu"


class GkmlptSpider(NoticeSpider):
    name = "gkmlpt"
    family = "gkmlpt"


class EpointSpider(NoticeSpider):
    name = "epoint"
    family = "epoint"
