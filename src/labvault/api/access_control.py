"""Access control: who may read or write which data, applied with POSIX ACLs and recorded in the
catalog (distinct from ``labvault.api.access``, the log of reads used by the tiers)::

    from labvault import api

    api.access_grant("group:ml", "read", ["/mnt/ssd0/datasets/imagenet_v2"])
    api.access_grant("alice", "write", ["data/processed"])     # a user or a group, by name
    api.access_revoke("alice", "write", ["data/processed"])     # leaves read
    api.access_show(["data/processed"])
    api.access_for("alice").may("/repo/data/processed/x.csv", "read")   # what the dashboard asks

A grant gives a principal exactly ``read`` (r-x on folders, r on files) or ``write`` (adds w) on a
file or folder tree: an ACL entry on every file and folder, and a default entry on folders so that
new files inherit it (``labvault.core.acl``). Targets are files or folders inside a repository's
workspace or on a folder tier of the lab, or lab datasets by name. Every target and the principal
are checked before anything changes; ``dry_run`` changes nothing. Write access to protected data is
refused: lift the protection first. ``access_check`` (``labvault.api.access_audit``) compares the
file system with these records.
"""

from __future__ import annotations

import grp
import os
import pwd
from dataclasses import dataclass

from labvault.api.data_targets import catalog_for, resolve_place
from labvault.api.protection import who
from labvault.catalog.grants import Grant, grants, set_grant
from labvault.catalog.protections import protection_list
from labvault.catalog.store import now
from labvault.core import acl, readonly
from labvault.core.acl import PERMISSIONS, Principal
from labvault.errors import UsageError, from_os_error

PathLike = str | os.PathLike[str]

__all__ = ["Access", "Grant", "GrantResult", "access_for", "access_grant", "access_revoke", "access_show",
           "parse_principal", "within"]

_RANK = {None: 0, "read": 1, "write": 2}


@dataclass(frozen=True)
class GrantResult:
    """A principal's permission on one path before and after (None: no access recorded)."""

    principal: str
    target: str
    path: str
    before: str | None
    after: str | None
    dry_run: bool

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class Access:
    """What a principal may read and write: the roots of its grants (its own and, for a user,
    those of its groups); write implies read; protected data is never writable."""

    principal: str
    groups: tuple[str, ...]
    read: tuple[str, ...]
    write: tuple[str, ...]
    protected: tuple[str, ...] = ()

    def may(self, path: str, permission: str = "read") -> bool:
        path = os.path.abspath(path)
        if permission == "write" and any(within(path, r) for r in self.protected):
            return False
        roots = self.write if permission == "write" else self.read + self.write
        return any(within(path, r) for r in roots)


