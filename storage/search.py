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

from collections import Counter
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

COUNT_CAP = 1_000  # totals above this are shown as "1000+": an exact count reads every match
FACET_SAMPLE = 2_000  # facets count the newest matches up to this many
# PostgreSQL, queries of several (correlated) keys: first try the newest WINDOW rows.
WINDOW = 1_000
WINDOW_MIN_KEYS = 3


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
        # Enough memory for exact bitmaps: a lossy one rechecks whole pages of tsvectors.
        session.execute(text("SET LOCAL work_mem = '64MB'"))
    site_id = None
    if "site" in parsed.filters:
        site_id = session.scalar(select(Site.id).where(Site.key == parsed.filters["site"])) or 0
    return parsed, compile_query(parsed, dialect, site_id=site_id)


def _ranked(session: Session, compiled: CompiledQuery, wanted: int | None) -> Iterator[tuple[int, int]]:
    """(notice_id, score) in rank order: each title-score level newest first, the best
    level first; with ``wanted`` each level query stops once enough rows are found."""
    found = 0
    for level in compiled.levels:
        params = dict(compiled.params)
        rows: Any = None
        if wanted is not None and compiled.pg and compiled.key_count(level) >= WINDOW_MIN_KEYS:
            window = max(WINDOW, 20 * (wanted - found))
            sql = compiled.select(level, "d.notice_id", window=window) + " LIMIT :limit"
            params = {**compiled.params, "limit": wanted - found}
            rows = session.execute(text(sql), params).all()
            if len(rows) < wanted - found:
                rows = None  # not enough among the newest rows: ask the planner
        if rows is None:
            sql = compiled.select(level, "d.notice_id")
            params = dict(compiled.params)
            if wanted is not None:
                sql += " LIMIT :limit"
                params["limit"] = wanted - found
            rows = session.execute(text(sql), params)
        for (notice_id,) in rows:
            found += 1
            yield int(notice_id), level.score
        if wanted is not None and found >= wanted:
            return


def search(session: Session, query: str | ParsedQuery, *, filters: dict[str, str | None] | None = None,
           limit: int = 20, offset: int = 0, count: bool = True) -> SearchResult:
    """Ranked hits (title matches first, then newest) with highlighted snippets."""
    parsed, compiled = _prepare(session, query, filters)
    limit = max(1, min(int(limit), 1000))
    offset = max(0, int(offset))
    ranked = list(_ranked(session, compiled, offset + limit))[offset:]
    total, capped = len(ranked) + offset, False
    if count and (len(ranked) == limit or offset):
        sql = compiled.select(None, "1", ordered=False)
        total = int(session.execute(
            text(f"SELECT count(*) FROM ({sql} LIMIT :cap) AS matched"),
            {**compiled.params, "cap": COUNT_CAP + 1}).scalar() or 0)
        capped = total > COUNT_CAP
        total = min(total, COUNT_CAP)
    terms = parsed.positive_terms()
    hits = _hits(session, ranked, terms)
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
    """Every matching notice id in rank order (for exports)."""
    del batch_size  # kept for callers; rows are streamed level by level
    parsed, compiled = _prepare(session, query, filters)
    for notice_id, _score in _ranked(session, compiled, max_rows):
        yield notice_id


def facets(session: Session, query: str | ParsedQuery, *,
           filters: dict[str, str | None] | None = None, top: int = 10) -> dict[str, list[tuple[str, str, int]]]:
    """Counts by site, year and issuing body over the newest ``FACET_SAMPLE`` matches:
    ``{"site": [(key, label, n)], "year": [...], "issuing_org": [...]}``."""
    parsed, compiled = _prepare(session, query, filters)
    sample = compiled.select(None, "d.site_id, substr(d.published_at, 1, 4) AS year, d.issuing_org")
    sample += f" LIMIT {FACET_SAMPLE}"
    rows = session.execute(text(sample), compiled.params).all()
    out: dict[str, list[tuple[str, str, int]]] = {}
    for index, name in enumerate(("site", "year", "issuing_org")):
        counts = Counter(str(r[index]) for r in rows if r[index] is not None)
        ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:int(top)]
        out[name] = [(value, value, n) for value, n in ordered]
    if out["site"]:
        sites = {str(s.id): s for s in session.scalars(
            select(Site).where(Site.id.in_([int(v) for v, _, _ in out["site"]])))}
        out["site"] = [(sites[v].key, sites[v].name, n) for v, _, n in out["site"] if v in sites]
    return out
