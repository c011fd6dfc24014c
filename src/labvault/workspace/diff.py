"""``diff``: outputs and their files added, deleted, modified and renamed between two revisions
(or a revision and the workspace), as ``dvc diff`` reports them.

Each side is an index of entries: every cached output (from ``.dvc`` files, and from ``dvc.lock``
through the ``extra`` outputs the caller passes) and every file inside a folder output. A folder
output is an entry of its own, written ``path/``; folders inside it are not. Entries are compared
by path: one side only is added or deleted, both with another oid (or a file turned folder) is
modified. Then, as DVC does, each added entry whose oid equals a deleted one's is a rename (pairs
taken in path order, by path components). When a folder's manifest is missing from the cache on
either side, only the folder itself is compared. Against the workspace, ``not_in_cache`` lists
the entries of the old side, changed or not, whose object the cache lacks.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

from labvault.workspace.index import Tracked, outputs_at_rev, workspace_outputs
from labvault.workspace.repo import Repo
from labvault.workspace.scan import Scanner

WORKSPACE = "workspace"


@dataclass(frozen=True)
class Recorded:
    """An output a revision records (``oid`` None: the workspace, where it is hashed)."""

    rel: str
    oid: str | None = None
    legacy: bool = False


@dataclass(frozen=True)
class DiffReport:
    a_rev: str
    b_rev: str
    added: tuple[str, ...]
    deleted: tuple[str, ...]
    modified: tuple[str, ...]
    incomplete: tuple[str, ...]  # folder outputs whose manifest is not in the cache: compared whole
    renamed: tuple[tuple[str, str], ...] = ()  # (old path, new path)
    not_in_cache: tuple[str, ...] | None = None  # only against the workspace

    @property
    def empty(self) -> bool:
        return not (self.added or self.deleted or self.modified or self.renamed or self.not_in_cache)


@dataclass(frozen=True)
class _Entry:
    oid: str
    legacy: bool
    is_dir: bool


class Side:
    """Entries by path (folder outputs end in ``/``), and folders whose files are unknown."""

    def __init__(self) -> None:
        self.entries: dict[str, _Entry] = {}
        self.unknown: set[str] = set()

    def add_output(self, repo: Repo, rel: str, oid: str, legacy: bool, files: dict[str, str] | None = None) -> None:
        if not oid.endswith(".dir"):
            self.entries[rel] = _Entry(oid, legacy, False)
            return
        self.entries[rel + "/"] = _Entry(oid, legacy, True)
        if files is None:
            tree = repo.odb.try_load_tree(oid, legacy)
            files = None if tree is None else dict(tree)
        if files is None:
            self.unknown.add(rel + "/")
            return
        for sub, child in files.items():
            self.entries[f"{rel}/{sub}"] = _Entry(child, legacy, False)


def _recorded_side(repo: Repo, sha: str, extra: list[Recorded]) -> Side:
    outputs = [Recorded(t.rel, t.out.oid, t.out.legacy) for t in outputs_at_rev(repo, sha) if t.out.use_cache]
    return recorded_side(repo, [*outputs, *extra])


def recorded_side(repo: Repo, records: list[Recorded]) -> Side:
    """The entries of outputs as recorded (those without an oid are left out)."""
    side = Side()
    for r in records:
        if r.oid is not None:
            side.add_output(repo, r.rel, r.oid, r.legacy)
    return side


def workspace_side(repo: Repo, tracked: list[Tracked], extra: list[Recorded]) -> Side:
    """The entries of outputs as the workspace holds them now (hashed, the stat cache helping)."""
    side = Side()
    wanted = [Recorded(t.rel, None, t.out.legacy) for t in tracked if t.out.use_cache] + extra
    seen: set[str] = set()
    for r in wanted:
        if r.rel in seen:
            continue
        seen.add(r.rel)
        content = Scanner(repo, store=False, legacy=r.legacy).scan(r.rel)
        if content is None:
            continue
        side.add_output(repo, r.rel, content.oid, r.legacy, content.files() if content.is_dir else None)
    return side


def _parts(path: str) -> tuple[str, ...]:
    return tuple(p for p in path.split("/") if p)


def under_unknown(path: str, unknown: set[str]) -> bool:
    return any(path != u and path.startswith(u) for u in unknown)


def compare(old: Side, new: Side) -> tuple[list[str], list[str], list[str], list[tuple[str, str]]]:
    """(added, deleted, modified, renamed), each sorted by path (renames by old path)."""
    unknown = old.unknown | new.unknown
    added, deleted, modified = [], [], []
    for path in old.entries.keys() | new.entries.keys():
        if under_unknown(path, unknown):
            continue
        a, b = old.entries.get(path), new.entries.get(path)
        if a is None:
            added.append(path)
        elif b is None:
            deleted.append(path)
        elif (a.oid, a.legacy) != (b.oid, b.legacy):
            modified.append(path)
    # a path that is a file on one side and a folder output on the other: one modification
    for path in [p for p in added if p.endswith("/") and p[:-1] in deleted]:
        added.remove(path)
        deleted.remove(path[:-1])
        modified.append(path[:-1])
    for path in [p for p in deleted if p.endswith("/") and p[:-1] in added]:
        deleted.remove(path)
        added.remove(path[:-1])
        modified.append(path)
    gone: dict[tuple[str, bool], deque[str]] = defaultdict(deque)
    for path in sorted(deleted, key=_parts):
        e = old.entries[path]
        gone[(e.oid, e.legacy)].append(path)
    renamed: list[tuple[str, str]] = []
    still_added = []
    for path in sorted(added, key=_parts):
        e = new.entries[path]
        queue = gone.get((e.oid, e.legacy))
        if queue:
            renamed.append((queue.popleft(), path))
        else:
            still_added.append(path)
    still_deleted = [p for q in gone.values() for p in q]
    return sorted(still_added), sorted(still_deleted), sorted(modified), sorted(renamed)


def diff(
    repo: Repo, a_rev: str | None = None, b_rev: str | None = None,
    extra: Callable[[str | None], list[Recorded]] | None = None,
) -> DiffReport:
    """``extra(sha)``: the outputs other than pointers (pipeline outputs) a revision records, or
    (``sha`` None) the workspace's; labvault's api passes the ones ``dvc.lock``/``dvc.yaml`` name."""
    git = repo.require_scm()
    a = a_rev or "HEAD"
    more = extra or (lambda sha: [])
    if not git.has_commits():
        return DiffReport(a, b_rev or WORKSPACE, (), (), (), ())
    a_sha = git.resolve(a)
    if b_rev is not None and git.resolve(b_rev) == a_sha:
        return DiffReport(a, b_rev, (), (), (), ())
    old = _recorded_side(repo, a_sha, more(a_sha))
    if b_rev is None:
        new = workspace_side(repo, workspace_outputs(repo), more(None))
    else:
        new = _recorded_side(repo, git.resolve(b_rev), more(git.resolve(b_rev)))
    added, deleted, modified, renamed = compare(old, new)
    missing: tuple[str, ...] | None = None
    if b_rev is None:
        missing = tuple(sorted(
            p for p, e in old.entries.items()
            if not under_unknown(p, old.unknown | new.unknown) and not repo.odb.exists(e.oid, e.legacy)
        ))
    incomplete = tuple(sorted(u.rstrip("/") for u in old.unknown | new.unknown))
    return DiffReport(
        a, b_rev or WORKSPACE, tuple(added), tuple(deleted), tuple(modified), incomplete,
        tuple(renamed), missing,
    )
