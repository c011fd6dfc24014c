"""``status``: what differs between the workspace and the pointers, down to files in folders."""

from __future__ import annotations

from dataclasses import dataclass, field

from labvault.workspace.index import Tracked, select, workspace_outputs
from labvault.workspace.prefetch import Prefetch
from labvault.workspace.repo import Repo
from labvault.workspace.scan import Scanner


@dataclass(frozen=True)
class OutputStatus:
    path: str
    pointer: str
    status: str  # clean | modified | deleted | not_in_cache | not_committed
    added: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()  # files of a folder whose objects are not in the cache


@dataclass(frozen=True)
class StatusReport:
    outputs: tuple[OutputStatus, ...] = field(default_factory=tuple)

    @property
    def clean(self) -> bool:
        return all(o.status == "clean" for o in self.outputs)


def status(repo: Repo, targets: list[str] | None = None) -> StatusReport:
    tracked = select(workspace_outputs(repo), repo, targets)
    # A helper process lists the outputs from the other end (workspace.prefetch).
    helper = Prefetch([str(repo.abspath(t.rel)) for t in tracked if t.out.oid is not None]).start()
    try:
        return StatusReport(tuple(output_status(repo, t) for t in tracked))
    finally:
        helper.stop()


def output_status(repo: Repo, t: Tracked) -> OutputStatus:
    out = t.out
    if out.oid is None:
        return OutputStatus(t.rel, t.pointer_rel, "not_committed")
    # A folder that changed is compared file by file with its manifest: its new tree oid (a JSON
    # document of every file, hashed) is never needed to say what changed.
    scanner = Scanner(repo, store=False, legacy=out.legacy, need_oid=not out.is_dir, check_cache=out.use_cache)
    current = scanner.scan(t.rel, recorded=None if out.legacy else out.oid)
    if current is None:
        return OutputStatus(t.rel, t.pointer_rel, "deleted")
    # Content as recorded: every object it names (the manifest and each file inside) must be in
    # the cache, else the output is "not in cache", as dvc says.
    missing = tuple(current.missing)
    in_cache = not out.use_cache or (not missing and repo.odb.exists(out.oid, out.legacy))

    def unchanged() -> OutputStatus:
        if in_cache:
            return OutputStatus(t.rel, t.pointer_rel, "clean")
        return OutputStatus(t.rel, t.pointer_rel, "not_in_cache", missing=missing if out.is_dir else ())

    if current.oid == out.oid:
        return unchanged()
    if not out.is_dir or not current.is_dir:
        return OutputStatus(t.rel, t.pointer_rel, "modified")
    if current.delta is not None and current.delta_base == out.oid:
        # The stat cache last saw exactly the recorded tree: what changed since is what differs.
        added, modified, deleted = current.delta
        if not (added or modified or deleted):  # touched, not changed
            return unchanged()
        return OutputStatus(t.rel, t.pointer_rel, "modified", added, modified, deleted)
    old = repo.odb.try_load_tree(out.oid, out.legacy)
    if old is None:
        return OutputStatus(t.rel, t.pointer_rel, "modified")
    before = old.as_dict()
    now = current.files()
    if now == before:  # touched, not changed
        return unchanged()
    added = tuple(sorted(r for r in now if r not in before))
    deleted = tuple(sorted(r for r in before if r not in now))
    modified = tuple(sorted(r for r, o in now.items() if r in before and before[r] != o))
    return OutputStatus(t.rel, t.pointer_rel, "modified", added, modified, deleted)
