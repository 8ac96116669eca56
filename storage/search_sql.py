"""Turning a parsed query into SQL for SQLite (FTS5) or PostgreSQL (GIN over a tsvector of the same keys).

The same plan on both: the n-gram index narrows the candidates, then every term that the
index cannot prove (3+ characters, punctuation, negations, OR branches) is checked as an
exact substring of the normalised document. Only bound parameters reach the database;
the SQL text is built from fixed fragments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from storage.search_text import And, Node, Not, ParsedQuery, Term, normalize, term_keys

__all__ = ["CompiledQuery", "compile_query", "date_upper_bound"]


@dataclass
class CompiledQuery:
    where: str  # over "search_doc d"
    score: str  # higher is better
    params: dict[str, Any] = field(default_factory=dict)


def date_upper_bound(value: str) -> str:
    """The exclusive ISO bound after a YYYY, YYYY-MM or YYYY-MM-DD ``to`` value."""
    from datetime import date, timedelta

    parts = [int(p) for p in value.split("-")]
    if len(parts) == 1:
        return f"{parts[0] + 1:04d}"
    if len(parts) == 2:
        year, month = parts
        return f"{year + month // 12:04d}-{month % 12 + 1:02d}"
    return (date(*parts) + timedelta(days=1)).isoformat()


def repr_key(key: str) -> str:
    return "'" + key + "'"


class _Builder:
    def __init__(self, dialect: str) -> None:
        self.pg = dialect == "postgresql"
        self.params: dict[str, Any] = {}

    def param(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def contains(self, column: str, needle: str) -> str:
        fn = "strpos" if self.pg else "instr"
        return f"{fn}({column}, {self.param(needle)}) > 0"

    def keys_present(self, keys: list[str]) -> str:
        # PostgreSQL only. The keys were stored with array_to_tsvector and are matched
        # with a tsquery literal: neither goes through the text-search parser, so the
        # database locale plays no part. Keys are letters/digits only: quoting is safe.
        # (A text[] "@>" GIN lookup would recheck, i.e. detoast, every matching row.)
        return f"d.grams @@ CAST({self.param(' & '.join(repr_key(k) for k in keys))} AS tsquery)"


def _covered_terms(tree: Node | None) -> list[Term]:
    """Positive terms ANDed at the top: the FTS5 MATCH expression proves exact ones."""
    if isinstance(tree, Term):
        return [tree]
    if isinstance(tree, And):
        return [c for c in tree.children if isinstance(c, Term)]
    return []


def _fts_expression(node: Node) -> str | None:
    """FTS5 MATCH text for the candidates, or None when the index cannot narrow them."""
    if isinstance(node, Term):
        keys, _exact = term_keys(node.text)
        # Keys are letters/digits only, so quoting them is enough; never user syntax.
        return "(" + " AND ".join(f'"{k}"' for k in keys) + ")"
    if isinstance(node, Not):
        return None
    if isinstance(node, And):
        parts = [p for p in (_fts_expression(c) for c in node.children) if p is not None]
        return "(" + " AND ".join(parts) + ")" if parts else None
    parts_or = [_fts_expression(c) for c in node.children]
    if any(p is None for p in parts_or):
        return None
    return "(" + " OR ".join(p for p in parts_or if p) + ")"


def _condition(b: _Builder, node: Node, covered: set[int]) -> str:
    if isinstance(node, Term):
        keys, exact = term_keys(node.text)
        if b.pg:
            check = b.keys_present(keys)
            return check if exact else f"({check} AND {b.contains('d.doc', node.text)})"
        if id(node) in covered and exact:
            return "1 = 1"
        return b.contains("d.doc", node.text)
    if isinstance(node, Not):
        return f"NOT ({_condition(b, node.child, covered)})"
    joiner = " AND " if isinstance(node, And) else " OR "
    return "(" + joiner.join(_condition(b, c, covered) for c in node.children) + ")"


def compile_query(parsed: ParsedQuery, dialect: str) -> CompiledQuery:
    b = _Builder(dialect)
    clauses: list[str] = []
    tree = parsed.tree
    if tree is not None:
        covered: set[int] = set()
        if not b.pg:
            match = _fts_expression(tree)
            if match is not None:
                clauses.append("d.doc_id IN (SELECT rowid FROM search_grams WHERE search_grams MATCH "
                               f"{b.param(match)})")
                covered = {id(t) for t in _covered_terms(tree)}
        clauses.append(_condition(b, tree, covered))
    filters = parsed.filters
    if "site" in filters:
        clauses.append(f"d.site_id IN (SELECT id FROM site WHERE key = {b.param(filters['site'])})")
    if "column" in filters:
        value = b.param(filters["column"])
        clauses.append(
            'EXISTS (SELECT 1 FROM notice_column nc JOIN "column" c ON c.id = nc.column_id '
            f"WHERE nc.notice_id = d.notice_id AND (c.url = {value} OR c.name = {value} "
            f"OR CAST(c.id AS VARCHAR(20)) = {value}))")
    if "date_from" in filters:
        clauses.append(f"d.published_at >= {b.param(filters['date_from'])}")
    if "date_to" in filters:
        clauses.append(f"d.published_at < {b.param(date_upper_bound(filters['date_to']))}")
    if "issuing_org" in filters:
        clauses.append(b.contains("d.issuing_org", normalize(filters["issuing_org"])))
    if "doc_no" in filters:
        clauses.append(b.contains("d.doc_no", normalize(filters["doc_no"])))
    if "status" in filters:
        clauses.append(f"d.status = {b.param(filters['status'])}")
    # Rank: how many of the wanted terms the title holds, then newest first (ORDER BY).
    title_hits = [f"(CASE WHEN {b.contains('d.title', t)} THEN 1 ELSE 0 END)"
                  for t in parsed.positive_terms()]
    score = " + ".join(title_hits) if title_hits else "0"
    return CompiledQuery(" AND ".join(clauses) if clauses else "1 = 1", score, b.params)
