"""``ix_versions_head_of``: the marked version of a name found by index, so that the head triggers
(``labvault.catalog.heads``) un-mark the previous head without reading every version of the name.

Without it, each insert of a dataset or model version read all versions of its name to find the
marked one: inserting the n-th version of a name cost O(n), and registering many versions of one
name grew quadratically.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision: str | None = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_versions_head_of", "versions", ["entity_id"],
                    sqlite_where=sa.text("is_head IS NOT NULL"), postgresql_where=sa.text("is_head IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_versions_head_of", table_name="versions")
