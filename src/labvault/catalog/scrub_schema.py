"""The verification records of the catalog (revision 0008): ``verify_records``, one row per object
(a remote's object, a tier's placement) saying when it was last read back and what was found."""

from __future__ import annotations

import sqlalchemy as sa

from labvault.catalog.schema import BigId, metadata

verify_records = sa.Table(
    "verify_records",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    # what was verified: "remote:<url>" or "tier:<name>"
    sa.Column("scope", sa.Text(), nullable=False),
    # the object's key within the scope: an md5 (".dir" for manifests) or a placement's location
    sa.Column("item", sa.Text(), nullable=False),
    sa.Column("size", sa.BigInteger(), nullable=False),
    sa.Column("verified_at", sa.DateTime(), nullable=False),
    sa.Column("ok", sa.Boolean(), nullable=False),
    # missing, corrupt, unreadable (null when ok)
    sa.Column("problem", sa.String(16), nullable=True),
    sa.Column("detail", sa.Text(), nullable=True),
    sa.UniqueConstraint("scope", "item", name="uq_verify_records_scope_item"),
    sa.Index("ix_verify_records_scope_at", "scope", "verified_at"),
)
