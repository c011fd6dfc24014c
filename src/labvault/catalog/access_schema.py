"""The protection and access-control tables of the catalog (revision 0007).

``protections``: one row per protected path (a repository output or a placement of a lab unit):
what was asked (``target``: the path or ``NAME[@VERSION]``), the content hash protected, whether
the immutable flag could be set, when and by whom. ``access_grants``: one row per principal and
path: ``principal_kind`` (user, group), ``principal``, ``permission`` (read, write: write implies
read), the target as given, when and by whom. The dashboard server reads the same rows to
enforce the same roles (``labvault.api.access_control.access_for``).
"""

from __future__ import annotations

import sqlalchemy as sa

from labvault.catalog.schema import BigId, metadata

protections = sa.Table(
    "protections",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("path", sa.Text(), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # repo | lab
    sa.Column("target", sa.Text(), nullable=False),
    sa.Column("content_hash", sa.String(128), nullable=True),
    sa.Column("immutable", sa.Boolean(), nullable=False),
    sa.Column("at", sa.DateTime(), nullable=False),
    sa.Column("by", sa.String(256), nullable=False),
    sa.UniqueConstraint("path", name="uq_protections_path"),
)

access_grants = sa.Table(
    "access_grants",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("principal_kind", sa.String(8), nullable=False),  # user | group
    sa.Column("principal", sa.String(256), nullable=False),
    sa.Column("permission", sa.String(8), nullable=False),  # read | write
    sa.Column("path", sa.Text(), nullable=False),
    sa.Column("target", sa.Text(), nullable=False),
    sa.Column("at", sa.DateTime(), nullable=False),
    sa.Column("by", sa.String(256), nullable=False),
    sa.UniqueConstraint("principal_kind", "principal", "path", name="uq_access_grants_principal_path"),
    sa.Index("ix_access_grants_principal", "principal_kind", "principal"),
)
