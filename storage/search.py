"""Chinese full-text search over titles, bodies and attachment text.

    result = search(session, '垃圾分类 -征求意见 site:mawei', limit=20)

Query language (docs/search.md): words and "quoted phrases" are substrings (Chinese has
no spaces between words, so any run of characters is a word); terms side by side or
joined by AND must all occur; OR; NOT or a leading '-' excludes; parentheses group;
filters ``site: column: from: to: org: doc_no: status:`` inline or as keyword
arguments. Malformed queries raise ``SearchSyntaxError`` before any SQL runs.

Importing this module also installs the session hooks that keep the index in sync
(``storage.search_index``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session, joinedload, selectinload

from storage.models import Notice, NoticeVersion, Site, VersionAttachment
from storage.search_index import index_available, rebuild_index, reindex_notice
from storage.search_sql import CompiledQuery, compile_query
from storage.search_text import ParsedQuery, SearchSyntaxError, highlight, parse_query, snippet

__all__ = [
    "SearchHit",
    "SearchResult",
    "SearchSyntaxError",
    "facets",
    "highlight",
    "index_available",
    "iter_search_ids",
    "parse_query",
    "rebuild_index",
    "reindex_notice",
    "search",
]

COUNT_CAP = 10_000  # totals above this are shown as "10000+": counting costs a full scan
FACET_SAMPLE = 20_000  # facets count the best matches up to this many


@dataclass
class SearchHit:
    notice_id: int
    score: int
    title: str
    title_html: str
    snippet: str  # plain text, hits in 【】
    snippet_html: str  # HTML-escaped, hits in <mark>
    site: str
    site_name: str
    url: str
    published_at: str | None
    issuing_org: str | None
    doc_no: str | None
    status: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class SearchResult:
    query: ParsedQuery
    hits: list[SearchHit]
    total: int
    total_is_capped: bool
    offset: int
    limit: int
    terms: list[str] = field(default_factory=list)


def _prepare(session: Session, query: str | ParsedQuery,
             filters: dict[str, str | None] | None) -> tuple[ParsedQuery, CompiledQuery]:
    parsed = query if isinstance(query, ParsedQuery) else parse_query(query, filters)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # psycopg prepares a statement after a few runs; a generic plan for "grams @@ $1"
        # cannot know the key is rare and may scan the whole index. Plan each search.
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    return parsed, compile_query(parsed, dialect)


_ORDER = "score DESC, d.published_at DESC, d.notice_id DESC"


def search(session: Session, query: str | ParsedQuery, *, filters: dict[str, str | None] | None = None,
           limit: int = 20, offset: int = 0, count: bool = True) -> SearchResult:
    """Ranked hits (title matches first, then newest) with highlighted snippets."""
    parsed, compiled = _prepare(session, query, filters)
    limit = max(1, min(int(limit), 1000))
    offset = max(0, int(offset))
    rows = session.execute(
        text(f"SELECT d.notice_id, {compiled.score} AS score FROM search_doc d "
             f"WHERE {compiled.where} ORDER BY {_ORDER} LIMIT :limit OFFSET :offset"),
        {**compiled.params, "limit": limit, "offset": offset},
    ).all()
    total, capped = len(rows) + offset, False
    if count and (len(rows) == limit or offset):
        total = int(session.execute(
            text(f"SELECT count(*) FROM (SELECT 1 FROM search_doc d WHERE {compiled.where} "
                 "LIMIT :cap) AS matched"), {**compiled.params, "cap": COUNT_CAP + 1}).scalar() or 0)
        capped = total > COUNT_CAP
        total = min(total, COUNT_CAP)
    terms = parsed.positive_terms()
    hits = _hits(session, [(r.notice_id, int(r.score)) for r in rows], terms)
    return SearchResult(parsed, hits, total, capped, offset, limit, terms)


def _hits(session: Session, ranked: list[tuple[int, int]], terms: list[str]) -> list[SearchHit]:
    if not ranked:
        return []
    notices = {
        n.id: n
        for n in session.scalars(
            select(Notice)
            .where(Notice.id.in_([notice_id for notice_id, _ in ranked]))
            .options(
                joinedload(Notice.site),
                selectinload(Notice.current_version)
                .selectinload(NoticeVersion.attachments)
                .joinedload(VersionAttachment.blob),
            )
        )
    }
    hits = []
    for notice_id, score in ranked:
        notice = notices.get(notice_id)
        if notice is None:
            continue
        version = notice.current_version
        texts: list[str | None] = [notice.title]
        if version is not None:
            texts = [version.body_text, version.doc_no, version.issuing_org]
            for att in version.attachments:
                texts.extend([att.name, att.blob.text if att.blob else None])
        hits.append(SearchHit(
            notice_id=notice.id,
            score=score,
            title=notice.title,
            title_html=highlight(notice.title, terms),
            snippet=snippet(texts, terms, html_marks=False),
            snippet_html=snippet(texts, terms),
            site=notice.site.key,
            site_name=notice.site.name,
            url=notice.url,
            published_at=notice.published_at,
            issuing_org=version.issuing_org if version else None,
            doc_no=version.doc_no if version else None,
            status=notice.status,
        ))
    return hits


def iter_search_ids(session: Session, query: str | ParsedQuery, *,
                    filters: dict[str, str | None] | None = None, batch_size: int = 500,
                    max_rows: int | None = None) -> Iterator[int]:
    """Every matching notice id in rank order (for exports), fetched in batches."""
    parsed, compiled = _prepare(session, query, filters)
    offset = 0
    while max_rows is None or offset < max_rows:
        size = batch_size if max_rows is None else min(batch_size, max_rows - offset)
        ids = list(session.execute(
            text(f"SELECT d.notice_id, {compiled.score} AS score FROM search_doc d WHERE {compiled.where} "
                 f"ORDER BY {_ORDER} LIMIT :limit OFFSET :offset"),
            {**compiled.params, "limit": size, "offset": offset}).scalars())
        yield from ids
        if len(ids) < size:
            return
        offset += size


def facets(session: Session, query: str | ParsedQuery, *,
           filters: dict[str, str | None] | None = None, top: int = 10) -> dict[str, list[tuple[str, str, int]]]:
    """Counts by site, year and issuing body over the best ``FACET_SAMPLE`` matches:
    ``{"site": [(key, label, n)], "year": [...], "issuing_org": [...]}``."""
    parsed, compiled = _prepare(session, query, filters)
    sample = (f"SELECT d.site_id, substr(d.published_at, 1, 4) AS year, d.issuing_org "
              f"FROM search_doc d WHERE {compiled.where} LIMIT {FACET_SAMPLE}")
    out: dict[str, list[tuple[str, str, int]]] = {}
    for name, column in (("site", "site_id"), ("year", "year"), ("issuing_org", "issuing_org")):
        rows = session.execute(
            text(f"SELECT s.{column} AS value, count(*) AS n FROM ({sample}) AS s "
                 f"WHERE s.{column} IS NOT NULL GROUP BY s.{column} ORDER BY n DESC, value LIMIT {int(top)}"),
            compiled.params).all()
        out[name] = [(str(r.value), str(r.value), int(r.n)) for r in rows]
    if out["site"]:
        sites = {str(s.id): s for s in session.scalars(
            select(Site).where(Site.id.in_([int(v) for v, _, _ in out["site"]])))}
        out["site"] = [(sites[v].key, sites[v].name, n) for v, _, n in out["site"] if v in sites]
    return out
