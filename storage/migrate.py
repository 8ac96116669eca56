"""Alembic entry points used by the CLI and the tests, and the schema check every command makes.

Every command opens the store, and the store must be at the newest migration. Running
Alembic's ``upgrade`` each time costs its imports and a parse of every migration
script (~0.2 s, on every crawl of an hourly schedule); ``ensure_schema`` reads the
database's version first and runs Alembic only when it differs from ``HEAD_REVISION``
(a test keeps that constant equal to the scripts' head).

Workers on several machines may start together against an empty database. Two
``upgrade`` runs would then both create the tables and one would fail, so migrations
hold a lock: on PostgreSQL a transaction-level advisory lock taken in
``migrations/env.py`` before Alembic reads the version (the second waits, then finds
the schema current); on SQLite, one machine by nature, an exclusive file lock next to
the database file.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from alembic.config import Config

_INI = Path(__file__).with_name("alembic.ini")
HEAD_REVISION = "0006"  # the newest migration; tests/storage/test_migrations.py checks it
# pg_advisory_xact_lock key for migrations: any constant no other code of ours uses.
MIGRATION_LOCK_KEY = 0x6E77_6D69  # "nwmi"


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Autogenerate filter: the search index tables are managed by hand (0003_search)."""
    return not (type_ == "table" and name is not None and name.startswith("search_"))


def alembic_config(url: str, *, connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config(str(_INI))
    cfg.set_main_option("script_location", str(_INI.with_name("migrations")))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(url: str, *, revision: str = "head", connection: Connection | None = None) -> None:
    from alembic import command

    with _sqlite_file_lock(url):
        command.upgrade(alembic_config(url, connection=connection), revision)


def current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def ensure_schema(url: str) -> bool:
    """Bring the database to ``HEAD_REVISION``; True when a migration ran."""
    from storage.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if _stored_revision(conn) == HEAD_REVISION:
                return False
    finally:
        engine.dispose()
    upgrade(url)
    return True


def lock_for_migration(connection: Connection) -> None:
    """Called by migrations/env.py inside the migration transaction, before Alembic reads
    the version: serialises concurrent upgrades of one PostgreSQL database."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})


def _stored_revision(conn: Connection) -> str | None:
    # Plain SQL, not Alembic's MigrationContext: that import is what this check avoids.
    try:
        with conn.begin_nested() if conn.in_transaction() else conn.begin():
            rows = list(conn.execute(text("SELECT version_num FROM alembic_version")))
    except Exception:  # noqa: BLE001 - no version table yet (an empty database): migrate
        return None
    return str(rows[0][0]) if len(rows) == 1 else None


@contextlib.contextmanager
def _sqlite_file_lock(url: str) -> Iterator[None]:
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        yield
        return
    lock_path = Path(database).with_name(Path(database).name + ".migrate-lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)  # released when the file closes
        yield
