"""Users and API tokens of the dashboard server (``labvault serve``)::

    from labvault import api

    api.user_add("ada", "admin", password="correct horse battery staple")
    new = api.token_create("ada", role="viewer", expires_days=30)
    print(new.token)                   # shown once; the catalog keeps only its SHA-256
    api.authenticate_token(new.token)  # the user, with the token's role

Passwords are hashed with argon2id (argon2-cffi's defaults). A token is 32 random bytes
(``lv_`` + URL-safe base64): guessing one is hopeless, so a plain SHA-256 of it is what is stored
and looked up. Every function takes ``catalog_url`` (default: the one ``server_catalog_url`` picks).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from labvault.api.access_control import parse_principal
from labvault.catalog import web_users as _users
from labvault.catalog.store import Catalog, now, open_catalog
from labvault.catalog.web_users import ROLES, Token, User
from labvault.errors import ConfigError, UnknownNameError, UsageError

if TYPE_CHECKING:  # argon2 is imported when a password is hashed or checked
    from argon2 import PasswordHasher

PathLike = str | os.PathLike[str]

__all__ = ["ROLES", "NewToken", "Token", "User", "admin_exists", "authenticate_password", "authenticate_token",
           "server_catalog_url", "session_stamp", "token_create", "token_list", "token_revoke", "user_add", "user_by_id",
           "user_for_session", "user_list", "user_remove"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MIN_PASSWORD = 8
TOKEN_PREFIX = "lv_"


@dataclass(frozen=True)
class NewToken:
    token: str  # the secret itself: shown once, never stored
    info: Token


def server_catalog_url(lab: PathLike | None = None, catalog_url: str | None = None) -> str | None:
    """``catalog_url``, else LABVAULT_CATALOG_URL, else the lab config's ``catalog_url`` (when a lab
    config is found), else None (the default SQLite catalog)."""
    if catalog_url or os.environ.get("LABVAULT_CATALOG_URL"):
        return catalog_url or os.environ["LABVAULT_CATALOG_URL"]
    from labvault.tiers.load import load_lab

    try:
        return load_lab(lab).catalog_url or None
    except ConfigError:
        if lab is not None:
            raise
        return None


def _cat(catalog_url: str | None) -> Catalog:
    return open_catalog(catalog_url)


def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher

    return PasswordHasher()


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UsageError(f"unknown role {role!r}", f"use one of {', '.join(ROLES)}")


def user_add(name: str, role: str, password: str | None = None, unix: str | None = None,
             catalog_url: str | None = None) -> User:
    """Add a user; without ``password`` it signs in with API tokens only. ``unix`` (a user or group
    of this machine, as ``labvault access`` names them) ties it to the access grants of that principal."""
    if not _NAME.match(name):
        raise UsageError(f"invalid user name {name!r}", "use letters, digits, '.', '_' or '-' (at most 64)")
    _check_role(role)
    if password is not None and len(password) < MIN_PASSWORD:
        raise UsageError(f"the password is shorter than {MIN_PASSWORD} characters", "choose a longer one")
    principal = str(parse_principal(unix)) if unix is not None else None
    hashed = _hasher().hash(password) if password is not None else None
    return _users.add_user(_cat(catalog_url), name, role, hashed, principal)


def user_list(catalog_url: str | None = None) -> list[User]:
    return _users.list_users(_cat(catalog_url))


def user_remove(name: str, dry_run: bool = False, catalog_url: str | None = None) -> User:
    """Remove a user and its tokens (with ``dry_run``, only say which)."""
    cat = _cat(catalog_url)
    return _users.get_user(cat, name) if dry_run else _users.remove_user(cat, name)


def _stamp(password_hash: str | None) -> str | None:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:32] if password_hash else None


def session_stamp(user_id: int, catalog_url: str | None = None) -> str | None:
    """What a session cookie of this user carries to stay valid: a digest of its password hash, so
    that a new password, or a user removed and made again under the same name (and id), ends the
    sessions signed before. None for a user without a password."""
    found = _users.find_user(_cat(catalog_url), user_id=user_id)
    return _stamp(found[1]) if found is not None else None


def user_for_session(user_id: int, name: str, stamp: str, catalog_url: str | None = None) -> User | None:
    """The user a session names, when the id, the name and the stamp all still match."""
    found = _users.find_user(_cat(catalog_url), user_id=user_id)
    if found is None or found[0].name != name:
        return None
    current = _stamp(found[1])
    return found[0] if current is not None and hmac.compare_digest(current, stamp) else None


def user_by_id(user_id: int, catalog_url: str | None = None) -> User | None:
    found = _users.find_user(_cat(catalog_url), user_id=user_id)
    return None if found is None else found[0]


def admin_exists(catalog_url: str | None = None) -> bool:
    return any(u.role == "admin" for u in user_list(catalog_url))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_create(user: str, role: str | None = None, expires_days: float | None = None,
                 catalog_url: str | None = None) -> NewToken:
    """A new API token for ``user`` with ``role`` (default and at most the user's own)."""
    cat = _cat(catalog_url)
    owner = _users.get_user(cat, user)
    role = role or owner.role
    _check_role(role)
    if ROLES.index(role) > ROLES.index(owner.role):
        raise UsageError(f"user {user!r} is {owner.role}: a token cannot have role {role}",
                         f"pass --role {owner.role} or lower")
    if expires_days is not None and expires_days <= 0:
        raise UsageError("--expires must be a positive number of days", "e.g. --expires 30")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = now() + timedelta(days=expires_days) if expires_days is not None else None
    return NewToken(token, _users.add_token(cat, owner, role, _token_hash(token), token[:10], expires))


def token_list(user: str | None = None, catalog_url: str | None = None) -> list[Token]:
    return _users.list_tokens(_cat(catalog_url), user)


def token_revoke(token_id: int, dry_run: bool = False, catalog_url: str | None = None) -> Token:
    cat = _cat(catalog_url)
    if dry_run:
        for t in _users.list_tokens(cat):
            if t.id == token_id:
                return t
        raise UnknownNameError(f"unknown token {token_id}", "list them with `labvault token list`")
    return _users.revoke_token(cat, token_id)


# A hash of a random password: verifying an unknown user's password costs as much as a known one's,
# so that timing does not tell which user names exist.
_DUMMY: list[str] = []


def authenticate_password(name: str, password: str, catalog_url: str | None = None) -> User | None:
    """The user when ``password`` is theirs, else None (in about the same time either way)."""
    from argon2.exceptions import VerificationError, VerifyMismatchError

    hasher = _hasher()
    if not _DUMMY:
        _DUMMY.append(hasher.hash(secrets.token_hex(16)))
    found = _users.find_user(_cat(catalog_url), name) if _NAME.match(name) else None
    stored = found[1] if found is not None and found[1] else _DUMMY[0]
    try:
        hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError):
        return None
    return found[0] if found is not None and found[1] else None


def authenticate_token(token: str, catalog_url: str | None = None, at: datetime | None = None) -> User | None:
    """The token's owner with the token's role when it is known, not revoked and not expired."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    cat = _cat(catalog_url)
    found = _users.find_token(cat, _token_hash(token))
    if found is None:
        return None
    info, user = found
    when = at or now()
    if info.revoked is not None or (info.expires is not None and info.expires <= when):
        return None
    role = min(info.role, user.role, key=ROLES.index)
    return replace(user, role=role)
