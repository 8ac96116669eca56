"""Text side of the search: normalisation, n-gram keys, the query language, snippets.

Pure Python, no database. Both backends index the same keys (every character and every
pair of adjacent characters inside a run of letters/digits) and verify multi-character
terms by exact substring, so a query means the same thing on SQLite and PostgreSQL.
See docs/search.md for why.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field

__all__ = [
    "FILTER_FIELDS",
    "And",
    "Not",
    "Or",
    "ParsedQuery",
    "SearchSyntaxError",
    "Term",
    "gram_keys",
    "highlight",
    "normalize",
    "parse_query",
    "snippet",
    "term_keys",
]

_SPACE = re.compile(r"\s+")


class SearchSyntaxError(ValueError):
    """A query the parser cannot read; ``str()`` is a message fit for the user."""

    def __init__(self, message: str, position: int | None = None) -> None:
        self.position = position
        where = f" (at character {position + 1})" if position is not None else ""
        super().__init__(f"{message}{where}")


def _lower_keep_length(text: str) -> str:
    # str.lower() can change the length (İ -> i̇); keeping one character per character lets
    # snippets map positions in the normalised text back onto the displayed text. Lower
    # casing never shortens, so an unchanged length means no character expanded.
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def _nfkc(text: str) -> str:
    # The quick check is much cheaper than normalising text that is already NFKC (most is).
    return text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)


def normalize(text: str | None) -> str:
    """NFKC (full-width ASCII -> ASCII), lower case, whitespace runs -> one space."""
    if not text:
        return ""
    return _SPACE.sub(" ", _lower_keep_length(_nfkc(text))).strip()


def display_text(text: str | None) -> str:
    """The text snippets are cut from: same length and positions as ``normalize``."""
    if not text:
        return ""
    return _SPACE.sub(" ", _nfkc(text)).strip()


def _runs(text: str) -> list[str]:
    """Maximal runs of letters/digits (Chinese characters are letters)."""
    runs: list[str] = []
    start = None
    for index, char in enumerate(text):
        if char.isalnum():
            if start is None:
                start = index
        elif start is not None:
            runs.append(text[start:index])
            start = None
    if start is not None:
        runs.append(text[start:])
    return runs


def gram_keys(normalized: str) -> list[str]:
    """Distinct index keys of a normalised text: unigrams and bigrams of each run, sorted."""
    keys: set[str] = set()
    for run in _runs(normalized):
        keys.update(run)
        keys.update(run[i:i + 2] for i in range(len(run) - 1))
    return sorted(keys)


def term_keys(term: str) -> tuple[list[str], bool]:
    """The keys a document must hold to contain ``term`` and whether the index answer is
    exact (True) or needs a substring check (False: 3+ characters or punctuation)."""
    keys: set[str] = set()
    runs = _runs(term)
    for run in runs:
        if len(run) == 1:
            keys.add(run)
        else:
            keys.update(run[i:i + 2] for i in range(len(run) - 1))
    exact = len(runs) == 1 and runs[0] == term and len(term) <= 2
    return sorted(keys), exact


# -- the query language --------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    text: str  # normalised
    phrase: bool = False


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


Node = Term | Not | And | Or

# Inline filters ("site:mawei from:2024-01-01"); the CLI and web form set the same keys.
FILTER_FIELDS = {
    "site": "site", "column": "column", "from": "date_from", "to": "date_to",
    "org": "issuing_org", "issuing_org": "issuing_org", "doc_no": "doc_no", "docno": "doc_no",
    "status": "status",
}
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_STATUSES = ("active", "withdrawn")


@dataclass
class ParsedQuery:
    tree: Node | None
    filters: dict[str, str] = field(default_factory=dict)

    def positive_terms(self) -> list[str]:
        """Terms not under a NOT: the ones snippets highlight and ranking counts."""
        found: list[str] = []

        def walk(node: Node | None, negated: bool) -> None:
            if node is None:
                return
            if isinstance(node, Term):
                if not negated and node.text not in found:
                    found.append(node.text)
            elif isinstance(node, Not):
                walk(node.child, not negated)
            else:
                for child in node.children:
                    walk(child, negated)

        walk(self.tree, False)
        return found


@dataclass(frozen=True)
class _Token:
    kind: str  # word, phrase, and, or, not, lparen, rparen
    text: str
    pos: int


_SPECIAL = set('"()')


def _tokenize(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(query)
    while i < n:
        char = query[i]
        if char.isspace():
            i += 1
        elif char in "\"“”":
            close = next((j for j in range(i + 1, n) if query[j] in "\"“”"), -1)
            if close < 0:
                raise SearchSyntaxError("unclosed quote: add the closing \" or remove the opening one", i)
            text = normalize(query[i + 1:close])
            if not text:
                raise SearchSyntaxError("empty phrase \"\"", i)
            tokens.append(_Token("phrase", text, i))
            i = close + 1
        elif char in "(（":
            tokens.append(_Token("lparen", char, i))
            i += 1
        elif char in ")）":
            tokens.append(_Token("rparen", char, i))
            i += 1
        elif char == "-" and (i + 1 >= n or query[i + 1].isspace()):
            raise SearchSyntaxError("'-' must be followed by the word to exclude, e.g. -通知", i)
        elif char == "-":
            tokens.append(_Token("not", "-", i))
            i += 1
        else:
            j = i
            while j < n and not query[j].isspace() and query[j] not in _SPECIAL | set("“”（）"):
                j += 1
            word = query[i:j]
            kind = {"AND": "and", "OR": "or", "NOT": "not", "&&": "and", "||": "or", "|": "or"}.get(word, "word")
            tokens.append(_Token(kind, word, i))
            i = j
    return tokens


class _Parser:
    """Recursive descent: or := and ("OR" and)*; and := unary (["AND"] unary)*;
    unary := ("NOT" | "-") unary | "(" or ")" | word | phrase. NOT binds tightest."""

    def __init__(self, tokens: list[_Token], filters: dict[str, str]) -> None:
        self.tokens = tokens
        self.index = 0
        self.filters = filters

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def parse(self) -> Node | None:
        if not self.tokens:
            return None
        node = self.parse_or()
        token = self.peek()
        if token is not None:
            raise SearchSyntaxError("unexpected ')' without a matching '('", token.pos)
        return node

    def parse_or(self) -> Node | None:
        parts = [self.parse_and()]
        while (token := self.peek()) is not None and token.kind == "or":
            self.take()
            if self.peek() is None or self.peek().kind in ("or", "and", "rparen"):  # type: ignore[union-attr]
                raise SearchSyntaxError("OR needs a word on both sides", token.pos)
            parts.append(self.parse_and())
        if len(parts) == 1:
            return parts[0]  # may be None: only filters
        kept = [p for p in parts if p is not None]
        if len(kept) != len(parts):
            raise SearchSyntaxError("OR cannot combine a field filter; use it outside the OR", None)
        return kept[0] if len(kept) == 1 else Or(tuple(kept))

    def parse_and(self) -> Node | None:
        first = self.peek()
        if first is not None and first.kind in ("and", "or"):
            raise SearchSyntaxError(f"{first.text} needs a word before it", first.pos)
        parts: list[Node] = []
        saw_filter = False
        while (token := self.peek()) is not None and token.kind not in ("or", "rparen"):
            if token.kind == "and":
                self.take()
                following = self.peek()
                if following is None or following.kind in ("and", "or", "rparen"):
                    raise SearchSyntaxError("AND needs a word on both sides", token.pos)
                continue
            node = self.parse_unary()
            if node is None:
                saw_filter = True
            else:
                parts.append(node)
        if not parts:
            if saw_filter:
                return None
            token = self.peek()
            raise SearchSyntaxError("expected a word here", token.pos if token else None)
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def parse_unary(self) -> Node | None:
        token = self.take()
        if token.kind == "not":
            following = self.peek()
            if following is None or following.kind in ("and", "or", "rparen"):
                raise SearchSyntaxError("NOT/- must be followed by a word", token.pos)
            child = self.parse_unary()
            if child is None:
                raise SearchSyntaxError("a field filter cannot be negated", token.pos)
            return Not(child)
        if token.kind == "lparen":
            if self.peek() is None:
                raise SearchSyntaxError("unclosed '('", token.pos)
            if self.peek().kind == "rparen":  # type: ignore[union-attr]
                raise SearchSyntaxError("empty parentheses", token.pos)
            inner = self.parse_or()
            closing = self.peek()
            if closing is None or closing.kind != "rparen":
                raise SearchSyntaxError("unclosed '('", token.pos)
            self.take()
            if inner is None:
                raise SearchSyntaxError("empty parentheses", token.pos)
            return inner
        if token.kind == "phrase":
            return _term(token.text, token.pos, phrase=True)
        if token.kind == "word":
            name, sep, value = token.text.partition(":")
            if sep and name.lower() in FILTER_FIELDS:
                self.filters[FILTER_FIELDS[name.lower()]] = _check_filter(FILTER_FIELDS[name.lower()], value, token.pos)
                return None
            return _term(normalize(token.text), token.pos, phrase=False)
        raise SearchSyntaxError(f"unexpected {token.text!r}", token.pos)


def _term(text: str, pos: int, *, phrase: bool) -> Term:
    if not term_keys(text)[0]:
        raise SearchSyntaxError(f"{text!r} has no letters, digits or Chinese characters to search for", pos)
    return Term(text, phrase)


def _check_filter(name: str, value: str, pos: int | None) -> str:
    value = value.strip()
    if not value:
        raise SearchSyntaxError(f"the {name} filter needs a value", pos)
    if name in ("date_from", "date_to") and not _DATE.match(value):
        raise SearchSyntaxError(f"{name}: expected a date YYYY-MM-DD (or YYYY-MM, YYYY), got {value!r}", pos)
    if name == "status" and value not in _STATUSES:
        raise SearchSyntaxError(f"status: expected one of {', '.join(_STATUSES)}, got {value!r}", pos)
    return value


def parse_query(query: str, filters: dict[str, str | None] | None = None) -> ParsedQuery:
    """Parse ``query``; ``filters`` (from CLI options or a form) win over inline ones.

    Raises SearchSyntaxError for anything unreadable, and for a query that has neither
    a word nor a filter.
    """
    if len(query) > 1000:
        raise SearchSyntaxError("the query is longer than 1000 characters")
    inline: dict[str, str] = {}
    tree = _Parser(_tokenize(query or ""), inline).parse()
    merged = dict(inline)
    for key, value in (filters or {}).items():
        if value not in (None, ""):
            merged[key] = _check_filter(key, str(value), None)
    if tree is None and not merged:
        raise SearchSyntaxError("the query is empty: give a word, a \"phrase\" or a filter")
    return ParsedQuery(tree, merged)


# -- highlighting --------------------------------------------------------------------------


def _hits(normalized: str, terms: list[str]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for term in terms:
        start = normalized.find(term)
        while start >= 0:
            spans.append((start, start + len(term)))
            start = normalized.find(term, start + len(term))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _render(text: str, spans: list[tuple[int, int]], offset: int, mark: tuple[str, str], escape: bool) -> str:
    out: list[str] = []
    cursor = offset
    esc = html.escape if escape else (lambda s: s)
    for start, end in spans:
        out.append(esc(text[cursor:start]))
        out.append(mark[0] + esc(text[start:end]) + mark[1])
        cursor = end
    out.append(esc(text[cursor:]))
    return "".join(out)


def highlight(text: str | None, terms: list[str], *, html_marks: bool = True) -> str:
    """The whole (short) text with hits marked: ``<mark>`` (HTML-escaped) or 【】."""
    shown = display_text(text)
    spans = _hits(normalize(text), terms)
    mark = ("<mark>", "</mark>") if html_marks else ("【", "】")
    return _render(shown, spans, 0, mark, html_marks)


def snippet(texts: list[str | None], terms: list[str], *, width: int = 60,
            html_marks: bool = True) -> str:
    """A window of about ``width`` characters around the first hit in ``texts`` (in
    order: body, then attachment texts), hits marked; the start of the body if none."""
    mark = ("<mark>", "</mark>") if html_marks else ("【", "】")
    for text in texts:
        spans = _hits(normalize(text), terms)
        if not spans:
            continue
        shown = display_text(text)
        start = max(0, spans[0][0] - width // 3)
        end = min(len(shown), start + width)
        window = [(max(s, start), min(e, end)) for s, e in spans if s < end and e > start]
        cut = shown[:end]
        body = _render(cut, window, start, mark, html_marks)
        return ("…" if start > 0 else "") + body + ("…" if end < len(shown) else "")
    first = display_text(next((t for t in texts if t), ""))
    clipped = first[:width] + ("…" if len(first) > width else "")
    return html.escape(clipped) if html_marks else clipped
