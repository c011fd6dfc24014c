"""The spilled cache objects of the catalog (revision 0011): ``cache_spills``, one row per object of
a repository's cache that has a copy in a folder tier's object store (``<tier>/files/md5/XX/REST``).

``cache`` is the real path of the cache folder the object left (a cache shared by several repos is
one cache), ``repo`` the repository that spilled it (for people reading the table), ``tier`` the
tier's name, ``oid`` the object's md5 (``.dir`` for a folder manifest, whose copy is made but which
stays in the cache). ``state`` is the object's journal: ``copying`` (written before the copy
starts: the cache still holds the object) then ``spilled`` (the tier's copy was fsynced and its
md5 read back; only then may the cache's copy go). The tier's object store is shared by every
cache spilling there: a tier file may be deleted only when no row of any cache names it.
"""

from __future__ import annotations

import sqlalchemy as sa

from labvault.catalog.schema import BigId, metadata

cache_spills = sa.Table(
    "cache_spills",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("cache", sa.Text(), nullable=False),
    sa.Column("repo", sa.Text(), nullable=False),
    sa.Column("tier", sa.String(64), nullable=False),
    sa.Column("oid", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger(), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # copying | spilled
    sa.Column("spilled_at", sa.DateTime(), nullable=False),
    sa.UniqueConstraint("cache", "tier", "oid", name="uq_cache_spills_cache_tier_oid"),
    sa.Index("ix_cache_spills_tier_oid", "tier", "oid"),
)
