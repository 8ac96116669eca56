"""The store's public API in one import: ``from storage import repository as repo``.

Every function takes a caller-opened ``Session`` and never commits:

    with factory.begin() as session:
        outcome = repo.apply_notice(session, record)

The implementation is split by concern (sites, runs, notices, export, diff, locks);
this module only re-exports it.
"""

from __future__ import annotations

from storage.diff import FieldChange, version_diff
from storage.export import EXPORT_FIELDS, export_row, get_notice, iter_export_rows, summary
from storage.notices import (
    Outcome,
    apply_notice,
    mark_gone,
    mark_unchanged,
)
from storage.runs import (
    acquire_lock,
    finish_run,
    get_run,
    list_runs,
    record_fetch_error,
    release_lock,
    start_run,
)
from storage.search_index import install_sync as _install_search_sync  # noqa: F401  (keeps the search index in step)
from storage.sites import get_site, mark_baseline, sync_sites
from storage.urls import canonicalize_url

__all__ = [
    "EXPORT_FIELDS",
    "FieldChange",
    "Outcome",
    "acquire_lock",
    "apply_notice",
    "canonicalize_url",
    "export_row",
    "finish_run",
    "get_notice",
    "get_run",
    "get_site",
    "iter_export_rows",
    "list_runs",
    "mark_baseline",
    "mark_gone",
    "mark_unchanged",
    "record_fetch_error",
    "release_lock",
    "start_run",
    "summary",
    "sync_sites",
    "version_diff",
]
