"""Duplicate detection for new notices: exact reposts and lightly edited copies.

District sites repost the same city or province notice under their own URLs. The
archive keeps every copy (each is what that site published) but marks later copies
with ``duplicate_of_id`` pointing to the earliest one seen, so exports and alerts can
collapse them.

Cost control: the exact check is one indexed lookup on ``notice.body_fingerprint``.
The near-duplicate check compares MinHash signatures only with notices published
within a day of the new one (``published_at`` is indexed and stored as ISO text, so
a date range is an index range), at most ``MAX_CANDIDATES`` of them; undated notices
only get the exact check. Reposts carry the original's date or the next day's, so the
window catches them without scanning the archive.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.fingerprint import jaccard_estimate, normalise_for_compare
from storage.models import Notice

__all__ = ["MAX_CANDIDATES", "MIN_BODY_CHARS", "NEAR_DUPLICATE_THRESHOLD", "find_duplicate"]

# Lightly edited reposts (a changed title, an added sentence) of bodies of a few hundred
# characters land around 0.75-0.8 on character 3-shingles; unrelated notices that share
# template sentences stay far below (the demo web has both).
NEAR_DUPLICATE_THRESHOLD = 0.7
MAX_CANDIDATES = 500
# Short bodies ("详见附件。", "现将通知印发给你们") are shared by unrelated notices whose
# content is in their attachments: they are never taken as evidence of a repost.
MIN_BODY_CHARS = 50


def find_duplicate(
    session: Session,
    *,
    notice_id: int,
    body_text: str,
    body_fp: str,
    signature: bytes,
    published_at: str | None,
) -> int | None:
    """Id of the earliest notice this one duplicates (the root of its group), or None."""
    if len(normalise_for_compare(body_text)) < MIN_BODY_CHARS:
        return None
    exact = session.execute(
        select(Notice.id, Notice.duplicate_of_id)
        .where(Notice.body_fingerprint == body_fp, Notice.id != notice_id)
        .order_by(Notice.first_seen_at, Notice.id)
        .limit(1)
    ).first()
    if exact is not None:
        return exact.duplicate_of_id or exact.id
    window = _date_window(published_at)
    if window is None:
        return None
    low, high = window
    candidates = session.execute(
        select(Notice.id, Notice.duplicate_of_id, Notice.minhash)
        .where(
            Notice.published_at >= low,
            Notice.published_at < high,
            Notice.minhash.is_not(None),
            Notice.id != notice_id,
        )
        .order_by(Notice.first_seen_at, Notice.id)
        .limit(MAX_CANDIDATES)
    )
    for row in candidates:
        if len(row.minhash) == len(signature) and (
            jaccard_estimate(row.minhash, signature) >= NEAR_DUPLICATE_THRESHOLD
        ):
            return int(row.duplicate_of_id or row.id)
    return None


def _date_window(published_at: str | None) -> tuple[str, str] | None:
    if not published_at:
        return None
    try:
        day = date.fromisoformat(published_at[:10])
    except ValueError:
        return None
    # "2024-05-01T10:00:00+08:00" sorts between "2024-04-30" and "2024-05-03".
    return (day - timedelta(days=1)).isoformat(), (day + timedelta(days=2)).isoformat()
