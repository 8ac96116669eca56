"""Storage fixtures: a migrated engine per backend, a rolled-back session per test.

``engine`` is parametrised over SQLite (a temp file) and PostgreSQL (a fresh
``nw_test_<random>`` database, dropped at session end); both are built with
``alembic upgrade head``, so the migrations are tested along the way. ``session``
wraps each test in an outer transaction and a SAVEPOINT and rolls everything back.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from storage import repository as repo
from storage.db import make_engine
from storage.migrate import upgrade
from tests.pg import create_temp_database, drop_database, require_pg
from tests.storage.factories import SITE_ROWS


def _sqlite_engine(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")

    # pysqlite's own transaction handling breaks SAVEPOINT; the documented recipe
    # hands transaction control to SQLAlchemy (tests only: WAL + locking differ).
    @event.listens_for(engine, "connect")
    def _no_pysqlite_tx(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        upgrade(f"sqlite:///{path}")
        eng = _sqlite_engine(path)
        yield eng
        eng.dispose()
        return
    require_pg()
    url = create_temp_database()
    try:
        upgrade(url)
        eng = make_engine(url)
        yield eng
        eng.dispose()
    finally:
        drop_database(url)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with engine.connect() as connection:
        outer = connection.begin()
        sess = Session(bind=connection, join_transaction_mode="create_savepoint",
                       expire_on_commit=False)
        try:
            yield sess
        finally:
            sess.close()
            outer.rollback()


@pytest.fixture
def sites(session: Session) -> dict[str, int]:
    return repo.sync_sites(session, SITE_ROWS)
