"""``access check``: the file system compared with the recorded grants and protections::

    from labvault import api

    report = api.access_check()          # every recorded grant and protection (or some targets)
    for p in report.problems:
        print(p.line())

Problems, each one line (``kind``): ``missing`` (a recorded path is gone), ``world_writable``
(a file or folder anyone may write), ``mixed_group`` (a file or folder whose group differs from
its root's: the group's members may not reach it), ``missing_acl`` (a recorded grant without its
ACL entry, with fewer permissions, or a folder without its default entry), ``extra_acl`` (an ACL
entry no grant records), ``protected_writable`` (protected data with a write bit, a writable ACL
entry, or without the immutable flag it was recorded with). The check only reads.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from labvault.api.access_control import within
from labvault.api.data_targets import catalog_for, resolve_place
from labvault.catalog.grants import Grant, grants
from labvault.catalog.protections import Protection, protection_list
from labvault.core import acl, readonly

PathLike = str | os.PathLike[str]

__all__ = ["AccessProblem", "AccessReport", "access_check"]


@dataclass(frozen=True)
class AccessProblem:
    path: str
    kind: str
    detail: str

    def line(self) -> str:
        return f"{self.path}: {self.detail}"


@dataclass(frozen=True)
class AccessReport:
    roots: tuple[str, ...]
    checked: int
    problems: tuple[AccessProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _expected(path: str, rows: list[Grant], protected: bool) -> dict[tuple[str, str], str]:
    """The named ACL entries ``path`` should carry, by the grants on it or on a folder above it."""
    want: dict[tuple[str, str], str] = {}
    for g in rows:
        if within(path, g.path):
            key = (g.principal_kind, g.principal)
            perm = "read" if protected else g.permission
            if want.get(key) != "write":
                want[key] = perm
    return want


def _acl_problems(f: acl.FileAcl, want: dict[tuple[str, str], str], protected: bool) -> list[AccessProblem]:
    out: list[AccessProblem] = []
    for (kind, name), perm in sorted(want.items()):
        have = f.effective((kind, name)) if (kind, name) in f.named else None
        need_w = perm == "write"
        if have is None or have[0] != "r" or (need_w and have[1] != "w"):
            shown = f.named.get((kind, name), "none")
            out.append(AccessProblem(f.path, "missing_acl", f"{kind} {name} is granted {perm} but its ACL entry is "
                                                            f"{shown}: run `labvault access grant {kind}:{name} {perm} "
                                                            f"PATH` again"))
        elif f.is_dir and (kind, name) not in f.default_named:
            out.append(AccessProblem(f.path, "missing_acl", f"{kind} {name} has no default ACL entry: new files "
                                                            "will not inherit its access"))
    for (kind, name), perms in sorted(f.named.items()):
        if (kind, name) not in want:
            out.append(AccessProblem(f.path, "extra_acl", f"ACL entry {kind}:{name}:{perms} is not recorded: revoke it "
                                                          f"with `labvault access revoke {kind}:{name} read PATH`"))
        elif protected and f.effective((kind, name))[1] == "w":
            out.append(AccessProblem(f.path, "protected_writable", f"protected, yet ACL entry {kind}:{name} may write"))
    return out


def _mode_problems(path: str, root_gid: int, prot: Protection | None) -> list[AccessProblem]:
    st = os.lstat(path)
    mode = stat.S_IMODE(st.st_mode)
    out: list[AccessProblem] = []
    if mode & 0o002:
        out.append(AccessProblem(path, "world_writable", f"anyone may write it (mode {mode:04o}): chmod o-w"))
    if st.st_gid != root_gid:
        out.append(AccessProblem(path, "mixed_group", f"group {_group_name(st.st_gid)} differs from its root's "
                                                      f"({_group_name(root_gid)}): chgrp it"))
    if prot is not None:
        if mode & 0o222:
            out.append(AccessProblem(path, "protected_writable", f"protected, yet mode {mode:04o} has write bits: "
                                                                 f"run `labvault protect {prot.target}` again"))
        if prot.immutable and not stat.S_ISLNK(st.st_mode) and (st.st_nlink == 1 or stat.S_ISDIR(st.st_mode)) \
                and not readonly.is_immutable(path):
            out.append(AccessProblem(path, "protected_writable", "protected, yet its immutable flag is gone: run "
                                                                 f"`labvault protect {prot.target}` again"))
    return out


def _group_name(gid: int) -> str:
    import grp

    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def access_check(targets: list[str] | None = None, repo: PathLike | None = None, lab: PathLike | None = None,
                 catalog_url: str | None = None) -> AccessReport:
    """Audit ``targets`` (default: every path with a recorded grant or protection)."""
    cat = catalog_for(lab, catalog_url)
    rows = grants(cat)
    prots = protection_list(cat)
    if targets:
        roots = sorted({p.path for t in targets for p in resolve_place(t, lab, lambda: cat, repo)})
    else:
        roots = sorted({g.path for g in rows} | {p.path for p in prots})
    roots = [r for r in roots if not any(r != o and within(r, o) for o in roots)]  # outermost only
    problems: list[AccessProblem] = []
    checked = 0
    use_acl = acl.missing_tool() is None
    for root in roots:
        if not os.path.lexists(root):
            problems.append(AccessProblem(root, "missing", "recorded in the catalog but gone from the file system"))
            continue
        root_gid = os.lstat(root).st_gid
        tree = readonly.list_tree(root)
        for path in [*tree.dirs, *tree.files]:
            checked += 1
            prot = next((p for p in prots if within(path, p.path)), None)
            problems += _mode_problems(path, root_gid, prot)
        if use_acl:
            for f in acl.read(root):
                prot = next((p for p in prots if within(f.path, p.path)), None)
                problems += _acl_problems(f, _expected(f.path, rows, prot is not None), prot is not None)
        elif any(within(g.path, root) for g in rows):
            problems.append(AccessProblem(root, "missing_acl", "getfacl is not installed: install the `acl` package "
                                                               "to check the ACL entries"))
    return AccessReport(tuple(roots), checked, tuple(problems))
