"""``versions.is_head``, the newest version of each dataset and model name, kept by triggers
(see ``labvault.catalog.heads``), with the partial index ``ix_versions_heads`` that pages of the
latest versions read; filled from the versions already there.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from labvault.catalog import heads

revision = "0013"
down_revision: str | None = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("versions", sa.Column("is_head", sa.SmallInteger(), nullable=True))
    op.execute(heads.fill_sql())
    op.create_index("ix_versions_heads", "versions", ["kind", "created_at", "id"],
                    sqlite_where=sa.text("is_head = 1"), postgresql_where=sa.text("is_head = 1"))
    for ddl in heads.create_triggers_sql(op.get_bind().dialect.name, settled=False):
        op.execute(ddl)


def downgrade() -> None:
    for ddl in heads.drop_triggers_sql(op.get_bind().dialect.name):
        op.execute(ddl)
    op.drop_index("ix_versions_heads", table_name="versions")
    with op.batch_alter_table("versions") as batch:
        batch.drop_column("is_head")
