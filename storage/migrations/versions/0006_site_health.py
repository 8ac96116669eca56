"""site.blocked_until: a site that blocked the crawler is left alone until then

Revision ID: 0006
Revises: 0003

Set by storage/health.py when a run's verdict for a site is ``blocked``;
noticewatch/crawling.py skips the site while it lies in the future.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode: SQLite cannot ALTER a table in place for every change; an added
    # nullable column is fine either way, and batch keeps downgrade working there too.
    with op.batch_alter_table("site") as batch:
        batch.add_column(sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("site") as batch:
        batch.drop_column("blocked_until")
