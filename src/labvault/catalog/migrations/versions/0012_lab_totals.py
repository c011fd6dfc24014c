"""Sums of the live placements per tier, project and dataset, kept by triggers: ``lab_totals``
(see ``labvault.catalog.lab_totals``), filled from the placements already there.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from labvault.catalog import lab_totals

revision = "0012"
down_revision: str | None = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lab_totals",
        sa.Column("grp_kind", sa.String(8), primary_key=True),
        sa.Column("grp", sa.String(512), primary_key=True),
        sa.Column("tier", sa.String(64), primary_key=True),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("objects", sa.BigInteger(), nullable=False),
        sa.Column("datasets", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_lab_totals_rank", "lab_totals", ["grp_kind", "tier", "bytes"])
    dialect = op.get_bind().dialect.name
    for ddl in lab_totals.create_triggers_sql(dialect):
        op.execute(ddl)
    op.execute(lab_totals.fill_sql(dialect))


def downgrade() -> None:
    for ddl in lab_totals.drop_triggers_sql(op.get_bind().dialect.name):
        op.execute(ddl)
    op.drop_index("ix_lab_totals_rank", "lab_totals")
    op.drop_table("lab_totals")
