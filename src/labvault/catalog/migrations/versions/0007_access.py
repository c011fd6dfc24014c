"""Protection and access control: ``protections`` and ``access_grants``
(see ``labvault.catalog.access_schema``).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision: str | None = "0006"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "protections",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(128), nullable=True),
        sa.Column("immutable", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("by", sa.String(256), nullable=False),
        sa.UniqueConstraint("path", name="uq_protections_path"),
    )
    op.create_table(
        "access_grants",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("principal_kind", sa.String(8), nullable=False),
        sa.Column("principal", sa.String(256), nullable=False),
        sa.Column("permission", sa.String(8), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("by", sa.String(256), nullable=False),
        sa.UniqueConstraint("principal_kind", "principal", "path", name="uq_access_grants_principal_path"),
    )
    op.create_index("ix_access_grants_principal", "access_grants", ["principal_kind", "principal"])


def downgrade() -> None:
    op.drop_index("ix_access_grants_principal", "access_grants")
    op.drop_table("access_grants")
    op.drop_table("protections")
