"""``data status``: tracked data in three places, as ``dvc data status`` compares them.

* **committed** changes: what the pointers (``.dvc`` files, ``dvc.lock``) record now against what
  they recorded at git's HEAD: recorded, not yet committed to git;
* **uncommitted** changes: the workspace's data against what the pointers record now: changed,
  not yet recorded (``labvault commit``/``add`` records it, ``checkout`` undoes it);
* **not in cache**: recorded objects the cache lacks.

Each is listed per output (a folder output written ``path/``), or with ``granular`` per file
inside folders too. The comparison is ``diff``'s (entries by path, renames by equal oids); a
folder whose manifest is missing is compared whole. A declared stage output that no ``dvc.lock``
records yet counts as recorded nowhere (present in the workspace: an uncommitted addition), as in
DVC. The workspace is hashed through the stat cache, with ``status``'s trust rules.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from labvault.core.tree import OID
from labvault.workspace.diff import (
    Recorded,
    Side,
    compare,
    recorded_side,
    under_unknown,
    workspace_side,
)
from labvault.workspace.index import Tracked, outputs_at_rev, workspace_outputs
from labvault.workspace.repo import Repo

STATES = ("added", "deleted", "modified", "renamed")


@dataclass(frozen=True)
class Changes:
    """Paths per kind of change (each sorted); renames as (old, new)."""

    added: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    renamed: tuple[tuple[str, str], ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.added or self.deleted or self.modified or self.renamed)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: list(v) for k, v in
                               (("added", self.added), ("deleted", self.deleted), ("modified", self.modified)) if v}
        if self.renamed:
            out["renamed"] = [{"old": a, "new": b} for a, b in self.renamed]
        return out


@dataclass(frozen=True)
class DataStatus:
    committed: Changes
    uncommitted: Changes
    not_in_cache: tuple[str, ...]
    untracked: tuple[str, ...] | None = None  # asked for: files neither git nor labvault tracks
    unchanged: tuple[str, ...] | None = None  # asked for
    git_dirty: bool = False  # git sees changes (beyond the data's)
    git_empty: bool = False  # no commit yet: everything recorded is a committed addition
    granular: bool = field(default=False, repr=False)
    not_in_remote: tuple[str, ...] = ()  # asked for: recorded outputs (or files) the remote lacks

    @property
    def clean(self) -> bool:
        return self.committed.empty and self.uncommitted.empty and not self.not_in_cache

    def to_json(self) -> dict[str, Any]:
        """dvc's shape: only the parts that hold something."""
        out: dict[str, Any] = {}
        if self.not_in_cache:
            out["not_in_cache"] = list(self.not_in_cache)
        if self.not_in_remote:
            out["not_in_remote"] = list(self.not_in_remote)
        for key, changes in (("committed", self.committed), ("uncommitted", self.uncommitted)):
            if not changes.empty:
                out[key] = changes.to_json()
        if self.untracked:
            out["untracked"] = list(self.untracked)
        if self.unchanged:
            out["unchanged"] = list(self.unchanged)
        return out


@dataclass(frozen=True)
class Scope:
    """The paths ``data status TARGETS`` is limited to (repo-relative, POSIX); None: everything."""

    paths: tuple[str, ...] | None = None

    @classmethod
    def of(cls, repo: Repo, targets: list[str] | None) -> Scope:
        if not targets:
            return cls()
        paths: list[str] = []
        for target in targets:
            absolute = os.path.normpath(os.path.join(repo.base, target))
            if os.path.realpath(absolute) == str(repo.root):
                return cls()  # the whole repository
            paths.append(repo.rel(Path(target)))
        return cls(tuple(dict.fromkeys(paths)))

    def touches(self, output: str) -> bool:
        """Whether the output at ``output`` is, holds or lies in a target."""
        return self.paths is None or any(output == p or output.startswith(p + "/") or p.startswith(output + "/")
                                         for p in self.paths)

    def holds(self, shown: str) -> bool:
        """Whether a listed path (a folder's ends in ``/``) is a target or lies in one."""
        path = shown.rstrip("/")
        return self.paths is None or any(path == p or path.startswith(p + "/") for p in self.paths)

    def limit(self, status: DataStatus) -> DataStatus:
        if self.paths is None:
            return status

        def only(paths: tuple[str, ...] | None) -> tuple[str, ...] | None:
            return None if paths is None else tuple(p for p in paths if self.holds(p))

        def changes(c: Changes) -> Changes:
            # A rename is seen only with both ends in scope; with one, it is what that end alone shows
            # (dvc compares the scoped paths only).
            added = [*(only(c.added) or ()), *(b for a, b in c.renamed if self.holds(b) and not self.holds(a))]
            deleted = [*(only(c.deleted) or ()), *(a for a, b in c.renamed if self.holds(a) and not self.holds(b))]
            return Changes(tuple(sorted(added)), tuple(sorted(deleted)), only(c.modified) or (),
                           tuple((a, b) for a, b in c.renamed if self.holds(a) and self.holds(b)))

        return replace(status, committed=changes(status.committed), uncommitted=changes(status.uncommitted),
                       not_in_cache=only(status.not_in_cache) or (), untracked=only(status.untracked),
                       unchanged=only(status.unchanged), not_in_remote=only(status.not_in_remote) or ())


