"""Field-level differences between two versions of a notice (the history page, alerts)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from storage.models import NoticeVersion, VersionAttachment

__all__ = ["DIFF_FIELDS", "FieldChange", "version_diff"]

# Compared in this order; body_text gets a unified diff, the others old → new.
DIFF_FIELDS = (
    "title", "published_at", "written_date", "source", "category", "index_no", "doc_no",
    "issuing_org", "validity", "subject", "body_text",
)


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One difference. ``field`` is a version field or ``attachment``.

    ``change``: ``changed`` for fields; ``added``, ``removed`` or ``replaced`` (same name,
    other content) for attachments, whose ``old``/``new`` are the attachment names.
    ``diff`` is a unified diff for ``body_text``.
    """

    field: str
    change: str
    old: str | None
    new: str | None
    diff: str | None = None


def version_diff(old: NoticeVersion, new: NoticeVersion) -> list[FieldChange]:
    changes: list[FieldChange] = []
    for name in DIFF_FIELDS:
        before, after = getattr(old, name), getattr(new, name)
        if (before or None) == (after or None):
            continue
        diff = None
        if name == "body_text":
            diff = "\n".join(
                difflib.unified_diff(
                    (before or "").splitlines(), (after or "").splitlines(),
                    fromfile=f"v{old.version}", tofile=f"v{new.version}", lineterm="",
                )
            )
        changes.append(FieldChange(name, "changed", before, after, diff))
    changes.extend(_attachment_changes(old.attachments, new.attachments))
    return changes


def _same_content(a: VersionAttachment, b: VersionAttachment) -> bool:
    # Stored files compare by digest; skipped ones (no blob) only by URL.
    if a.blob_sha256 or b.blob_sha256:
        return a.blob_sha256 == b.blob_sha256
    return a.url == b.url


def _attachment_changes(
    old: list[VersionAttachment], new: list[VersionAttachment]
) -> list[FieldChange]:
    """Match by name (what a reader sees); same content under a new name is a rename,
    reported as removed + added so nothing is hidden."""
    old_by_name = {a.name or a.url: a for a in old}
    new_by_name = {a.name or a.url: a for a in new}
    changes: list[FieldChange] = []
    for name, att in new_by_name.items():
        before = old_by_name.get(name)
        if before is None:
            changes.append(FieldChange("attachment", "added", None, name))
        elif not _same_content(before, att):
            changes.append(FieldChange("attachment", "replaced", name, name))
    for name in old_by_name:
        if name not in new_by_name:
            changes.append(FieldChange("attachment", "removed", name, None))
    return changes
