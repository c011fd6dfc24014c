"""The dashboard server's users and API tokens (revision 0009).

``web_users``: one row per user: ``name`` (unique), ``role`` (viewer, editor, admin), the argon2id
``password_hash`` (null: the user signs in with tokens only), and the unix principal it stands for
(``unix_principal``: ``user:NAME`` or ``group:NAME``) whose access grants filter what it sees.
``web_tokens``: one row per API token: its owner, its role (at most the owner's), the SHA-256 of the
token (the token itself is shown once and never stored), its first characters to tell tokens
apart, when it expires and when it was revoked.
"""

from __future__ import annotations

import sqlalchemy as sa

from labvault.catalog.schema import BigId, metadata

web_users = sa.Table(
    "web_users",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("role", sa.String(8), nullable=False),  # viewer | editor | admin
    sa.Column("password_hash", sa.Text(), nullable=True),
    sa.Column("unix_principal", sa.String(264), nullable=True),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.UniqueConstraint("name", name="uq_web_users_name"),
)

web_tokens = sa.Table(
    "web_tokens",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("user_id", BigId, sa.ForeignKey("web_users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("role", sa.String(8), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("expires_at", sa.DateTime(), nullable=True),
    sa.Column("revoked_at", sa.DateTime(), nullable=True),
    sa.UniqueConstraint("token_hash", name="uq_web_tokens_hash"),
    sa.Index("ix_web_tokens_user", "user_id"),
)