def _changes(old: Side, new: Side, keep: set[str] | None) -> Changes:
    added, deleted, modified, renamed = compare(old, new)

    def kept(p: str) -> bool:
        return keep is None or p in keep

    return Changes(
        tuple(p for p in added if kept(p)), tuple(p for p in deleted if kept(p)),
        tuple(p for p in modified if kept(p)), tuple((a, b) for a, b in renamed if kept(a) or kept(b)),
    )


def _roots(*sides: Side) -> set[str]:
    """The entries that are outputs themselves (not files inside a folder output)."""
    roots: set[str] = set()
    for side in sides:
        folders = [p for p, e in side.entries.items() if e.is_dir]
        roots.update(folders)
        roots.update(p for p in side.entries if not side.entries[p].is_dir
                     and not any(p.startswith(f) for f in folders))
    return roots


def data_status(
    repo: Repo,
    recorded: list[Recorded],
    at_head: list[Recorded] | None,
    to_scan: list[Recorded],
    tracked: list[Tracked] | None = None,
    granular: bool = False,
    unchanged: bool = False,
    untracked: bool = False,
) -> DataStatus:
    """``recorded``: the cached outputs the pointers record now (``.dvc`` files and ``dvc.lock``);
    ``at_head``: those git's HEAD records (None: no commit yet); ``to_scan``: the stage outputs to
    hash in the workspace (pointer outputs come from ``tracked``, default the workspace's)."""
    tracked = workspace_outputs(repo) if tracked is None else tracked
    pointers = [Recorded(t.rel, recorded_oid(t), t.out.legacy) for t in tracked if t.out.use_cache]
    now = recorded_side(repo, [*pointers, *recorded])
    head = recorded_side(repo, at_head or [])
    ws = workspace_side(repo, tracked, to_scan)
    keep = None if granular else _roots(now, head, ws)
    committed = _changes(head, now, keep)
    uncommitted = _changes(now, ws, keep)
    missing = tuple(sorted(
        p for p, e in now.entries.items()
        if (keep is None or p in keep) and not under_unknown(p, now.unknown) and not repo.odb.exists(e.oid, e.legacy)
    ))
    same: tuple[str, ...] | None = None
    if unchanged:
        changed = {p for c in (committed, uncommitted) for p in (*c.added, *c.deleted, *c.modified)}
        changed |= {p for c in (committed, uncommitted) for pair in c.renamed for p in pair}
        entries = set(now.entries) | set(ws.entries)
        same = tuple(sorted(p for p in entries if p not in changed and (keep is None or p in keep)
                            and p in now.entries and p in ws.entries))
    others: tuple[str, ...] | None = None
    dirty = False
    git = repo.scm
    if git is not None:
        prefix = repo.root.relative_to(git.root).as_posix()
        prefix = "" if prefix == "." else prefix + "/"
        changes = [(code, path[len(prefix):]) for code, path in git.status(untracked) if path.startswith(prefix)]
        dirty = bool(changes)
        if untracked:
            others = tuple(sorted(path for code, path in changes if code == "??"))
    return DataStatus(committed, uncommitted, missing, others, same, dirty, at_head is None, granular)


def recorded_at_head(repo: Repo, extra: list[Recorded]) -> list[Recorded] | None:
    """The cached outputs HEAD's pointers record plus ``extra`` (HEAD's dvc.lock ones), or None
    without a commit."""
    git = repo.scm
    if git is None or not git.has_commits():
        return None
    sha = git.resolve("HEAD")
    return [*(Recorded(t.rel, recorded_oid(t), t.out.legacy) for t in outputs_at_rev(repo, sha) if t.out.use_cache),
            *extra]




def recorded_oid(t: Tracked) -> str | None:
    """The output's recorded oid; for an import recorded without its data (``import-url
    --no-download``), the checksum of its source that the import records, as dvc counts it: its
    md5, or an object's ETag when that is one (32 hex digits: the md5 of a single-PUT object)."""
    if t.out.oid is not None:
        return t.out.oid
    deps = t.pointer.extra.get("deps")
    if isinstance(deps, list) and len(deps) == 1 and isinstance(deps[0], dict):
        for key in ("md5", "etag"):
            value = deps[0].get(key)
            if isinstance(value, str) and OID.fullmatch(value) and (key == "md5" or "." not in value):
                return value
    return None
