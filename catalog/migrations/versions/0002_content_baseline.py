"""link content baseline: the fingerprint of a page's title and main text, for content drift

Revision ID: 0002_content_baseline
Revises: 0002_report_health_dismissal
Create Date: 2026-12-01 20:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_content_baseline"
down_revision = "0002_report_health_dismissal"
branch_labels = None
depends_on = None

COLUMNS = ("content_baseline", "content_baseline_title", "content_baseline_at", "content_seen",
           "content_seen_title")


def upgrade() -> None:
    with op.batch_alter_table("link") as batch:
        batch.add_column(sa.Column("content_baseline", sa.Text(), nullable=True))
        batch.add_column(sa.Column("content_baseline_title", sa.Text(), nullable=True))
        batch.add_column(sa.Column("content_baseline_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("content_seen", sa.Text(), nullable=True))
        batch.add_column(sa.Column("content_seen_title", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("link") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
