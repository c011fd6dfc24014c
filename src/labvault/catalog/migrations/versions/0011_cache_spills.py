"""Spilled cache objects: ``cache_spills`` (see ``labvault.catalog.spill_schema``).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision: str | None = "0010"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "cache_spills",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("cache", sa.Text(), nullable=False),
        sa.Column("repo", sa.Text(), nullable=False),
        sa.Column("tier", sa.String(64), nullable=False),
        sa.Column("oid", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("spilled_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("cache", "tier", "oid", name="uq_cache_spills_cache_tier_oid"),
    )
    op.create_index("ix_cache_spills_tier_oid", "cache_spills", ["tier", "oid"])


def downgrade() -> None:
    op.drop_index("ix_cache_spills_tier_oid", "cache_spills")
    op.drop_table("cache_spills")
