"""Initial catalog schema: entities, versions, metrics, params, tags, aliases, edges, locations.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "entities",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(512), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("kind", "name", name="uq_entities_kind_name"),
    )
    op.create_table(
        "versions",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("entity_id", BigId, sa.ForeignKey("entities.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("version", sa.String(128), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(128), nullable=True),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("nfiles", sa.BigInteger(), nullable=True),
        sa.Column("nsamples", sa.BigInteger(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("card", sa.JSON(), nullable=True),
        sa.Column("architecture", sa.String(256), nullable=True),
        sa.Column("framework", sa.String(128), nullable=True),
        sa.Column("status", sa.String(32), nullable=True),
        sa.Column("stage", sa.String(256), nullable=True),
        sa.Column("git_rev", sa.String(64), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("entity_id", "version", name="uq_versions_entity_version"),
        sa.UniqueConstraint("entity_id", "seq", name="uq_versions_entity_seq"),
        sa.UniqueConstraint("entity_id", "content_hash", name="uq_versions_entity_hash"),
    )
    op.create_index("ix_versions_kind_created", "versions", ["kind", "created_at"])
    op.create_index("ix_versions_content_hash", "versions", ["content_hash"])
    op.create_table(
        "metrics",
        sa.Column("version_id", BigId, sa.ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("key", sa.String(256), primary_key=True),
        sa.Column("value", sa.Float(), nullable=False),
    )
    op.create_index("ix_metrics_key_value", "metrics", ["key", "value", "version_id"])
    op.create_table(
        "params",
        sa.Column("version_id", BigId, sa.ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("key", sa.String(256), primary_key=True),
        sa.Column("value_text", sa.Text(), nullable=False),
        sa.Column("value_num", sa.Float(), nullable=True),
    )
    op.create_index("ix_params_key_num", "params", ["key", "value_num", "version_id"])
    op.create_index("ix_params_key_text", "params", ["key", "value_text"])
    op.create_table(
        "tags",
        sa.Column("version_id", BigId, sa.ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("tag", sa.String(256), primary_key=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_tags_tag", "tags", ["tag", "version_id"])
    op.create_table(
        "aliases",
        sa.Column("entity_id", BigId, sa.ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("alias", sa.String(256), primary_key=True),
        sa.Column("version_id", BigId, sa.ForeignKey("versions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_aliases_alias", "aliases", ["alias", "version_id"])
    op.create_index("ix_aliases_version", "aliases", ["version_id"])
    op.create_table(
        "edges",
        sa.Column("src_id", BigId, sa.ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("dst_id", BigId, sa.ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("relation", sa.String(32), nullable=False),
    )
    op.create_index("ix_edges_dst_src", "edges", ["dst_id", "src_id"])
    op.create_table(
        "locations",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("content_hash", sa.String(128), nullable=False),
        sa.Column("remote", sa.String(256), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("tier", sa.String(64), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("content_hash", "remote", name="uq_locations_hash_remote"),
    )


def downgrade() -> None:
    for table in ("locations", "edges", "aliases", "tags", "params", "metrics", "versions", "entities"):
        op.drop_table(table)
