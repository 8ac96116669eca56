from __future__ import annotations

from alembic import context

from storage.db import make_engine
from storage.migrate import include_object, lock_for_migration
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata, include_object=include_object,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # A caller (tests, `noticewatch db upgrade`) may hand over an open connection.
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, include_object=include_object, render_as_batch=True)
        with context.begin_transaction():
            lock_for_migration(connection)
            context.run_migrations()
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, include_object=include_object, render_as_batch=True)
        with context.begin_transaction():
            lock_for_migration(conn)  # before Alembic reads the version: a second upgrade waits
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
