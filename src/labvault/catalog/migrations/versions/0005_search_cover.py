"""Covering indexes for searches on PostgreSQL.

A planned search (``catalog/search_plan.py``) starts from its most selective condition and checks
every other one version at a time: the version's kind and date, and its params. On PostgreSQL each
of those checks read a heap page (about ten thousand random page reads for a search over a million
runs); these indexes carry the columns the checks need, so they are index-only scans. SQLite gets
neither: its ``versions`` rows are found by rowid already, and the search there is fast without.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_index("ix_versions_search", "versions", ["id"], postgresql_include=["kind", "created_at", "entity_id"])
    op.create_index("ix_params_version_cover", "params", ["version_id", "key"], postgresql_include=["kind", "value_num"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_params_version_cover", table_name="params")
    op.drop_index("ix_versions_search", table_name="versions")
