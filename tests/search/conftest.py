"""A filled, migrated archive per backend: SQLite file and PostgreSQL under a C locale.

The PostgreSQL database is created with LC_CTYPE 'C' on purpose: that locale is where
character-class based indexing (pg_trgm) silently indexes nothing for Chinese.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from storage.db import make_engine, make_session_factory
from storage.migrate import upgrade
from tests.pg import drop_database, maintenance_url, require_pg
from tests.search.corpus import fill


def create_c_locale_database() -> str:
    base = make_url(maintenance_url())
    name = f"nw_search_{uuid.uuid4().hex[:12]}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' "
                              "LC_COLLATE 'C' LC_CTYPE 'C'"))
    finally:
        engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def archive(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[sessionmaker[Session], dict[str, int]]]:
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("search") / "archive.sqlite3"
        url = f"sqlite:///{path}"
    else:
        require_pg()
        url = create_c_locale_database()
    try:
        upgrade(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        ids = fill(factory)
        yield factory, ids
        engine.dispose()
    finally:
        if request.param == "postgresql":
            drop_database(url)
