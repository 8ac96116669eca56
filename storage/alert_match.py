"""Subscription filters: validation, normalisation and fast matching against events.

A subscription's ``filters`` JSON holds (every key optional)::

    {"sites": ["mawei"], "columns": ["http://…/tzgg/"], "all": ["土地"], "any": ["征收", "拆迁"],
     "none": ["招聘"], "issuing_org": "自然资源局", "doc_no": "马政〔2024〕\\d+号",
     "kinds": ["new", "changed"], "backfill": false}

Keywords match title, body and attachment text after NFKC normalisation, case folding
and removal of whitespace (Chinese pages often split words with stray spaces or
full-width letters), so ``"ＡＢＣ 公告"`` is found by ``"abc公告"``. ``issuing_org`` is a
normalised substring of the issuing body; ``doc_no`` a regular expression searched in
the document number.

Matching is written for many subscriptions at once: every distinct keyword is looked up
once per event (skipping keywords whose first character the text lacks), and only the
subscriptions indexed under a keyword that is present are then checked in full.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from storage.urls import canonicalize_url

__all__ = [
    "EVENT_KINDS",
    "CompiledFilter",
    "EventText",
    "SubscriptionIndex",
    "compile_filter",
    "normalise_filters",
    "normalise_text",
]

EVENT_KINDS = ("new", "changed", "withdrawn")
_WHITESPACE = re.compile(r"\s+")
_LIST_KEYS = ("sites", "columns", "all", "any", "none", "kinds")


def normalise_text(text: str | None) -> str:
    """The form both keywords and texts are compared in."""
    if not text:
        return ""
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", text).casefold())


def normalise_filters(raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """Validate and tidy a filters mapping; raises ValueError naming the problem.

    Empty values are dropped so that the stored JSON only says what restricts matching.
    """
    raw = dict(raw or {})
    unknown = set(raw) - {*_LIST_KEYS, "issuing_org", "doc_no", "backfill"}
    if unknown:
        raise ValueError(f"unknown filter keys: {', '.join(sorted(unknown))}")
    out: dict[str, Any] = {}
    for key in _LIST_KEYS:
        values = raw.get(key) or []
        if isinstance(values, str):
            values = [values]
        cleaned = list(dict.fromkeys(str(v).strip() for v in values if str(v).strip()))
        if key in ("all", "any", "none"):
            empty = [v for v in cleaned if not normalise_text(v)]
            if empty:
                raise ValueError(f"{key}: keyword {empty[0]!r} is empty after normalisation")
        if key == "kinds":
            bad = [k for k in cleaned if k not in EVENT_KINDS]
            if bad:
                raise ValueError(f"kinds: {bad[0]!r} is not one of {', '.join(EVENT_KINDS)}")
        if cleaned:
            out[key] = cleaned
    org = str(raw.get("issuing_org") or "").strip()
    if org:
        out["issuing_org"] = org
    doc_no = str(raw.get("doc_no") or "").strip()
    if doc_no:
        try:
            re.compile(doc_no)
        except re.error as exc:
            raise ValueError(f"doc_no: not a regular expression: {exc}") from None
        out["doc_no"] = doc_no
    if raw.get("backfill"):
        out["backfill"] = True
    return out


@dataclass(frozen=True, slots=True)
class EventText:
    """What a filter looks at in one event, texts already normalised."""

    event_id: int
    kind: str
    site_key: str
    baseline: bool
    text: str  # title, body and attachment text, NUL-separated so no keyword spans two
    issuing_org: str
    doc_no: str  # as published (the regex sees the original spelling)
    column_urls: frozenset[str] = frozenset()  # canonical

    @classmethod
    def build(
        cls, *, event_id: int, kind: str, site_key: str, baseline: bool, title: str | None,
        body: str | None, attachments: Iterable[str | None] = (), issuing_org: str | None = None,
        doc_no: str | None = None, column_urls: Iterable[str] = (),
    ) -> EventText:
        parts = [normalise_text(title), normalise_text(body), *(normalise_text(a) for a in attachments)]
        return cls(
            event_id=event_id, kind=kind, site_key=site_key, baseline=baseline,
            text="\x00".join(p for p in parts if p), issuing_org=normalise_text(issuing_org),
            doc_no=doc_no or "", column_urls=frozenset(canonicalize_url(u) for u in column_urls),
        )


@dataclass(frozen=True, slots=True)
class CompiledFilter:
    subscription_id: int
    sites: frozenset[str] | None = None
    columns: frozenset[str] | None = None
    all_words: tuple[str, ...] = ()
    any_words: tuple[str, ...] = ()
    none_words: tuple[str, ...] = ()
    issuing_org: str = ""
    doc_no: re.Pattern[str] | None = None
    kinds: frozenset[str] = frozenset(EVENT_KINDS)
    backfill: bool = False

    def keywords(self) -> tuple[str, ...]:
        return (*self.all_words, *self.any_words, *self.none_words)

    def matches(self, event: EventText, present: set[str] | frozenset[str]) -> bool:
        """Full check; ``present`` holds the event's keywords among the index vocabulary."""
        if event.kind not in self.kinds or (event.baseline and not self.backfill):
            return False
        if self.sites is not None and event.site_key not in self.sites:
            return False
        if self.columns is not None and not (self.columns & event.column_urls):
            return False
        if any(w not in present for w in self.all_words):
            return False
        if self.any_words and not any(w in present for w in self.any_words):
            return False
        if any(w in present for w in self.none_words):
            return False
        if self.issuing_org and self.issuing_org not in event.issuing_org:
            return False
        return self.doc_no is None or self.doc_no.search(event.doc_no) is not None


