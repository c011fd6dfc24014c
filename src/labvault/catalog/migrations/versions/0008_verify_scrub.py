"""Verification records for scrubbing (``labvault verify --remote/--tier``): one row per object.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision: str | None = "0007"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "verify_records",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("item", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("verified_at", sa.DateTime(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("problem", sa.String(16), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.UniqueConstraint("scope", "item", name="uq_verify_records_scope_item"),
    )
    op.create_index("ix_verify_records_scope_at", "verify_records", ["scope", "verified_at"])


def downgrade() -> None:
    op.drop_index("ix_verify_records_scope_at", "verify_records")
    op.drop_table("verify_records")
