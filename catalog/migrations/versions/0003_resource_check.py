"""resource.check: `check: false` in the catalog file; existing resources read as checked

Revision ID: 0003_resource_check
Revises: 0002_content_baseline
Create Date: 2026-12-01 23:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_resource_check"
down_revision = "0002_content_baseline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("resource") as batch:
        batch.add_column(sa.Column("check", sa.Boolean(), server_default=sa.true(),
                                   nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("resource") as batch:
        batch.drop_column("check")
