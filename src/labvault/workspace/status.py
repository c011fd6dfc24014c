"""``status``: what differs between the workspace and the pointers, down to files in folders."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from labvault.core.fanout import absent
from labvault.workspace.index import Tracked, select, workspace_outputs
from labvault.workspace.prefetch import Prefetch
from labvault.workspace.presence import recorded_missing, still_missing
from labvault.workspace.protected import is_protected
from labvault.workspace.repo import Repo
from labvault.workspace.scan import Scanner


@dataclass(frozen=True)
class OutputStatus:
    path: str
    pointer: str
    status: str  # clean | modified | deleted | not_in_cache | not_committed | not_downloaded
    added: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()  # files of the recorded folder whose objects are not in the cache
    protected: bool = False  # the pointer carries the protection marker (workspace.protected)
    # an import that is not frozen: its source (URL or path) -> "modified"/"deleted" when it
    # changed, "unreachable" when it could not be checked (``notes`` says why)
    changed_deps: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class StatusReport:
    outputs: tuple[OutputStatus, ...] = field(default_factory=tuple)

    @property
    def clean(self) -> bool:
        return all(o.status == "clean" and not o.changed_deps for o in self.outputs)


# Given the oids of objects the cache lacks, the ones held elsewhere (a tier the cache spilled to)
Elsewhere = Callable[[set[str]], set[str]]


def status(
    repo: Repo, targets: list[str] | None = None, read_ahead: bool = False, elsewhere: Elsewhere | None = None,
    tracked: list[Tracked] | None = None,
) -> StatusReport:
    """What differs; with ``read_ahead`` a helper process lists the outputs from the other end
    (``workspace.prefetch``: the command line asks for it, a library caller must opt in).
    ``elsewhere``: objects it names count as present (asked only about objects the cache lacks).
    ``tracked``: the selected outputs, when the caller has them already."""
    if tracked is None:
        tracked = select(workspace_outputs(repo), repo, targets)
    paths = [str(repo.abspath(t.rel)) for t in tracked if t.out.oid is not None]
    helper = Prefetch(paths, read_ahead).start()
    try:
        return StatusReport(tuple(output_status(repo, t, elsewhere) for t in tracked))
    finally:
        helper.stop()


def output_status(repo: Repo, t: Tracked, elsewhere: Elsewhere | None = None) -> OutputStatus:
    """As dvc: "not in cache" when an object of the recorded version (a file, a folder's manifest
    or any file inside it) is missing from the cache (and not ``elsewhere``), whether or not the
    workspace changed (the files that changed are listed all the same); else "modified" or "clean"."""
    status = _output_status(repo, t, elsewhere)
    return replace(status, protected=True) if is_protected(t.pointer) else status


def _output_status(repo: Repo, t: Tracked, elsewhere: Elsewhere | None) -> OutputStatus:
    out = t.out
    if out.oid is None:
        # an import recorded without its data (`import-url --no-exec`/`--no-download`): `update` gets
        # it. Once `pull` brought it, its hash is still not recorded: dvc calls that "modified"
        if not t.pointer.extra.get("deps"):
            return OutputStatus(t.rel, t.pointer_rel, "not_committed")
        here = os.path.lexists(repo.abspath(t.rel))
        return OutputStatus(t.rel, t.pointer_rel, "modified" if here else "not_downloaded")
    # A folder that changed is compared file by file with its manifest: its new tree oid (a JSON
    # document of every file, hashed) is never needed to say what changed.
    scanner = Scanner(repo, store=False, legacy=out.legacy, need_oid=not out.is_dir, check_cache=out.use_cache)
    current = scanner.scan(t.rel, recorded=None if out.legacy else out.oid)
    if current is None:
        # as dvc: an output whose recorded objects are gone too is "not in cache", not "deleted"
        absent_now = still_missing(recorded_missing(repo, out.oid, out.legacy), elsewhere, out.legacy) \
            if out.use_cache else {}
        if absent_now:
            return OutputStatus(t.rel, t.pointer_rel, "not_in_cache", missing=tuple(sorted(n for n in absent_now if n)))
        return OutputStatus(t.rel, t.pointer_rel, "deleted")
    odb = repo.odb
    base = odb.cache_dir if out.legacy else odb.root

    def verdict(
        changed: bool, added: tuple[str, ...] = (), modified: tuple[str, ...] = (), deleted: tuple[str, ...] = (),
        missing: tuple[str, ...] = (), oids: dict[str, str] | None = None,
    ) -> OutputStatus:
        top_missing = out.use_cache and not odb.exists(out.oid or "", out.legacy)
        if out.use_cache and (missing or top_missing) and elsewhere is not None and not out.legacy:
            missing, top_missing = _not_elsewhere(elsewhere, out.oid or "", top_missing, missing, oids or {})
        if out.use_cache and (missing or top_missing):
            return OutputStatus(t.rel, t.pointer_rel, "not_in_cache", added, modified, deleted, missing)
        return OutputStatus(t.rel, t.pointer_rel, "modified" if changed else "clean", added, modified, deleted)

    if current.oid == out.oid:
        if not out.is_dir or not current.missing:
            return verdict(False)
        return verdict(False, missing=tuple(current.missing), oids=current.files())
    if not out.is_dir or not current.is_dir:
        return verdict(True)
    if current.delta is not None and current.delta_base == out.oid:
        # The stat cache last saw exactly the recorded tree: what changed since is what differs.
        added, modified, deleted = current.delta
        changed = set(added) | set(modified)
        # Objects of the recorded tree: the scan confirmed those of the unchanged files; those of
        # the files that changed or went are looked up here.
        bases = {current.bases[n] for n in (*modified, *deleted) if n in current.bases}
        gone = absent(base, bases) if out.use_cache else set()
        missing = [n for n in current.missing if n not in changed]
        missing += [n for n in (*modified, *deleted) if current.bases.get(n) in gone]
        oids = {**current.files(), **current.bases} if missing and elsewhere is not None else {}
        return verdict(bool(added or modified or deleted), added, modified, deleted, tuple(sorted(missing)), oids)
    old = odb.try_load_tree(out.oid, out.legacy)
    if old is None:  # the recorded manifest is not in the cache (or unreadable)
        return verdict(True)
    before = old.as_dict()
    now = current.files()
    added = tuple(sorted(r for r in now if r not in before))
    deleted = tuple(sorted(r for r in before if r not in now))
    modified = tuple(sorted(r for r, o in now.items() if r in before and before[r] != o))
    gone = absent(base, set(before.values())) if out.use_cache else set()
    lost = tuple(sorted(r for r, o in before.items() if o in gone))
    return verdict(bool(added or modified or deleted), added, modified, deleted, lost, before)


def _not_elsewhere(
    elsewhere: Elsewhere, top: str, top_missing: bool, missing: tuple[str, ...], oids: dict[str, str]
) -> tuple[tuple[str, ...], bool]:
    """What stays missing once the objects held elsewhere count as present."""
    asked = {oids[n] for n in missing if n in oids} | ({top} if top_missing else set())
    held = elsewhere(asked)
    return tuple(n for n in missing if oids.get(n) not in held), top_missing and top not in held
