"""Alembic entry points used by the CLI and the tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

_INI = Path(__file__).with_name("alembic.ini")


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Autogenerate filter: the search index tables are managed by hand (0003_search)."""
    return not (type_ == "table" and name is not None and name.startswith("search_"))


def alembic_config(url: str, *, connection: Connection | None = None) -> Config:
    cfg = Config(str(_INI))
    cfg.set_main_option("script_location", str(_INI.with_name("migrations")))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(url: str, *, revision: str = "head", connection: Connection | None = None) -> None:
    command.upgrade(alembic_config(url, connection=connection), revision)


def current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()
