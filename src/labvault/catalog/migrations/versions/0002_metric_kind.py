"""Scope metric search by kind: ``metrics.kind`` (filled from ``versions``) and its index.

A search such as ``catalog search models --where "metrics.accuracy > 0.9"`` used to read the
accuracy of every run too; the ``(kind, key, value)`` index reads only the models' range.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("metrics", sa.Column("kind", sa.String(16), nullable=True))
    op.execute(
        "UPDATE metrics SET kind = (SELECT versions.kind FROM versions WHERE versions.id = metrics.version_id)"
    )
    op.drop_index("ix_metrics_key_value", table_name="metrics")
    op.create_index("ix_metrics_kind_key_value", "metrics", ["kind", "key", "value", "version_id"])


def downgrade() -> None:
    op.drop_index("ix_metrics_kind_key_value", table_name="metrics")
    op.create_index("ix_metrics_key_value", "metrics", ["key", "value", "version_id"])
    with op.batch_alter_table("metrics") as batch:
        batch.drop_column("kind")
