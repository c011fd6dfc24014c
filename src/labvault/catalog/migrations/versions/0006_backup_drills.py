"""Backup drills: one row per ``backup drill`` (see ``labvault.catalog.backup_log``).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "backup_drills",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("policy", sa.String(64), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("snapshot", sa.String(64), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("files", sa.BigInteger(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("failures", sa.Text(), nullable=True),
    )
    op.create_index("ix_backup_drills_policy_at", "backup_drills", ["policy", "at"])


def downgrade() -> None:
    op.drop_index("ix_backup_drills_policy_at", "backup_drills")
    op.drop_table("backup_drills")
