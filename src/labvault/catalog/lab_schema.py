"""The lab's state in the catalog database (revision 0004): units, placements, access, usage, moves.

A *lab unit* is what moves between storage tiers as a whole: a dataset, model, experiment or
checkpoint (a file or a folder in a tier's area). A *placement* says that one tier holds a copy
of a unit at a real path or URL. The access log, the usage history and the move journal are
append-mostly tables read by the lifecycle planner, the monitor and the mover.

Sized for a million objects in a hundred thousand units: every per-tier aggregate is one index
range (``ix_lab_placements_tier``), the planner reads ``lab_units`` in one pass (last access is
kept on the unit row, so the access log is read only for promotion counts), and the monitor
reads the newest usage rows through ``ix_lab_usage_mount_at``.
"""

from __future__ import annotations

import sqlalchemy as sa

from labvault.catalog.schema import BigId, metadata

lab_units = sa.Table(
    "lab_units",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("name", sa.String(512), nullable=False),
    sa.Column("version", sa.String(128), nullable=False),
    # What tells apart units of one name and version: a dataset's split, a model's or run's date.
    sa.Column("part", sa.String(128), nullable=False),
    sa.Column("content_hash", sa.String(128), nullable=True),
    sa.Column("size", sa.BigInteger(), nullable=False),
    sa.Column("nfiles", sa.BigInteger(), nullable=False),
    # The catalog version with the same content, when there is one (tags and lineage pin it).
    sa.Column("version_id", BigId, sa.ForeignKey("versions.id", ondelete="SET NULL"), nullable=True),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("modified_at", sa.DateTime(), nullable=True),
    sa.Column("last_access", sa.DateTime(), nullable=True),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
    sa.UniqueConstraint("kind", "name", "version", "part", name="uq_lab_units_identity"),
    sa.Index("ix_lab_units_name", "name", "version"),
    sa.Index("ix_lab_units_hash", "content_hash"),
)

lab_placements = sa.Table(
    "lab_placements",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("unit_id", BigId, sa.ForeignKey("lab_units.id", ondelete="CASCADE"), nullable=False),
    sa.Column("tier", sa.String(64), nullable=False),
    sa.Column("location", sa.Text(), nullable=False),
    # present (found by a scan), verified (bytes checked against content_hash), copying,
    # deleting (a move in flight: see lab_moves), missing (gone since the last scan).
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("verified_at", sa.DateTime(), nullable=True),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.UniqueConstraint("location", name="uq_lab_placements_location"),
    sa.Index("ix_lab_placements_unit", "unit_id", "tier"),
    sa.Index("ix_lab_placements_tier", "tier", "state", "unit_id"),
)

lab_file_stats = sa.Table(
    "lab_file_stats",
    metadata,
    sa.Column("placement_id", BigId, sa.ForeignKey("lab_placements.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("relpath", sa.Text(), primary_key=True),
    sa.Column("inode", sa.BigInteger(), nullable=False),
    sa.Column("size", sa.BigInteger(), nullable=False),
    sa.Column("mtime_ns", sa.BigInteger(), nullable=False),
    sa.Column("md5", sa.String(64), nullable=False),
)

lab_access = sa.Table(
    "lab_access",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("unit_id", BigId, sa.ForeignKey("lab_units.id", ondelete="CASCADE"), nullable=False),
    sa.Column("at", sa.DateTime(), nullable=False),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("reads", sa.Integer(), nullable=False),
    sa.Index("ix_lab_access_unit_at", "unit_id", "at"),
)

lab_usage = sa.Table(
    "lab_usage",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(), nullable=False),
    sa.Column("tier", sa.String(64), nullable=True),
    sa.Column("mount", sa.Text(), nullable=False),
    sa.Column("used", sa.BigInteger(), nullable=False),
    sa.Column("total", sa.BigInteger(), nullable=False),
    sa.Index("ix_lab_usage_mount_at", "mount", "at"),
    sa.Index("ix_lab_usage_tier_at", "tier", "at"),
)

lab_moves = sa.Table(
    "lab_moves",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("unit_id", BigId, sa.ForeignKey("lab_units.id", ondelete="CASCADE"), nullable=False),
    sa.Column("src_tier", sa.String(64), nullable=False),
    sa.Column("src_location", sa.Text(), nullable=False),
    sa.Column("dst_tier", sa.String(64), nullable=False),
    sa.Column("dst_location", sa.Text(), nullable=False),
    # planned -> copied -> verified -> switched -> done, or rolled_back / failed.
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text(), nullable=True),
    sa.Column("bytes", sa.BigInteger(), nullable=False),
    sa.Column("owner", sa.String(128), nullable=True),
    sa.Column("error", sa.Text(), nullable=True),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
    sa.Index("ix_lab_moves_state", "state", "id"),
    sa.Index("ix_lab_moves_unit", "unit_id"),
)

# Sums of the live placements per tier, project and dataset, kept by triggers (revision 0012; see
# ``labvault.catalog.lab_totals``): what ``monitor`` reads instead of grouping every placement.
lab_totals = sa.Table(
    "lab_totals",
    metadata,
    sa.Column("grp_kind", sa.String(8), primary_key=True),  # tier, project or dataset
    sa.Column("grp", sa.String(512), primary_key=True),  # the project or dataset; '' for a tier's row
    sa.Column("tier", sa.String(64), primary_key=True),  # '' for a project's or dataset's all-tier row
    sa.Column("bytes", sa.BigInteger(), nullable=False),
    sa.Column("units", sa.BigInteger(), nullable=False),
    sa.Column("objects", sa.BigInteger(), nullable=False),
    sa.Column("datasets", sa.BigInteger(), nullable=False),
    sa.Index("ix_lab_totals_rank", "grp_kind", "tier", "bytes"),
)
