"""listings identity: offering platform id and status, a fee tier's regular price

Revision ID: 0002_listings_identity
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_listings_identity"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("offering", schema=None) as batch_op:
        batch_op.add_column(sa.Column("platform_id", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("status", sa.String(length=20), nullable=True))
        batch_op.create_index(batch_op.f("ix_offering_platform_id"), ["platform_id"],
                              unique=False)
    with op.batch_alter_table("fee_tier", schema=None) as batch_op:
        batch_op.add_column(sa.Column("regular_amount", sa.Numeric(precision=14, scale=2),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("fee_tier", schema=None) as batch_op:
        batch_op.drop_column("regular_amount")
    with op.batch_alter_table("offering", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offering_platform_id"))
        batch_op.drop_column("status")
        batch_op.drop_column("platform_id")
