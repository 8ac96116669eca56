"""The storage tests' migrated engines (SQLite, and PostgreSQL when available) and rolled-back sessions."""

from __future__ import annotations

from tests.storage.conftest import engine, session

__all__ = ["engine", "session"]
