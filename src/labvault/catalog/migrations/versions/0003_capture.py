"""What capture records, and searching runs by parameter values.

* ``versions.meta``: free metadata from the annotations that named a version (DVC's ``meta``).
* ``splits``: the train/val/test files of a dataset version named by the lab's convention.
* ``params.kind`` (filled from ``versions``), as ``metrics.kind`` since 0002, with the indexes a
  search on one kind's params reads.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("versions", sa.Column("meta", sa.JSON(), nullable=True))
    op.create_table(
        "splits",
        sa.Column("version_id", BigId, sa.ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("split", sa.String(32), primary_key=True),
        sa.Column("content_hash", sa.String(128), nullable=False),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("nfiles", sa.BigInteger(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_splits_content_hash", "splits", ["content_hash"])
    op.add_column("params", sa.Column("kind", sa.String(16), nullable=True))
    if op.get_bind().dialect.name == "postgresql":  # a join: minutes faster on millions of rows
        op.execute("UPDATE params SET kind = versions.kind FROM versions WHERE versions.id = params.version_id")
    else:
        op.execute(
            "UPDATE params SET kind = (SELECT versions.kind FROM versions WHERE versions.id = params.version_id)"
        )
    op.drop_index("ix_params_key_num", table_name="params")
    op.drop_index("ix_params_key_text", table_name="params")
    op.create_index("ix_params_kind_key_num", "params", ["kind", "key", "value_num", "version_id"])
    op.create_index("ix_params_kind_key_text", "params", ["kind", "key", "value_text"])


def downgrade() -> None:
    op.drop_index("ix_params_kind_key_text", table_name="params")
    op.drop_index("ix_params_kind_key_num", table_name="params")
    op.create_index("ix_params_key_text", "params", ["key", "value_text"])
    op.create_index("ix_params_key_num", "params", ["key", "value_num", "version_id"])
    with op.batch_alter_table("params") as batch:
        batch.drop_column("kind")
    op.drop_index("ix_splits_content_hash", table_name="splits")
    op.drop_table("splits")
    with op.batch_alter_table("versions") as batch:
        batch.drop_column("meta")
