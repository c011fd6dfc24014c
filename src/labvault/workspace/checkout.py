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
from labvault.fsutil import tmp_owner_alive
from labvault.workspace.index import Tracked, select, workspace_outputs
from labvault.workspace.repo import Repo
from labvault.workspace.scan import Content, Scanner

BATCH = 256


@dataclass
class CheckoutResult:
    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    unchanged: int = 0
    link_type: str | None = None


@dataclass
class _Write:
    dst: str  # absolute
    rel: str  # repo-relative
    obj: str  # object path
    oid: str
    kind: str  # state kind
    isexec: bool = False
    out_rel: str = ""  # the output the file belongs to


@dataclass
class _Plan:
    writes: list[_Write] = field(default_factory=list)
    deletes: list[tuple[str, str]] = field(default_factory=list)  # (file, output folder it is in)
    rmtrees: list[str] = field(default_factory=list)  # folders to replace by a file
    at_risk: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # temp files of interrupted runs
    result: CheckoutResult = field(default_factory=CheckoutResult)


def checkout(
    repo: Repo, targets: list[str] | None, force: bool = False, relink: bool = False, extra: list[Tracked] | None = None
) -> CheckoutResult:
    """``extra``: outputs named elsewhere than in .dvc files (pipeline outputs from dvc.lock)."""
    candidates = workspace_outputs(repo) + list(extra or [])
    tracked = [t for t in select(candidates, repo, targets) if t.out.use_cache and t.out.oid]
    with repo.locked():
        plan = _Plan()
        for t in tracked:
            _plan_output(repo, t, plan, relink)
        if plan.at_risk and not force:
            first = plan.at_risk[0]
            more = f" (and {len(plan.at_risk) - 1} more)" if len(plan.at_risk) > 1 else ""
            raise WorkspaceConflictError(
                f"checkout would overwrite {first}{more}, whose current content is not in the cache",
                "record it first with `labvault commit`, or pass --force to discard it",
            )
        _execute(repo, plan)
    return plan.result


def _is_dir_on_disk(path: str) -> bool:
    return os.path.isdir(path) and not os.path.islink(path)


def _plan_output(repo: Repo, t: Tracked, plan: _Plan, relink: bool) -> None:
    out = t.out
    assert out.oid is not None
    odb = repo.odb
    path = str(repo.abspath(t.rel))
    kind = "legacy" if out.legacy else "md5"
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
        (plan.result.added if current is None else plan.result.modified).append(t.rel)
        plan.writes.append(_Write(path, t.rel, odb.oid_path(out.oid, out.legacy), out.oid, kind, out.isexec, t.rel))
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
    _plan_tree(repo, t, tree, current_files, plan, relink, kind)


def _stale_siblings(path: str, plan: _Plan) -> None:
    """Temp files an interrupted checkout of this file left beside it."""
    import glob

    folder, name = os.path.split(path)
    for p in glob.glob(os.path.join(glob.escape(folder), f".{glob.escape(name)}.*.lvtmp")):
        if not tmp_owner_alive(os.path.basename(p)):
            plan.stale.append(p)


def _current_dir(repo: Repo, rel: str, path: str, scanner: Scanner, plan: _Plan | None = None) -> dict[str, str]:
    content = scanner.scan(rel)
    if plan is not None:
        plan.stale.extend(p for p in scanner.leftovers if not tmp_owner_alive(os.path.basename(p)))
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
    repo: Repo, t: Tracked, tree: Tree, current: dict[str, str], plan: _Plan, relink: bool, kind: str
) -> None:
    odb = repo.odb
    legacy = t.out.legacy
    base = str(repo.abspath(t.rel))
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
    for rel, oid in wanted.items():
        have = current.get(rel)
        if have == oid and not relink:
            plan.result.unchanged += 1
            continue
        if not odb.exists(oid, legacy):
            plan.result.failed.append(f"{t.rel}/{rel}")
            continue
        if have is not None and have != oid and not odb.exists(have) and not _legacy_present(repo, t.rel, rel):
            plan.at_risk.append(f"{t.rel}/{rel}")
        if have is None:
            plan.result.added.append(f"{t.rel}/{rel}")
        elif have != oid:
            plan.result.modified.append(f"{t.rel}/{rel}")
        plan.writes.append(_Write(f"{base}/{rel}", f"{t.rel}/{rel}", odb.oid_path(oid, legacy), oid, kind, False, t.rel))


