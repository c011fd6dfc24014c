"""The lab's state: lab units, their placements on tiers, a per-file stat cache for scans, the
access log, the usage history and the move journal (see ``labvault.catalog.lab_schema``).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "lab_units",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(512), nullable=False),
        sa.Column("version", sa.String(128), nullable=False),
        sa.Column("part", sa.String(128), nullable=False),
        sa.Column("content_hash", sa.String(128), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("nfiles", sa.BigInteger(), nullable=False),
        sa.Column("version_id", BigId, sa.ForeignKey("versions.id", ondelete="SET NULL"), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("modified_at", sa.DateTime(), nullable=True),
        sa.Column("last_access", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("kind", "name", "version", "part", name="uq_lab_units_identity"),
    )
    op.create_index("ix_lab_units_name", "lab_units", ["name", "version"])
    op.create_index("ix_lab_units_hash", "lab_units", ["content_hash"])
    op.create_table(
        "lab_placements",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("unit_id", BigId, sa.ForeignKey("lab_units.id", ondelete="CASCADE"), nullable=False),
        sa.Column("tier", sa.String(64), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("verified_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("location", name="uq_lab_placements_location"),
    )
    op.create_index("ix_lab_placements_unit", "lab_placements", ["unit_id", "tier"])
    op.create_index("ix_lab_placements_tier", "lab_placements", ["tier", "state", "unit_id"])
    op.create_table(
        "lab_file_stats",
        sa.Column("placement_id", BigId, sa.ForeignKey("lab_placements.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("relpath", sa.Text(), primary_key=True),
        sa.Column("inode", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=False),
        sa.Column("md5", sa.String(64), nullable=False),
    )
    op.create_table(
        "lab_access",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("unit_id", BigId, sa.ForeignKey("lab_units.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("reads", sa.Integer(), nullable=False),
    )
    op.create_index("ix_lab_access_unit_at", "lab_access", ["unit_id", "at"])
    op.create_table(
        "lab_usage",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("tier", sa.String(64), nullable=True),
        sa.Column("mount", sa.Text(), nullable=False),
        sa.Column("used", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_lab_usage_mount_at", "lab_usage", ["mount", "at"])
    op.create_index("ix_lab_usage_tier_at", "lab_usage", ["tier", "at"])
    op.create_table(
        "lab_moves",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("unit_id", BigId, sa.ForeignKey("lab_units.id", ondelete="CASCADE"), nullable=False),
        sa.Column("src_tier", sa.String(64), nullable=False),
        sa.Column("src_location", sa.Text(), nullable=False),
        sa.Column("dst_tier", sa.String(64), nullable=False),
        sa.Column("dst_location", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("owner", sa.String(128), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_lab_moves_state", "lab_moves", ["state", "id"])
    op.create_index("ix_lab_moves_unit", "lab_moves", ["unit_id"])


def downgrade() -> None:
    for table in ("lab_moves", "lab_usage", "lab_access", "lab_file_stats", "lab_placements", "lab_units"):
        op.drop_table(table)
