"""Indexes for keyset pages of versions (``catalog/browse.py``), newest first.

* ``versions (entity_id, created_at, id)``: the runs of one experiment (or versions of one name)
  in page order, so a page is an index range from the cursor on.
* PostgreSQL only, ``versions (kind, created_at, id) INCLUDE (entity_id, seq)``: the walk of one
  kind in page order with the cursor's ``(created_at, id) < (...)`` as an index condition, and
  the "is there a newer version of this name" check without a heap read. SQLite's
  ``ix_versions_kind_created`` already ends with the rowid (the id).
* PostgreSQL only, ``entities (kind, name varchar_pattern_ops)``: a name prefix as an index range
  in byte order (the pattern operators ``~>=~``, ``~<~``) whatever the database's collation
  (SQLite compares bytes already).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision: str | None = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_versions_entity_created", "versions", ["entity_id", "created_at", "id"])
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_index("ix_versions_kind_created_id", "versions", ["kind", "created_at", "id"],
                    postgresql_include=["entity_id", "seq"])
    op.create_index("ix_entities_kind_name_pattern", "entities", ["kind", "name"],
                    postgresql_ops={"name": "varchar_pattern_ops"})


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_entities_kind_name_pattern", table_name="entities")
        op.drop_index("ix_versions_kind_created_id", table_name="versions")
    op.drop_index("ix_versions_entity_created", table_name="versions")
