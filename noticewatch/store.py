"""Opening the store from settings: one place that knows URL, data dir and migrations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from storage import migrate
from storage.blobstore import BlobStore
from storage.db import make_engine, make_session_factory

if TYPE_CHECKING:
    from noticewatch.config import Settings


@dataclass
class Store:
    url: str
    engine: Engine
    factory: sessionmaker[Session]
    blobs: BlobStore

    def close(self) -> None:
        self.engine.dispose()


def open_store(settings: Settings, *, upgrade: bool = True) -> Store:
    """Open the database (migrated to head unless ``upgrade`` is false) and blob store."""
    settings.data_path.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url
    if upgrade:
        migrate.ensure_schema(url)  # Alembic itself only when the schema is behind
    engine = make_engine(url)
    return Store(url=url, engine=engine, factory=make_session_factory(engine),
                 blobs=BlobStore(settings.data_path))
