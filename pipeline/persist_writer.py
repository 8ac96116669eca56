"""The persist pipeline's database writes, as plain operations that can run in another process.

A crawl process is bound by one core (the GIL): SQLAlchemy's unit of work for a
notice costs about as much CPU as downloading and parsing it. ``PersistPipeline``
therefore turns each item into an ``Operation`` (picklable records, built on the
reactor thread) and, by default, applies it in a spawned writer process with its own
engine, one item per transaction, in arrival order. ``apply_operation`` is the same
code either way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from pipeline.child_watch import exit_with_parent
from storage import crawlstate
from storage.db import make_engine, make_session_factory
from storage.records import NoticeGone, NoticeRecord, NoticeUnchanged

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Operation:
    """One item's database work: ``kind`` names the repository call, ``payload`` its argument."""

    kind: str  # notice | seen | gone | fetch_error | column_state
    payload: Any


def apply_operation(factory: sessionmaker[Session], op: Operation) -> Any:
    """Run *op* in one transaction; returns the repository's outcome (picklable) or None."""
    # Imported here: the repository brings duplicate detection (datasketch, scipy, ~0.5 s),
    # which the writer process needs and the crawl process, when it has one, does not.
    from storage import repository

    with factory.begin() as session:
        if op.kind == "notice":
            assert isinstance(op.payload, NoticeRecord)
            return repository.apply_notice(session, op.payload)
        if op.kind == "seen":
            assert isinstance(op.payload, NoticeUnchanged)
            repository.mark_unchanged(session, op.payload)
        elif op.kind == "gone":
            assert isinstance(op.payload, NoticeGone)
            return repository.mark_gone(session, op.payload)
        elif op.kind == "fetch_error":
            repository.record_fetch_error(session, **op.payload)
        elif op.kind == "column_state":
            crawlstate.update_column_state(session, **op.payload)
        else:
            raise ValueError(f"unknown persist operation {op.kind!r}")
    return None


# -- the writer process ------------------------------------------------------------------

_factory: sessionmaker[Session] | None = None


def init_writer(database_url: str) -> None:
    """ProcessPoolExecutor initializer: one engine for the life of the writer process."""
    global _factory  # noqa: PLW0603 - per-process state is the point of an initializer
    from storage import repository  # noqa: F401 - import now, while the crawl starts up

    _factory = make_session_factory(make_engine(database_url))
    exit_with_parent()  # a killed crawl cannot shut this process down (pipeline/child_watch.py)


def apply_in_writer(op: Operation) -> Any:
    assert _factory is not None, "init_writer did not run"
    return apply_operation(_factory, op)


def ready() -> bool:
    """A no-op submitted at startup so the spawn and imports overlap the first downloads."""
    return _factory is not None
