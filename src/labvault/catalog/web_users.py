"""Users and API tokens of the dashboard server in the catalog (revision 0009).

Only rows: hashing passwords and making tokens is ``labvault.api.users``'s business.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from labvault.catalog.store import Catalog, now
from labvault.catalog.web_schema import web_tokens, web_users
from labvault.errors import CatalogError, UnknownNameError

ROLES = ("viewer", "editor", "admin")


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    has_password: bool
    unix_principal: str | None  # user:NAME or group:NAME: whose access grants filter what it sees
    created: datetime


@dataclass(frozen=True)
class Token:
    id: int
    user: str
    role: str
    prefix: str
    created: datetime
    expires: datetime | None
    revoked: datetime | None


def _user(m: sa.RowMapping) -> User:
    return User(int(m["id"]), str(m["name"]), str(m["role"]), m["password_hash"] is not None,
                m["unix_principal"], m["created_at"])


def add_user(cat: Catalog, name: str, role: str, password_hash: str | None, unix_principal: str | None) -> User:
    def write(conn: sa.Connection) -> None:
        if conn.execute(sa.select(web_users.c.id).where(web_users.c.name == name)).first() is not None:
            raise CatalogError(f"user {name!r} exists already",
                               f"remove it first with `labvault user remove {name}` or pick another name")
        conn.execute(web_users.insert().values(name=name, role=role, password_hash=password_hash,
                                               unix_principal=unix_principal, created_at=now()))

    cat.write(write)
    return get_user(cat, name)


def find_user(cat: Catalog, name: str | None = None, user_id: int | None = None) -> tuple[User, str | None] | None:
    """The user by name or id with its password hash, or None."""
    q = sa.select(web_users)
    q = q.where(web_users.c.name == name) if name is not None else q.where(web_users.c.id == user_id)
    with cat.read() as conn:
        row = conn.execute(q).mappings().first()
    return None if row is None else (_user(row), row["password_hash"])


def get_user(cat: Catalog, name: str) -> User:
    found = find_user(cat, name)
    if found is None:
        raise UnknownNameError(f"unknown user {name!r}", "list them with `labvault user list`")
    return found[0]


def list_users(cat: Catalog) -> list[User]:
    with cat.read() as conn:
        return [_user(m) for m in conn.execute(sa.select(web_users).order_by(web_users.c.name)).mappings()]


def remove_user(cat: Catalog, name: str) -> User:
    user = get_user(cat, name)
    cat.write(lambda conn: conn.execute(web_users.delete().where(web_users.c.id == user.id)))
    return user


def add_token(cat: Catalog, user: User, role: str, token_hash: str, prefix: str, expires: datetime | None) -> Token:
    def write(conn: sa.Connection) -> int:
        res = conn.execute(web_tokens.insert().values(user_id=user.id, role=role, token_hash=token_hash,
                                                      prefix=prefix, created_at=now(), expires_at=expires))
        return int(res.inserted_primary_key[0])  # type: ignore[index]

    token_id = cat.write(write)
    return next(t for t in list_tokens(cat) if t.id == token_id)


def _token_query() -> sa.Select[Any]:
    t = web_tokens.c
    return (sa.select(t.id, web_users.c.name.label("user"), t.role, t.prefix, t.created_at, t.expires_at,
                      t.revoked_at, t.user_id)
            .join(web_users, web_users.c.id == t.user_id))


def _token(m: sa.RowMapping) -> Token:
    return Token(int(m["id"]), str(m["user"]), str(m["role"]), str(m["prefix"]), m["created_at"], m["expires_at"],
                 m["revoked_at"])


def list_tokens(cat: Catalog, user: str | None = None) -> list[Token]:
    q = _token_query().order_by(web_tokens.c.id)
    if user is not None:
        q = q.where(web_users.c.name == user)
    with cat.read() as conn:
        return [_token(m) for m in conn.execute(q).mappings()]


def find_token(cat: Catalog, token_hash: str) -> tuple[Token, User] | None:
    """The token with this hash and its owner, or None: one query (every API request asks)."""
    u = web_users.c
    q = (_token_query().add_columns(u.role.label("user_role"), u.password_hash, u.unix_principal,
                                    u.created_at.label("user_created"))
         .where(web_tokens.c.token_hash == token_hash))
    with cat.read() as conn:
        m = conn.execute(q).mappings().first()
    if m is None:
        return None
    owner = User(int(m["user_id"]), str(m["user"]), str(m["user_role"]), m["password_hash"] is not None,
                 m["unix_principal"], m["user_created"])
    return _token(m), owner


def revoke_token(cat: Catalog, token_id: int) -> Token:
    def write(conn: sa.Connection) -> int:
        return conn.execute(web_tokens.update().where(web_tokens.c.id == token_id, web_tokens.c.revoked_at.is_(None))
                            .values(revoked_at=now())).rowcount

    cat.write(write)
    for t in list_tokens(cat):
        if t.id == token_id:
            return t
    raise UnknownNameError(f"unknown token {token_id}", "list them with `labvault token list`")