def within(path: str, root: str) -> bool:
    """``path`` is ``root`` or inside it."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _user(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def _group(name: str) -> grp.struct_group | None:
    try:
        return grp.getgrnam(name)
    except KeyError:
        return None


def parse_principal(text: str) -> Principal:
    """``user:NAME``, ``group:NAME`` (or ``u:``/``g:``), or a bare name: the user of that name,
    else the group; UsageError when it names neither or both (then a prefix is needed)."""
    kind, sep, name = text.partition(":")
    if sep and kind in ("user", "u", "group", "g"):
        kind = "user" if kind in ("user", "u") else "group"
    else:
        kind, name = "", text
    if not name or any(c in name for c in ":,\n") or name.startswith("-"):
        raise UsageError(f"{text!r} is not a user or group name", "write USER, GROUP, user:USER or group:GROUP")
    is_user, is_group = _user(name) is not None, _group(name) is not None
    if (kind == "user" and not is_user) or (kind == "group" and not is_group):
        raise UsageError(f"no {kind} named {name} on this machine", f"check the name (getent {kind} {name})")
    if not kind:
        if is_user and is_group:
            raise UsageError(f"{name} is both a user and a group", f"write user:{name} or group:{name}")
        if not (is_user or is_group):
            raise UsageError(f"no user or group named {name} on this machine", "check the name (getent passwd/group)")
        kind = "user" if is_user else "group"
    return Principal(kind, name)


def _check_permission(permission: str) -> None:
    if permission not in PERMISSIONS:
        raise UsageError(f"unknown permission {permission!r}", "use read or write")


def _change(principal: str, permission: str, targets: list[str], revoke: bool, dry_run: bool,
            repo: PathLike | None, lab: PathLike | None, catalog_url: str | None) -> list[GrantResult]:
    _check_permission(permission)
    who_ = parse_principal(principal)
    tool = acl.missing_tool()
    if tool is not None:
        raise UsageError(f"{tool} is not installed", "install the `acl` package (apt-get install acl), then retry")
    cat = catalog_for(lab, catalog_url)
    places = [p for t in targets for p in resolve_place(t, lab, lambda: cat, repo)]
    protected = [p.path for p in protection_list(cat)]
    current = {g.path: g for g in grants(cat, [p.path for p in places], [(who_.kind, who_.name)])}
    plan: list[tuple[str, str, str | None, str | None]] = []
    for p in places:
        before = current[p.path].permission if p.path in current else None
        if revoke:
            after = None if permission == "read" else ("read" if before == "write" else before)
        else:
            after = permission if _RANK[permission] > _RANK[before] else before
            if after == "write" and any(within(p.path, r) or within(r, p.path) for r in protected):
                raise UsageError(f"{p.path} is protected: it cannot be made writable",
                                 f"grant read, or lift the protection first with `labvault unprotect {p.target}`")
        plan.append((p.path, p.target, before, after))
    results = []
    for path, target, before, after in plan:
        if not dry_run:
            _apply(path, who_, after, protected)
            row = Grant(who_.kind, who_.name, after, path, target, now(), who()) if after else None
            set_grant(cat, row, who_.kind, who_.name, path)
        results.append(GrantResult(str(who_), target, path, before, after, dry_run))
    return results


def _apply(path: str, who_: Principal, permission: str | None, protected: list[str]) -> None:
    """Set the ACL entries; protected trees carrying the immutable flag lose it for the change
    and get it back after (the flag refuses ACL changes too)."""
    flagged = [r for r in protected if (within(r, path) or within(path, r)) and readonly.is_immutable(r)]
    try:
        for r in flagged:
            readonly.clear_immutable(r)
        try:
            acl.apply(path, who_, permission)
        finally:
            for r in flagged:
                readonly.make_read_only(r)
    except OSError as exc:
        raise from_os_error(exc, "changing the ACL of") from exc


def access_grant(principal: str, permission: str, targets: list[str], dry_run: bool = False,
                 repo: PathLike | None = None, lab: PathLike | None = None,
                 catalog_url: str | None = None) -> list[GrantResult]:
    """Give ``principal`` ``permission`` (read, write) on ``targets``; a higher permission it
    already holds is kept."""
    return _change(principal, permission, targets, False, dry_run, repo, lab, catalog_url)


def access_revoke(principal: str, permission: str, targets: list[str], dry_run: bool = False,
                  repo: PathLike | None = None, lab: PathLike | None = None,
                  catalog_url: str | None = None) -> list[GrantResult]:
    """Take ``permission`` away: revoking write leaves read, revoking read removes every entry."""
    return _change(principal, permission, targets, True, dry_run, repo, lab, catalog_url)


def access_show(targets: list[str] | None = None, repo: PathLike | None = None, lab: PathLike | None = None,
                catalog_url: str | None = None) -> list[Grant]:
    """The recorded grants on ``targets`` (all of them when None)."""
    cat = catalog_for(lab, catalog_url)
    if not targets:
        return grants(cat)
    paths = [p.path for t in targets for p in resolve_place(t, lab, lambda: cat, repo)]
    return [g for g in grants(cat) if any(within(p, g.path) or within(g.path, p) for p in paths)]


def _groups_of(name: str) -> tuple[str, ...]:
    user = _user(name)
    if user is None:
        return ()
    names = []
    for gid in os.getgrouplist(name, user.pw_gid):
        try:
            names.append(grp.getgrgid(gid).gr_name)
        except KeyError:
            continue
    return tuple(sorted(set(names)))


def access_for(principal: str, lab: PathLike | None = None, catalog_url: str | None = None) -> Access:
    """What ``principal`` (a user with its groups, or a group) may read and write, by the records."""
    who_ = parse_principal(principal)
    groups = _groups_of(who_.name) if who_.kind == "user" else ()
    keys = [(who_.kind, who_.name), *(("group", g) for g in groups)]
    cat = catalog_for(lab, catalog_url)
    protected = [p.path for p in protection_list(cat)]
    rows = grants(cat, None, keys)
    read = sorted({g.path for g in rows})
    write = sorted({g.path for g in rows if g.permission == "write"})
    return Access(str(who_), groups, tuple(read), tuple(write), tuple(sorted(protected)))
