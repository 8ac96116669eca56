"""full-text search index (search_doc + n-gram keys)

Revision ID: 0003
Revises: 0001

Not ORM tables: SQLite needs an FTS5 virtual table, PostgreSQL a tsvector column (built
with array_to_tsvector: no parser, no locale) with a GIN index; storage/search_index.py keeps them in sync. See docs/search.md.
"""
from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE TABLE search_doc (
                notice_id INTEGER PRIMARY KEY REFERENCES notice(id) ON DELETE CASCADE,
                site_id INTEGER NOT NULL,
                published_at VARCHAR(40),
                status VARCHAR(20) NOT NULL,
                issuing_org TEXT,
                doc_no TEXT,
                title TEXT NOT NULL,
                doc TEXT NOT NULL,
                grams TSVECTOR NOT NULL
            )""")
        op.execute("CREATE INDEX ix_search_doc_grams ON search_doc USING gin (grams)")
    else:
        # doc_id (never reused, AUTOINCREMENT) is the FTS rowid: if a notice row is ever
        # deleted, its leftover keys in the contentless FTS table point at nothing.
        op.execute("""
            CREATE TABLE search_doc (
                doc_id INTEGER PRIMARY KEY AUTOINCREMENT,
                notice_id INTEGER NOT NULL UNIQUE REFERENCES notice(id) ON DELETE CASCADE,
                site_id INTEGER NOT NULL,
                published_at VARCHAR(40),
                status VARCHAR(20) NOT NULL,
                issuing_org TEXT,
                doc_no TEXT,
                title TEXT NOT NULL,
                doc TEXT NOT NULL
            )""")
        op.execute("CREATE VIRTUAL TABLE search_grams USING fts5("
                   "grams, content='', tokenize='ascii', detail='none')")
    op.execute("CREATE INDEX ix_search_doc_published_at ON search_doc (published_at)")
    op.execute("CREATE INDEX ix_search_doc_site_published ON search_doc (site_id, published_at)")
    _backfill()


def _backfill() -> None:
    """Index the notices an existing archive already holds (nothing on a new database)."""
    from sqlalchemy.orm import Session

    from storage.search_index import rebuild_index

    # Joined to the migration's transaction: close() leaves that transaction alone.
    session = Session(bind=op.get_bind())
    try:
        rebuild_index(session)
        session.flush()
    finally:
        session.close()


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TABLE IF EXISTS search_grams")
    op.execute("DROP TABLE IF EXISTS search_doc")