def _legacy_present(repo: Repo, out_rel: str, rel: str) -> bool:
    from labvault.core.hashing import md5_file

    try:
        return repo.odb.exists(md5_file(repo.abspath(f"{out_rel}/{rel}"), legacy=True), True)
    except OSError:
        return False


def _execute(repo: Repo, plan: _Plan) -> None:
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
        return
    linker = repo.linker()
    _ensure_parents(plan.writes)
    written: dict[tuple[str, str], dict[str, tuple[int, int, int, str, bool]]] = {}
    batches = [plan.writes[i : i + BATCH] for i in range(0, len(plan.writes), BATCH)]
    task = repo.progress.task("checking out", total=len(plan.writes))

    def run(batch: list[_Write]) -> list[tuple[_Write, os.stat_result]]:
        done = []
        for w in batch:
            try:
                try:
                    linker.materialize(w.obj, w.dst)
                except IsADirectoryError:
                    # a folder where the file goes (rename refused; the temp is gone): replace it.
                    # Asking first would cost a stat per file for a rare case.
                    _rmtree(w.dst)
                    linker.materialize(w.obj, w.dst)
                if w.isexec:
                    os.chmod(w.dst, 0o755)
                done.append((w, os.stat(w.dst)))
            except OSError as exc:
                raise from_os_error(exc, "writing") from exc
        return done

    try:
        if len(batches) == 1:
            results = [run(batches[0])]
        else:
            with ThreadPoolExecutor(max_workers=repo.jobs) as pool:
                results = []
                for batch, res in zip(batches, pool.map(run, batches), strict=True):
                    results.append(res)
                    task.advance(len(batch))
    finally:
        task.close()
    for res in results:
        for w, st in res:
            inner = w.rel[len(w.out_rel) + 1 :] if w.rel != w.out_rel else ""
            written.setdefault((w.out_rel, w.kind), {})[inner] = (st.st_ino, st.st_mtime_ns, st.st_size, w.oid, True)
    for (out_rel, kind), entries in written.items():
        repo.state.update(out_rel, entries, kind)
    plan.result.link_type = linker.used


def _ensure_parents(writes: list[_Write]) -> None:
    made: set[str] = set()
    for w in writes:
        parent = os.path.dirname(w.dst)
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


def relink_output(repo: Repo, rel: str, content: Content) -> None:
    """Replace the workspace copies of a just-stored output by links into the cache."""
    linker: Linker = repo.linker()
    odb = repo.odb
    base = str(repo.abspath(rel))
    pairs = [(base, content.oid)] if not content.is_dir else [(f"{base}/{r}", o) for r, o in content.files().items()]
    written: dict[str, tuple[int, int, int, str, bool]] = {}
    for dst, oid in pairs:
        obj = odb.oid_path(oid)
        try:
            if os.path.samefile(dst, obj):
                continue
        except OSError:
            pass
        linker.materialize(obj, dst)
        st = os.stat(dst)
        inner = dst[len(base) + 1 :] if dst != base else ""
        written[inner] = (st.st_ino, st.st_mtime_ns, st.st_size, oid, True)
    repo.state.update(rel, written)


def checkout_objects(repo: Repo, items: list[tuple[str, str]]) -> None:
    """Write the objects ``(repo-relative path, oid)`` into the workspace (paths must be free)."""
    linker = repo.linker()
    odb = repo.odb
    for rel, oid in items:
        base = str(repo.abspath(rel))
        if oid.endswith(".dir"):
            pairs = [(f"{base}/{r}", r, o) for r, o in odb.load_tree(oid)]
        else:
            pairs = [(base, "", oid)]
        written: dict[str, tuple[int, int, int, str, bool]] = {}
        for dst, inner, o in pairs:
            try:
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                linker.materialize(odb.oid_path(o), dst)
                st = os.stat(dst)
            except OSError as exc:
                raise from_os_error(exc, "restoring") from exc
            written[inner] = (st.st_ino, st.st_mtime_ns, st.st_size, o, True)
        repo.state.update(rel, written)
