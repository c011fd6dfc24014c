"""``checkout``: make the workspace hold exactly what the pointers name.

Plan first, then act. The plan refuses (nothing changed) to overwrite or delete any file whose
current content is not in the cache, unless forced: checkout never destroys the only copy.
Every file is written at a temp name and renamed into place.
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from labvault.core.links import Linker
from labvault.core.tree import Tree
from labvault.errors import CacheError, WorkspaceConflictError, from_os_error
from labvault.fsutil import is_exact_tmp_name, tmp_owner_alive
from labvault.workspace.index import Tracked, select, workspace_outputs
from labvault.workspace.repo import Repo
from labvault.workspace.safepath import Guard, guard_for
from labvault.workspace.scan import Content, Scanner
from labvault.workspace.snapshot import pack_record

BATCH = 256
ADDED, MODIFIED = 1, 2


@dataclass
class CheckoutResult:
    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    unchanged: int = 0
    link_type: str | None = None
    premade: int = 0  # files that took the verified copy a pull made while fetching


@dataclass(slots=True)
class _Writes:
    """Files to write into one output, as parallel lists of paths inside it and oids (a
    million planned files cost two list slots and a byte each; full paths are made when written,
    and those the result reports only once the stat cache is written)."""

    base: str  # absolute path of the output
    out_rel: str  # repo-relative path of the output
    legacy: bool
    isexec: bool = False
    inners: list[str] = field(default_factory=list)  # "" for a file output
    oids: list[str] = field(default_factory=list)
    news: bytearray = field(default_factory=bytearray)  # per file: ADDED, MODIFIED or 0 (relinked)

    @property
    def kind(self) -> str:  # the stat cache's hash kind
        return "legacy" if self.legacy else "md5"

    def dst(self, inner: str) -> str:
        return f"{self.base}/{inner}" if inner else self.base


@dataclass
class _Plan:
    writes: list[_Writes] = field(default_factory=list)
    deletes: list[tuple[str, str]] = field(default_factory=list)  # (file, output folder it is in)
    rmtrees: list[str] = field(default_factory=list)  # folders to replace by a file
    at_risk: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # temp files of interrupted runs
    # folder outputs planned whole (no object missing): out_rel -> (hash kind, tree oid, its file
    # count, files it deletes)
    whole: dict[str, tuple[str, str, int, list[str]]] = field(default_factory=dict)
    result: CheckoutResult = field(default_factory=CheckoutResult)


def checkout(
    repo: Repo, targets: list[str] | None, force: bool = False, relink: bool = False, extra: list[Tracked] | None = None,
    outputs: list[Tracked] | None = None, premade: dict[str, tuple[str, str]] | None = None,
) -> CheckoutResult:
    """``extra``: outputs named elsewhere than in .dvc files (pipeline outputs from dvc.lock);
    ``outputs``: those of the .dvc files, when the caller listed them already. ``premade``: path ->
    (oid, a copy of that object beside the path, already verified), which a pull's fetch made: a
    file planned to get that object is renamed from it instead of copied from the cache; those
    taken are removed from ``premade`` (the caller deletes the rest)."""
    candidates = (workspace_outputs(repo) if outputs is None else outputs) + list(extra or [])
    tracked = [t for t in select(candidates, repo, targets) if t.out.use_cache and t.out.oid]
    with repo.locked():
        plan = _Plan()
        guard = guard_for(repo)
        for t in tracked:
            _plan_output(repo, t, plan, relink, guard)
        if plan.at_risk and not force:
            first = plan.at_risk[0]
            more = f" (and {len(plan.at_risk) - 1} more)" if len(plan.at_risk) > 1 else ""
            raise WorkspaceConflictError(
                f"checkout would overwrite {first}{more}, whose current content is not in the cache",
                "record it first with `labvault commit`, or pass --force to discard it",
            )
        _execute(repo, plan, premade if premade is not None else {})
    return plan.result


def _is_dir_on_disk(path: str) -> bool:
    return os.path.isdir(path) and not os.path.islink(path)


def _plan_output(repo: Repo, t: Tracked, plan: _Plan, relink: bool, guard: Guard) -> None:
    out = t.out
    assert out.oid is not None
    guard.check_output(t.rel, out.is_dir)
    odb = repo.odb
    path = str(repo.abspath(t.rel))
    scanner = Scanner(repo, store=False, legacy=out.legacy)
    if not out.is_dir:
        _stale_siblings(path, plan)
        if _is_dir_on_disk(path):
            _risk_files(repo, plan, _current_dir(repo, t.rel, path, scanner), t.rel)
            plan.rmtrees.append(path)
            current = None
        else:
            current = scanner.scan(t.rel)
        if current is not None and current.oid == out.oid and not relink:
            plan.result.unchanged += 1
            return
        if not odb.exists(out.oid, out.legacy):
            plan.result.failed.append(t.rel)
            return
        if current is not None and current.oid != out.oid and not _in_cache(repo, t.rel):
            plan.at_risk.append(t.rel)
        news = bytearray([ADDED if current is None else MODIFIED])
        plan.writes.append(_Writes(path, t.rel, out.legacy, out.isexec, [""], [out.oid], news))
        return
    try:
        tree = odb.load_tree(out.oid, out.legacy)
    except CacheError:
        plan.result.failed.append(t.rel)
        return
    if os.path.lexists(path) and not _is_dir_on_disk(path):
        if not _in_cache(repo, t.rel):
            plan.at_risk.append(t.rel)
        plan.deletes.append((path, os.path.dirname(path)))
        current_files: dict[str, str] = {}
    else:
        current_files = _current_dir(repo, t.rel, path, scanner, plan) if os.path.isdir(path) else {}
    _plan_tree(repo, t, tree, current_files, plan, relink)
    _check_folders(guard, plan.writes[-1] if plan.writes and plan.writes[-1].out_rel == t.rel else None)


def _check_pairs(guard: Guard, rel: str, base: str, is_dir: bool, pairs: list[tuple[str, str]]) -> None:
    guard.check_output(rel, is_dir)
    if is_dir:
        _check_folders(guard, _Writes(base, rel, False, False, [inner for inner, _ in pairs]))


def _check_folders(guard: Guard, todo: _Writes | None) -> None:
    """Every folder a folder output's files go into must really be inside it: a sub-folder that
    is a symlink (committed in git) must not receive files through it."""
    if todo is None:
        return
    seen: set[str] = {""}
    for inner in todo.inners:
        cut = inner.rfind("/")
        folder = inner[:cut] if cut > 0 else ""
        if folder not in seen:
            seen.add(folder)
            guard.check_folder(f"{todo.base}/{folder}", f"{todo.out_rel}/{inner}")


def _stale_siblings(path: str, plan: _Plan) -> None:
    """Temp files an interrupted checkout of this file left beside it."""
    import glob

    folder, name = os.path.split(path)
    for p in glob.glob(os.path.join(glob.escape(folder), f".{glob.escape(name)}.*.lvtmp")):
        if is_exact_tmp_name(os.path.basename(p)) and not tmp_owner_alive(os.path.basename(p), p):
            plan.stale.append(p)


def _current_dir(repo: Repo, rel: str, path: str, scanner: Scanner, plan: _Plan | None = None) -> dict[str, str]:
    content = scanner.scan(rel)
    if plan is not None:
        plan.stale.extend(p for p in scanner.leftovers if not tmp_owner_alive(os.path.basename(p), p))
    if content is None:
        return {}
    return content.files()


def _in_cache(repo: Repo, rel: str) -> bool:
    """Is the current content of the file ``rel`` already in the (3.x or legacy) cache?"""
    content = Scanner(repo, store=False).scan(rel)
    if content is None:
        return True
    if repo.odb.exists(content.oid):
        return True
    legacy = Scanner(repo, store=False, legacy=True).scan(rel)
    return legacy is not None and repo.odb.exists(legacy.oid, True)


def _risk_files(repo: Repo, plan: _Plan, files: dict[str, str], out_rel: str) -> None:
    for rel, oid in files.items():
        if not repo.odb.exists(oid):
            plan.at_risk.append(f"{out_rel}/{rel}")


def _plan_tree(
    repo: Repo, t: Tracked, tree: Tree, current: dict[str, str], plan: _Plan, relink: bool
) -> None:
    odb = repo.odb
    legacy = t.out.legacy
    base = str(repo.abspath(t.rel))
    failed_before = len(plan.result.failed)
    removed: list[str] = []
    todo = _Writes(base, t.rel, legacy)
    if current:  # files to delete: not wanted, or where a wanted folder goes
        wanted = tree.as_dict()
        wanted_dirs = {r.rsplit("/", 1)[0] for r in wanted if "/" in r}
        prefixes: set[str] = set()
        for d in wanted_dirs:
            parts = d.split("/")
            prefixes.update("/".join(parts[: i + 1]) for i in range(len(parts)))
        for rel, oid in current.items():
            if rel not in wanted or rel in prefixes:
                if not odb.exists(oid) and not _legacy_present(repo, t.rel, rel):
                    plan.at_risk.append(f"{t.rel}/{rel}")
                plan.deletes.append((f"{base}/{rel}", base))
                plan.result.deleted.append(f"{t.rel}/{rel}")
                removed.append(rel)
        del wanted, wanted_dirs, prefixes
    for rel, oid in tree:
        have = current.get(rel)
        if have == oid and not relink:
            plan.result.unchanged += 1
            continue
        if not odb.exists(oid, legacy):
            plan.result.failed.append(f"{t.rel}/{rel}")
            continue
        if have is not None and have != oid and not odb.exists(have) and not _legacy_present(repo, t.rel, rel):
            plan.at_risk.append(f"{t.rel}/{rel}")
        todo.inners.append(rel)
        todo.oids.append(oid)
        todo.news.append(ADDED if have is None else MODIFIED if have != oid else 0)
    if todo.inners:
        plan.writes.append(todo)
    if len(plan.result.failed) == failed_before and t.out.oid is not None:
        plan.whole[t.rel] = (todo.kind, t.out.oid, len(tree), removed)


def _legacy_present(repo: Repo, out_rel: str, rel: str) -> bool:
    from labvault.core.hashing import md5_file

    try:
        return repo.odb.exists(md5_file(repo.abspath(f"{out_rel}/{rel}"), legacy=True), True)
    except OSError:
        return False


def _take_premade(premade: dict[str, tuple[str, str]], dst: str, oid: str, legacy: bool) -> bool:
    """Put at ``dst`` the verified copy of ``oid`` a pull's fetch made beside it, if there is one
    (the pull made it only where the linker would copy). False: nothing was done."""
    pre = premade.get(dst)
    if pre is None or pre[0] != oid or legacy:
        return False
    os.replace(pre[1], dst)
    del premade[dst]
    return True


def _execute(repo: Repo, plan: _Plan, premade: dict[str, tuple[str, str]]) -> None:
    for leftover in plan.stale:
        try:
            os.unlink(leftover)
        except OSError:
            pass
    for folder in plan.rmtrees:
        _rmtree(folder)
    for path, stop in sorted(plan.deletes, reverse=True):
        try:
            if _is_dir_on_disk(path):
                _rmtree(path)
            else:
                os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise from_os_error(exc, "deleting") from exc
        _prune_empty_parents(path, stop)
    if not plan.writes:
        _record_state(repo, plan, {})
        return
    linker = repo.linker()
    odb = repo.odb
    offered = len(premade)
    _ensure_parents(plan.writes)
    # What was written goes to the stat cache as it would be stored: names and packed records.
    written: dict[tuple[str, str], tuple[list[str], bytearray]] = {}
    batches = [(g, start) for g, todo in enumerate(plan.writes) for start in range(0, len(todo.inners), BATCH)]
    task = repo.progress.task("checking out", total=sum(len(todo.inners) for todo in plan.writes))

    def run(batch: tuple[int, int]) -> tuple[_Writes, list[str], list[bytes]]:
        todo, start = plan.writes[batch[0]], batch[1]
        inners = todo.inners[start : start + BATCH]
        recs = []
        for inner, oid in zip(inners, todo.oids[start : start + BATCH], strict=True):
            dst = todo.dst(inner)
            obj = odb.oid_path(oid, todo.legacy)
            try:
                if not (premade and _take_premade(premade, dst, oid, todo.legacy)):
                    try:
                        linker.materialize(obj, dst)
                    except IsADirectoryError:
                        # a folder where the file goes (rename refused; the temp is gone): replace it.
                        # Asking first would cost a stat per file for a rare case.
                        _rmtree(dst)
                        linker.materialize(obj, dst)
                if todo.isexec:
                    os.chmod(dst, 0o755)
                st = os.stat(dst)
            except OSError as exc:
                raise from_os_error(exc, "writing") from exc
            recs.append(_record(st, oid))
        return todo, inners, recs

    def record(done: tuple[_Writes, list[str], list[bytes]]) -> None:
        todo, inners, recs = done
        key = (todo.out_rel, todo.kind)
        names, packed = written.get(key) or written.setdefault(key, ([], bytearray()))
        names.extend(inners)
        packed += b"".join(recs)
        task.advance(len(inners))

    try:
        if len(batches) == 1:
            record(run(batches[0]))
        else:
            with ThreadPoolExecutor(max_workers=repo.jobs) as pool:
                for _ in map(record, pool.map(run, batches)):  # no batch outlives its recording
                    pass
    finally:
        task.close()
    # Written: the oids and the manifests they came from are no longer needed, and a million of
    # them would sit beside the stat cache snapshots about to be rewritten.
    for todo in plan.writes:
        todo.oids = []
    odb.forget_trees()
    _record_state(repo, plan, written)
    written.clear()
    _report_writes(plan)
    plan.result.premade = offered - len(premade)
    plan.result.link_type = linker.used or ("copy" if plan.result.premade else None)


def _report_writes(plan: _Plan) -> None:
    """The files written, as the result names them (added or modified; a relinked file is
    neither), made last: a million paths need not sit beside the plan and the stat cache."""
    added, modified = plan.result.added, plan.result.modified
    for todo in plan.writes:
        out_rel = todo.out_rel
        for inner, new in zip(todo.inners, todo.news, strict=True):
            if new:
                (added if new == ADDED else modified).append(f"{out_rel}/{inner}" if inner else out_rel)
    plan.writes.clear()


def _record_state(repo: Repo, plan: _Plan, written: dict[tuple[str, str], tuple[list[str], bytearray]]) -> None:
    """Tell the stat cache what checkout wrote and deleted; an output checked out whole keeps
    its tree oid there, so the next status needs neither its manifest nor a new one."""
    for out_rel, (kind, tree_oid, nfiles, removed) in plan.whole.items():
        names, recs = written.pop((out_rel, kind), ([], bytearray()))
        if names or removed:  # else nothing changed in it
            repo.state.update_records(
                out_rel, names, recs, kind, removed, tree_oid if kind == "md5" else None,
                complete=len(names) == nfiles, nfiles=nfiles,
            )
    for (out_rel, kind), (names, recs) in written.items():
        repo.state.update_records(out_rel, names, recs, kind)


def _ensure_parents(writes: list[_Writes]) -> None:
    made: set[str] = set()
    for todo in writes:
        for inner in todo.inners:
            parent = os.path.dirname(todo.dst(inner))
            if parent in made:
                continue
            try:
                if os.path.lexists(parent) and not os.path.isdir(parent):
                    os.unlink(parent)
                os.makedirs(parent, exist_ok=True)
            except OSError as exc:
                raise from_os_error(exc, "creating folder") from exc
            made.add(parent)


def _prune_empty_parents(path: str, stop: str) -> None:
    parent = os.path.dirname(path)
    while parent.startswith(stop + os.sep):
        try:
            os.rmdir(parent)
        except OSError:
            return
        parent = os.path.dirname(parent)


def _rmtree(path: str) -> None:
    def onerror(func, p, exc_info):  # type: ignore[no-untyped-def]
        os.chmod(os.path.dirname(p), 0o755)
        func(p)

    shutil.rmtree(path, onerror=onerror)


def _record(st: os.stat_result, oid: str) -> bytes:
    """A just-written file as the stat cache stores it (its object was in the cache; files written
    too recently to be trusted are left out by ``State.update_records``)."""
    return pack_record(st.st_ino, st.st_mtime_ns, st.st_size, oid, True)


def relink_output(repo: Repo, rel: str, content: Content) -> None:
    """Replace the workspace copies of a just-stored output by links into the cache."""
    linker: Linker = repo.linker()
    odb = repo.odb
    base = str(repo.abspath(rel))
    pairs = [("", content.oid)] if not content.is_dir else list(content.files().items())
    _check_pairs(guard_for(repo), rel, base, content.is_dir, pairs)
    names: list[str] = []
    recs = bytearray()
    for inner, oid in pairs:
        dst = f"{base}/{inner}" if inner else base
        obj = odb.oid_path(oid)
        try:
            if os.path.samefile(dst, obj):
                continue
        except OSError:
            pass
        linker.materialize(obj, dst)
        names.append(inner)
        recs += _record(os.stat(dst), oid)
    repo.state.update_records(rel, names, recs)


def check_objects(repo: Repo, items: list[tuple[str, str]]) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """Refuse (PathError) any of ``items`` (repo-relative path, oid) that would be written outside
    the repo's data; returns (path, absolute path, (inner path, oid) pairs) for each."""
    odb = repo.odb
    guard = guard_for(repo)
    planned = []
    for rel, oid in items:
        base = str(repo.abspath(rel))
        pairs = list(odb.load_tree(oid)) if oid.endswith(".dir") else [("", oid)]
        _check_pairs(guard, rel, base, oid.endswith(".dir"), pairs)
        planned.append((rel, base, pairs))
    return planned


def checkout_objects(repo: Repo, items: list[tuple[str, str]]) -> None:
    """Write the objects ``(repo-relative path, oid)`` into the workspace (paths must be free)."""
    linker = repo.linker()
    odb = repo.odb
    for rel, base, pairs in check_objects(repo, items):
        names: list[str] = []
        recs = bytearray()
        for inner, o in pairs:
            dst = f"{base}/{inner}" if inner else base
            try:
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                linker.materialize(odb.oid_path(o), dst)
                recs += _record(os.stat(dst), o)
            except OSError as exc:
                raise from_os_error(exc, "restoring") from exc
            names.append(inner)
        repo.state.update_records(rel, names, recs)
