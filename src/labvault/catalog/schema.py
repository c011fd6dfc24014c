"""The tables of the catalog at the newest schema revision (the migrations build exactly this).

One ``versions`` table holds dataset versions, model versions and runs (``kind``), so that tags,
metrics, params, lineage and search work the same for all of them. Metrics and params are narrow
``(version_id, key, value)`` tables indexed on ``(key, value)``: a metric filter is an index range.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

KINDS = ("dataset", "model", "experiment")
VERSION_KINDS = ("dataset", "model", "run")

entities = sa.Table(
    "entities",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("name", sa.String(512), nullable=False),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.UniqueConstraint("kind", "name", name="uq_entities_kind_name"),
)
# Revision 0010, PostgreSQL only: a name prefix as an index range in byte order, whatever the
# database's collation (catalog/browse.py compares with the pattern operators ~>=~ and ~<~).
sa.Index("ix_entities_kind_name_pattern", entities.c.kind, entities.c.name,
         postgresql_ops={"name": "varchar_pattern_ops"}).ddl_if(dialect="postgresql")

versions = sa.Table(
    "versions",
    metadata,
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
    # Revision 0003: free metadata from the annotations that named the version (DVC's ``meta``).
    sa.Column("meta", sa.JSON(), nullable=True),
    # Revision 0013: 1 on the newest version (highest seq) of each dataset and model name, else
    # NULL; kept by triggers (catalog/heads.py).
    sa.Column("is_head", sa.SmallInteger(), nullable=True),
    sa.UniqueConstraint("entity_id", "version", name="uq_versions_entity_version"),
    sa.UniqueConstraint("entity_id", "seq", name="uq_versions_entity_seq"),
    sa.UniqueConstraint("entity_id", "content_hash", name="uq_versions_entity_hash"),
    sa.Index("ix_versions_kind_created", "kind", "created_at"),
    sa.Index("ix_versions_content_hash", "content_hash"),
    # Revision 0005, PostgreSQL only: a search checks kind and date with an index-only scan.
    sa.Index("ix_versions_search", "id", postgresql_include=["kind", "created_at", "entity_id"]).ddl_if(
        dialect="postgresql"
    ),
    # Revision 0010: keyset pages in (created_at, id) order (catalog/browse.py); the second on
    # PostgreSQL only (SQLite's ix_versions_kind_created ends with the rowid already).
    sa.Index("ix_versions_entity_created", "entity_id", "created_at", "id"),
    sa.Index("ix_versions_kind_created_id", "kind", "created_at", "id",
             postgresql_include=["entity_id", "seq"]).ddl_if(dialect="postgresql"),
    # Revision 0013: the latest version of each name in page order (catalog/heads.py).
    sa.Index("ix_versions_heads", "kind", "created_at", "id", sqlite_where=sa.text("is_head = 1"),
             postgresql_where=sa.text("is_head = 1")),
    # Revisions 0014 and 0015: the marked version of a name, which the head triggers un-mark (catalog/heads.py).
    sa.Index("ix_versions_head_of", "entity_id", sqlite_where=sa.text("is_head = 1"),
             postgresql_where=sa.text("is_head = 1")),
)

metrics = sa.Table(
    "metrics",
    metadata,
    sa.Column("version_id", BigId, sa.ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("key", sa.String(256), primary_key=True),
    sa.Column("value", sa.Float(), nullable=False),
    # Added by revision 0002 (which also replaced the (key, value) index by this one) so that a
    # search on one kind reads only that kind's index range.
    sa.Column("kind", sa.String(16), nullable=True),
    sa.Index("ix_metrics_kind_key_value", "kind", "key", "value", "version_id"),
)

params = sa.Table(
    "params",
    metadata,
    sa.Column("version_id", BigId, sa.ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("key", sa.String(256), primary_key=True),
    sa.Column("value_text", sa.Text(), nullable=False),
    sa.Column("value_num", sa.Float(), nullable=True),
    # Added by revision 0003 (as metrics.kind by 0002): a search on one kind reads only its range.
    sa.Column("kind", sa.String(16), nullable=True),
    sa.Index("ix_params_kind_key_num", "kind", "key", "value_num", "version_id"),
    sa.Index("ix_params_kind_key_text", "kind", "key", "value_text"),
    # Revision 0005, PostgreSQL only: a search checks a version's param with an index-only scan.
    sa.Index("ix_params_version_cover", "version_id", "key", postgresql_include=["kind", "value_num"]).ddl_if(
        dialect="postgresql"
    ),
)

tags = sa.Table(
    "tags",
    metadata,
    sa.Column("version_id", BigId, sa.ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tag", sa.String(256), primary_key=True),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Index("ix_tags_tag", "tag", "version_id"),
)

aliases = sa.Table(
    "aliases",
    metadata,
    sa.Column("entity_id", BigId, sa.ForeignKey("entities.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("alias", sa.String(256), primary_key=True),
    sa.Column("version_id", BigId, sa.ForeignKey("versions.id", ondelete="CASCADE"), nullable=False),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
    sa.Index("ix_aliases_alias", "alias", "version_id"),
    sa.Index("ix_aliases_version", "version_id"),
)

edges = sa.Table(
    "edges",
    metadata,
    sa.Column("src_id", BigId, sa.ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("dst_id", BigId, sa.ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("relation", sa.String(32), nullable=False),
    sa.Index("ix_edges_dst_src", "dst_id", "src_id"),
)

# Revision 0003: the splits of a dataset version named by the lab's convention
# (``sentiment_imdb_v1.0_train.csv`` and ``..._test.csv`` are splits train and test of
# ``sentiment_imdb@v1.0``); each split is its own content, found by hash for lineage.
splits = sa.Table(
    "splits",
    metadata,
    sa.Column("version_id", BigId, sa.ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("split", sa.String(32), primary_key=True),
    sa.Column("content_hash", sa.String(128), nullable=False),
    sa.Column("path", sa.Text(), nullable=True),
    sa.Column("size", sa.BigInteger(), nullable=True),
    sa.Column("nfiles", sa.BigInteger(), nullable=True),
    sa.Column("recorded_at", sa.DateTime(), nullable=False),
    sa.Index("ix_splits_content_hash", "content_hash"),
)

locations = sa.Table(
    "locations",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("content_hash", sa.String(128), nullable=False),
    sa.Column("remote", sa.String(256), nullable=False),
    sa.Column("url", sa.Text(), nullable=False),
    sa.Column("tier", sa.String(64), nullable=True),
    sa.Column("recorded_at", sa.DateTime(), nullable=False),
    sa.UniqueConstraint("content_hash", "remote", name="uq_locations_hash_remote"),
)

# The lab's tables (placements, access log, usage history, move journal) live in their own module
# on the same metadata; importing it here makes ``metadata`` the whole schema.
from labvault.catalog import access_schema as _access_schema  # noqa: E402,F401
from labvault.catalog import backup_schema as _backup_schema  # noqa: E402,F401
from labvault.catalog import lab_schema as _lab_schema  # noqa: E402,F401
from labvault.catalog import scrub_schema as _scrub_schema  # noqa: E402,F401
from labvault.catalog import spill_schema as _spill_schema  # noqa: E402,F401
from labvault.catalog import web_schema as _web_schema  # noqa: E402,F401
