"""The crawl plan: what the store already knows, handed to a spider as a JSON file.

Spiders never touch the database; ``noticewatch crawl`` writes this file from the
store before it starts ``scrapy crawl`` and passes its path as ``-a plan=…``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

# China Standard Time: every date on these sites is UTC+8.
_CST = timezone(timedelta(hours=8), "CST")


@dataclass(slots=True)
class KnownNotice:
    etag: str | None = None
    last_modified: str | None = None
    published_at: str | None = None
    status: str = "active"
    title: str | None = None


@dataclass(slots=True)
class ColumnState:
    etag: str | None = None
    last_modified: str | None = None


@dataclass(slots=True)
class CrawlPlan:
    run_id: int | None = None
    recheck_days: int = 7
    list_overlap: int = 1
    known: dict[str, KnownNotice] = field(default_factory=dict)  # canonical URL → state
    columns: dict[str, ColumnState] = field(default_factory=dict)  # column URL → validators
    # Column URL → the active notices the store has linked to it, for spotting removals.
    column_members: dict[str, list[str]] = field(default_factory=dict)
    # Notices to fetch again unconditionally (their attachments were not all stored).
    refetch: list[str] = field(default_factory=list)

    def is_known(self, canonical_url: str) -> bool:
        return canonical_url in self.known

    def title_changed(self, canonical_url: str, listed_title: str) -> bool:
        """A list row whose title differs from the stored one: the notice was edited."""
        known = self.known.get(canonical_url)
        if known is None or not known.title or not listed_title:
            return False
        listed = "".join(listed_title.split()).rstrip("…").rstrip(".")
        stored = "".join(known.title.split())
        # Anchors are often cut ("…"): a prefix of the stored title is the same title.
        return not stored.startswith(listed)

    def due_for_recheck(self, canonical_url: str, *, today: date | None = None) -> bool:
        """Recent notices are re-fetched (conditionally) to catch quiet edits."""
        known = self.known.get(canonical_url)
        if known is None:
            return True
        if known.status != "active":
            return True  # a withdrawn notice listed again: fetch it to re-activate
        if not known.published_at:
            return False
        try:
            published = date.fromisoformat(known.published_at[:10])
        except ValueError:
            return False
        today = today or datetime.now(UTC).astimezone(_CST).date()
        return (today - published).days <= self.recheck_days

    def recent_active(self, *, today: date | None = None) -> list[str]:
        """Active notices inside the re-check window: re-fetched (conditionally) every run."""
        return [url for url, known in self.known.items()
                if known.status == "active" and known.published_at and self.due_for_recheck(url, today=today)]

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> CrawlPlan:
        data: dict[str, Any] = json.loads(text)
        return cls(
            run_id=data.get("run_id"),
            recheck_days=int(data.get("recheck_days", 7)),
            list_overlap=int(data.get("list_overlap", 1)),
            known={k: KnownNotice(**v) for k, v in (data.get("known") or {}).items()},
            columns={k: ColumnState(**v) for k, v in (data.get("columns") or {}).items()},
            column_members={k: list(v) for k, v in (data.get("column_members") or {}).items()},
            refetch=list(data.get("refetch") or []),
        )

    @classmethod
    def load(cls, path: str | Path | None) -> CrawlPlan:
        if not path:
            return cls()
        return cls.from_json(Path(path).read_text(encoding="utf-8"))
