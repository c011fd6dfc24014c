"""The backup tables of the catalog (revision 0006): ``backup_drills``, one row per drill."""

from __future__ import annotations

import sqlalchemy as sa

from labvault.catalog.schema import BigId, metadata

backup_drills = sa.Table(
    "backup_drills",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(), nullable=False),
    sa.Column("policy", sa.String(64), nullable=False),
    sa.Column("target", sa.Text(), nullable=False),
    sa.Column("snapshot", sa.String(64), nullable=False),
    sa.Column("ok", sa.Boolean(), nullable=False),
    sa.Column("files", sa.BigInteger(), nullable=False),
    sa.Column("bytes", sa.BigInteger(), nullable=False),
    sa.Column("failures", sa.Text(), nullable=True),
    sa.Index("ix_backup_drills_policy_at", "policy", "at"),
)
