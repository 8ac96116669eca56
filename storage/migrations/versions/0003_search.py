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
        # sort_key = published minute << 32 | notice id: "newest first" as one btree, so
        # a broad word walks it backwards and stops after a page instead of sorting every
        # match. fastupdate=off: no pending list for searches to scan after writes.
        op.execute("""
            CREATE TABLE search_doc (
                notice_id INTEGER PRIMARY KEY REFERENCES notice(id) ON DELETE CASCADE,
                sort_key BIGINT NOT NULL,
                site_id INTEGER NOT NULL,
                published_at VARCHAR(40),
                status VARCHAR(20) NOT NULL,
                issuing_org TEXT,
                doc_no TEXT,
                title TEXT NOT NULL,
                doc TEXT NOT NULL,
                grams TSVECTOR NOT NULL
            )""")
        op.execute("CREATE INDEX ix_search_doc_grams ON search_doc USING gin (grams) WITH (fastupdate = off)")
        op.execute("CREATE INDEX ix_search_doc_sort_key ON search_doc (sort_key)")
        op.execute("CREATE INDEX ix_search_doc_site_sort ON search_doc (site_id, sort_key)")
    else:
        # doc_id is the sort key (published minute << 32 | notice id) and the FTS rowid:
        # FTS5 returns rowids in order, so "ORDER BY rowid DESC LIMIT 20" is newest first
        # and stops after a page. Contentless (content=''), no positions (detail=none), no
        # column sizes (columnsize=0): snippets come from search_doc, nothing else is read.
        op.execute("""
            CREATE TABLE search_doc (
                doc_id INTEGER PRIMARY KEY,
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
                   "grams, content='', tokenize='ascii', detail='none', columnsize=0)")
    # The notice page lists a notice's duplicates (WHERE duplicate_of_id = ?): without
    # this index that is a full scan of the notice table (tens of ms at 1M notices).
    op.execute("CREATE INDEX IF NOT EXISTS ix_notice_duplicate_of_id ON notice (duplicate_of_id)")
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
    op.execute("DROP INDEX IF EXISTS ix_notice_duplicate_of_id")
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TABLE IF EXISTS search_grams")
    op.execute("DROP TABLE IF EXISTS search_doc")