def compile_filter(subscription_id: int, filters: Mapping[str, Any] | None) -> CompiledFilter:
    f = normalise_filters(filters)

    def words(key: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(normalise_text(w) for w in f.get(key, ())))

    return CompiledFilter(
        subscription_id=subscription_id,
        sites=frozenset(f["sites"]) if "sites" in f else None,
        columns=frozenset(canonicalize_url(u) for u in f["columns"]) if "columns" in f else None,
        all_words=words("all"),
        any_words=words("any"),
        none_words=words("none"),
        issuing_org=normalise_text(f.get("issuing_org")),
        doc_no=re.compile(f["doc_no"]) if "doc_no" in f else None,
        kinds=frozenset(f.get("kinds") or EVENT_KINDS),
        backfill=bool(f.get("backfill")),
    )


@dataclass
class SubscriptionIndex:
    """Many compiled filters, indexed so one event is checked against few of them.

    A filter with ``all`` words is filed under its longest one (longer words are rarer),
    one with only ``any`` words under each of them; the rest are checked for every event
    of their sites (or every event when they name no site).
    """

    filters: list[CompiledFilter]
    _by_word: dict[str, list[CompiledFilter]] = field(init=False)
    _unkeyed_by_site: dict[str, list[CompiledFilter]] = field(init=False)
    _unkeyed_anywhere: list[CompiledFilter] = field(init=False)
    _vocabulary_by_first: dict[str, tuple[str, ...]] = field(init=False)

    def __post_init__(self) -> None:
        by_word: dict[str, list[CompiledFilter]] = defaultdict(list)
        by_site: dict[str, list[CompiledFilter]] = defaultdict(list)
        anywhere: list[CompiledFilter] = []
        vocabulary: set[str] = set()
        for f in self.filters:
            vocabulary.update(f.keywords())
            if f.all_words:
                by_word[max(f.all_words, key=len)].append(f)
            elif f.any_words:
                for word in f.any_words:
                    by_word[word].append(f)
            elif f.sites is not None:
                for site in f.sites:
                    by_site[site].append(f)
            else:
                anywhere.append(f)
        grouped: dict[str, list[str]] = defaultdict(list)
        for word in vocabulary:
            grouped[word[0]].append(word)
        self._by_word = dict(by_word)
        self._unkeyed_by_site = dict(by_site)
        self._unkeyed_anywhere = anywhere
        self._vocabulary_by_first = {c: tuple(ws) for c, ws in grouped.items()}

    @property
    def needs_text(self) -> bool:
        return bool(self._vocabulary_by_first)

    def present_words(self, text: str) -> set[str]:
        if not self._vocabulary_by_first or not text:
            return set()
        present: set[str] = set()
        for char in set(text).intersection(self._vocabulary_by_first):
            for word in self._vocabulary_by_first[char]:
                if word in text:
                    present.add(word)
        return present

    def match(self, event: EventText) -> list[int]:
        """Subscription ids whose filters accept the event, each once, in id order."""
        present = self.present_words(event.text)
        candidates: dict[int, CompiledFilter] = {}
        for word in present:
            for f in self._by_word.get(word, ()):
                candidates[f.subscription_id] = f
        for f in self._unkeyed_by_site.get(event.site_key, ()):
            candidates[f.subscription_id] = f
        for f in self._unkeyed_anywhere:
            candidates[f.subscription_id] = f
        return sorted(sid for sid, f in candidates.items() if f.matches(event, present))
