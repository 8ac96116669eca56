"""The Alembic migrations build exactly the schema the ORM models describe."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from storage import migrate
from storage.db import make_engine
from storage.migrate import include_object
from storage.models import Base
from tests.pg import create_temp_database, drop_database, require_pg


def test_one_head() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1


def test_upgrade_head_matches_the_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"include_object": include_object})
            diff = compare_metadata(context, Base.metadata)
        assert diff == []
    finally:
        engine.dispose()


def test_downgrade_to_base_and_back(tmp_path: Path) -> None:
    from alembic import command

    url = f"sqlite:///{tmp_path / 'd.sqlite3'}"
    migrate.upgrade(url)
    command.downgrade(migrate.alembic_config(url), "base")
    migrate.upgrade(url)


def test_head_revision_constant_is_the_scripts_head() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert script.get_current_head() == migrate.HEAD_REVISION, "update storage.migrate.HEAD_REVISION"


def test_ensure_schema_migrates_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'e.sqlite3'}"
    assert migrate.ensure_schema(url) is True
    assert migrate.ensure_schema(url) is False  # at head: Alembic is not run again
    assert _stored_revision(url) == migrate.HEAD_REVISION


def _stored_revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return migrate.current_revision(conn)
    finally:
        engine.dispose()


def _migrate_concurrently(url: str, processes: int = 3) -> None:
    code = "import sys; from storage.migrate import ensure_schema; ensure_schema(sys.argv[1])"
    procs = [subprocess.Popen([sys.executable, "-c", code, url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, cwd=Path(__file__).resolve().parents[2]) for _ in range(processes)]
    outputs = [proc.communicate(timeout=120)[0] for proc in procs]
    for proc, out in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, out
    assert _stored_revision(url) == migrate.HEAD_REVISION


def test_workers_starting_together_on_an_empty_sqlite_database(tmp_path: Path) -> None:
    _migrate_concurrently(f"sqlite:///{tmp_path / 'race.sqlite3'}")


@pytest.mark.postgres
def test_workers_starting_together_on_an_empty_postgres_database() -> None:
    require_pg()
    url = create_temp_database("nw_migrace")
    try:
        _migrate_concurrently(url)
    finally:
        drop_database(url)
