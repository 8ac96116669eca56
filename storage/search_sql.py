"""Turning a parsed query into SQL for SQLite (FTS5) or PostgreSQL (GIN over a tsvector of the same keys).

The same plan on both: the key index (``storage.search_keys``) narrows the candidates,
then every term the index cannot prove (3+ characters, punctuation, negations, OR
branches) is checked as an exact substring of the normalised document ("residual"
conditions). Only bound parameters reach the database; the SQL text is built from fixed
fragments.

Ranking is "how many wanted words the title holds, then newest first". Instead of
scoring every match, ``levels()`` splits the matches by that title score (k words:
score k, then 1..k-1, then 0); each level is a separate query whose candidates are
already in newest-first order (the FTS rowid on SQLite, a btree on PostgreSQL), so a
page of a word found in half the archive stops after a few dozen rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from storage.search_keys import (
    ALL_KEY,
    doc_no_keys,
    minute_bound,
    org_keys,
    site_key,
    status_key,
    title_keys,
)
from storage.search_text import And, Node, Not, ParsedQuery, Term, normalize, term_keys

__all__ = ["CompiledQuery", "Level", "compile_query", "date_upper_bound"]

# A key expression: ("key", k) | ("and", [...]) | ("or", [...]).
KeyExpr = tuple[str, Any]


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


def _all_of(keys: list[str]) -> KeyExpr:
    return ("and", [("key", k) for k in keys]) if len(keys) > 1 else ("key", keys[0])


def _render(expr: KeyExpr, pg: bool) -> str:
    # Keys are letters/digits only (never user syntax), so quoting them is enough.
    kind, value = expr
    if kind == "key":
        return f"'{value}'" if pg else f'"{value}"'
    joiner = {("and", False): " AND ", ("or", False): " OR ", ("and", True): " & ", ("or", True): " | "}
    return "(" + joiner[(kind, pg)].join(_render(e, pg) for e in value) + ")"


def _narrowing(node: Node) -> KeyExpr | None:
    """Keys every match must hold, or None when the index cannot narrow (NOT, OR with NOT)."""
    if isinstance(node, Term):
        return _all_of(term_keys(node.text)[0])
    if isinstance(node, Not):
        return None
    if isinstance(node, And):
        parts = [p for p in (_narrowing(c) for c in node.children) if p is not None]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else ("and", parts)
    branches = [_narrowing(c) for c in node.children]
    if any(b is None for b in branches):
        return None
    return ("or", branches)


def _covered_terms(tree: Node | None) -> list[Term]:
    """Positive terms ANDed at the top: the index alone proves the exact ones."""
    if isinstance(tree, Term):
        return [tree]
    if isinstance(tree, And):
        return [c for c in tree.children if isinstance(c, Term)]
    return []


@dataclass
class Level:
    """One slice of the ranking: matches whose title holds ``score`` wanted words."""

    score: int
    keys: KeyExpr | None  # ANDed to the base keys
    not_keys: KeyExpr | None  # excluded (exact terms only)
    conditions: list[str]


@dataclass
class CompiledQuery:
    pg: bool
    base: KeyExpr | None  # keys every match holds (None: every row is a candidate)
    conditions: list[str]  # exact residual checks over "search_doc d"
    params: dict[str, Any] = field(default_factory=dict)
    column_conditions: list[str] = field(default_factory=list)  # PostgreSQL: site/status columns
    lower: int | None = None  # sort key bounds from from:/to:
    upper: int | None = None
    levels: list[Level] = field(default_factory=list)

    def param(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def contains(self, column: str, needle: str) -> str:
        return f"{'strpos' if self.pg else 'instr'}({column}, {self.param(needle)}) > 0"

    def key_count(self, level: Level | None) -> int:
        keys = [self.base, level.keys if level else None, level.not_keys if level else None]
        return sum(_render(k, True).count("'") // 2 for k in keys if k is not None)

    def select(self, level: Level | None, columns: str, *, ordered: bool = True,
               window: int | None = None) -> str:
        """``SELECT columns FROM ... WHERE ...`` for one level (or every match), newest
        first unless ``ordered`` is false (counting); the caller appends LIMIT.

        ``window`` (PostgreSQL): only look at the newest ``window`` rows that pass the
        column filters. If that finds a full page it is the right page (the order is
        total); the caller falls back to the unbounded query otherwise. Why: the planner
        multiplies the frequencies of correlated keys (垃圾, 圾分, 分类 …), believes a
        phrase is rare and reads and sorts every candidate, when walking the sort-key
        btree for a few hundred rows would do."""
        keys = self.base
        if level is not None and level.keys is not None:
            keys = level.keys if keys is None else ("and", [keys, level.keys])
        not_keys = level.not_keys if level is not None else None
        where = list(self.conditions) + (level.conditions if level is not None else [])
        if self.pg:
            order = "d.sort_key"
            where = self.column_conditions + where
            if keys is not None:
                where.insert(0, f"d.grams @@ CAST({self.param(_render(keys, True))} AS tsquery)")
            if not_keys is not None:
                where.append(f"NOT (d.grams @@ CAST({self.param(_render(not_keys, True))} AS tsquery))")
            source = "search_doc d"
            if window is not None:
                inner = list(self.column_conditions)
                if self.lower is not None:
                    inner.append(f"d.sort_key >= {self.param(self.lower)}")
                if self.upper is not None:
                    inner.append(f"d.sort_key < {self.param(self.upper)}")
                source = ("(SELECT * FROM search_doc d" + (" WHERE " + " AND ".join(inner) if inner else "")
                          + f" ORDER BY d.sort_key DESC LIMIT {int(window)}) AS d")
                where = [c for c in where if c not in self.column_conditions]
        else:
            # FTS5 hands out rowids (= sort keys) in order and takes the rowid bounds
            # itself; CROSS JOIN keeps it the outer loop, so LIMIT stops the walk early.
            order = "g.rowid"
            match = _render(keys if keys is not None else ("key", ALL_KEY), False)
            if not_keys is not None:
                match = f"{match} NOT {_render(not_keys, False)}"
            where.insert(0, f"g.search_grams MATCH {self.param(match)}")
            source = "search_grams g CROSS JOIN search_doc d"
        if self.lower is not None:
            where.append(f"{order} >= {self.param(self.lower)}")
        if self.upper is not None:
            where.append(f"{order} < {self.param(self.upper)}")
        join = "" if self.pg else " AND d.doc_id = g.rowid"
        return (f"SELECT {columns} FROM {source} WHERE " + (" AND ".join(where) or "1 = 1") + join
                + (f" ORDER BY {order} DESC" if ordered else ""))


def _condition(q: CompiledQuery, node: Node, covered: set[int]) -> str:
    if isinstance(node, Term):
        _keys, exact = term_keys(node.text)
        if id(node) in covered and exact:
            return "1 = 1"
        return q.contains("d.doc", node.text)
    if isinstance(node, Not):
        return f"NOT ({_condition(q, node.child, covered)})"
    joiner = " AND " if isinstance(node, And) else " OR "
    return "(" + joiner.join(_condition(q, c, covered) for c in node.children) + ")"


def _levels(q: CompiledQuery, terms: list[str]) -> list[Level]:
    if not terms:
        return [Level(0, None, None, [])]
    in_title = [q.contains("d.title", t) for t in terms]
    exact = [term_keys(t)[1] for t in terms]
    keys = [_all_of(title_keys(term_keys(t)[0])) for t in terms]
    k = len(terms)
    levels = [Level(k, ("and", keys) if k > 1 else keys[0], None,
                    [c for c, e in zip(in_title, exact, strict=True) if not e])]
    if k > 1:
        score = " + ".join(f"(CASE WHEN {c} THEN 1 ELSE 0 END)" for c in in_title)
        for s in range(k - 1, 0, -1):
            levels.append(Level(s, ("or", keys), None, [f"({score}) = {s}"]))
    excluded = [key for key, e in zip(keys, exact, strict=True) if e]
    not_keys = None if not excluded else excluded[0] if len(excluded) == 1 else ("or", excluded)
    levels.append(Level(0, None, not_keys,
                        [f"NOT ({c})" for c, e in zip(in_title, exact, strict=True) if not e]))
    return levels


def compile_query(parsed: ParsedQuery, dialect: str, *, site_id: int | None = None) -> CompiledQuery:
    """``site_id``: the id of the ``site`` filter's key, resolved by the caller (0 when
    no such site exists: nothing matches)."""
    q = CompiledQuery(pg=dialect == "postgresql", base=None, conditions=[])
    narrowing: list[KeyExpr] = []
    tree = parsed.tree
    if tree is not None:
        base = _narrowing(tree)
        if base is not None:
            narrowing.append(base)
        covered = {id(t) for t in _covered_terms(tree)} if base is not None else set()
        q.conditions.append(_condition(q, tree, covered))
    filters = parsed.filters
    # Site and status are keys too (GIN skips through a long posting list using a short
    # one); PostgreSQL also gets the columns, which the windowed walk filters on.
    if "site" in filters:
        site = int(site_id or 0)
        narrowing.append(("key", site_key(site)))
        if q.pg:
            q.column_conditions.append(f"d.site_id = {q.param(site)}")
    if "status" in filters:
        narrowing.append(("key", status_key(filters["status"])))
        if q.pg:
            q.column_conditions.append(f"d.status = {q.param(filters['status'])}")
    for name, column, namespace in (("issuing_org", "d.issuing_org", org_keys), ("doc_no", "d.doc_no", doc_no_keys)):
        if name in filters:
            value = normalize(filters[name])
            keys = term_keys(value)[0]
            if keys:
                narrowing.append(_all_of(namespace(keys)))
            q.conditions.append(q.contains(column, value))
    if "column" in filters:
        value = q.param(filters["column"])
        q.conditions.append(
            'EXISTS (SELECT 1 FROM notice_column nc JOIN "column" c ON c.id = nc.column_id '
            f"WHERE nc.notice_id = d.notice_id AND (c.url = {value} OR c.name = {value} "
            f"OR CAST(c.id AS VARCHAR(20)) = {value}))")
    # Dates as sort-key bounds (the sort key starts with the published minute); a notice
    # without a date has key < 1 << 32 and is outside every date filter, as before.
    if "date_from" in filters:
        q.lower = minute_bound(filters["date_from"])
    if "date_to" in filters:
        q.upper = minute_bound(date_upper_bound(filters["date_to"]))
        q.lower = max(q.lower or 0, 1 << 32)
    if narrowing:
        q.base = narrowing[0] if len(narrowing) == 1 else ("and", narrowing)
    q.conditions = [c for c in q.conditions if c != "1 = 1"]
    q.levels = _levels(q, parsed.positive_terms())
    return q
