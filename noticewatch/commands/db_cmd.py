"""``noticewatch db``: schema migrations."""

from __future__ import annotations

import click
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from noticewatch.commands._common import get_settings
from storage import migrate
from storage.db import make_engine


@click.group()
def db() -> None:
    """Database schema management (Alembic)."""


@db.command()
@click.option("--revision", default="head", show_default=True)
@click.pass_context
def upgrade(ctx: click.Context, revision: str) -> None:
    """Apply migrations up to REVISION."""
    settings = get_settings(ctx)
    settings.data_path.mkdir(parents=True, exist_ok=True)
    try:
        migrate.upgrade(settings.resolved_database_url, revision=revision)
    except SQLAlchemyError as exc:
        if isinstance(exc, DBAPIError) and exc.statement is None:
            raise  # could not connect: the CLI's handler prints "database unreachable: …"
        raise click.ClickException(f"migration failed: {exc.__class__.__name__}: {str(exc).splitlines()[0]}") from exc
    click.echo(f"database at {revision}")


@db.command()
@click.pass_context
def current(ctx: click.Context) -> None:
    """Print the schema revision of the database."""
    settings = get_settings(ctx)
    engine = make_engine(settings.resolved_database_url)
    try:
        with engine.connect() as conn:
            click.echo(migrate.current_revision(conn) or "(empty database)")
    except SQLAlchemyError as exc:
        raise click.ClickException(f"database unreachable: {str(exc).splitlines()[0]}") from exc
    finally:
        engine.dispose()
