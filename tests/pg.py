"""PostgreSQL helpers for tests: is the server there, and throw-away databases.

The server defaults to the local trust-auth instance; set ``NOTICEWATCH_TEST_PG_URL``
to a maintenance-database URL (``postgresql+psycopg://user@host:port/postgres``) to
point elsewhere. Callers skip when ``pg_available()`` returns None, unless ``CI=true``
(see ``require_pg``): in CI a missing server is a failure, not a skip.
"""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def maintenance_url() -> str:
    return os.environ.get("NOTICEWATCH_TEST_PG_URL", DEFAULT_URL)


def pg_available() -> str | None:
    """The maintenance URL when the server answers, else None."""
    url = maintenance_url()
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        return None
    finally:
        engine.dispose()
    return url


def require_pg() -> str:
    """Maintenance URL, or skip the test (fail it when ``CI=true``)."""
    url = pg_available()
    if url is None:
        reason = f"PostgreSQL not reachable at {make_url(maintenance_url()).render_as_string()}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true: PostgreSQL tests must run)")
        pytest.skip(reason)
    return url


def create_temp_database(prefix: str = "nw_test") -> str:
    """Create an empty database ``<prefix>_<random>``; return its URL."""
    base = make_url(maintenance_url())
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop the database behind ``url``, closing its leftover connections first."""
    target = make_url(url)
    engine = create_engine(make_url(maintenance_url()), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    finally:
        engine.dispose()
