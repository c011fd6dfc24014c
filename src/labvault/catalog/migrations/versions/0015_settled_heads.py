"""Bulk registration marks the newest versions once per batch, not once per version.

The head triggers (``labvault.catalog.heads``) now skip a version inserted with ``is_head`` set:
``catalog/bulk.py`` inserts its versions as ``heads.NOT_HEAD`` (0, "not the newest") and recomputes
the marks of the names it touched in set-based statements (``heads.settle``) before it commits, in
place of two row updates per version. Since 0 now also means "not the newest", the triggers and
``ix_versions_head_of`` look for ``is_head = 1``, which keeps those rows out of the index.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from labvault.catalog import heads

revision = "0015"
down_revision: str | None = "0014"
branch_labels = None
depends_on = None


def _recreate(settled: bool) -> None:
    dialect = op.get_bind().dialect.name
    for ddl in heads.drop_triggers_sql(dialect) + heads.create_triggers_sql(dialect, settled=settled):
        op.execute(ddl)
    where = sa.text("is_head = 1" if settled else "is_head IS NOT NULL")
    op.drop_index("ix_versions_head_of", table_name="versions")
    op.create_index("ix_versions_head_of", "versions", ["entity_id"], sqlite_where=where, postgresql_where=where)


def upgrade() -> None:
    _recreate(True)


def downgrade() -> None:
    op.execute(f"UPDATE versions SET is_head = NULL WHERE is_head = {heads.NOT_HEAD}")  # 0014 knew NULL and 1
    _recreate(False)
