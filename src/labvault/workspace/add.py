"""``add`` and ``commit``: hash outputs, store them in the cache in the same read, write pointers."""

from __future__ import annotations

import glob
import os
import posixpath
from dataclasses import dataclass
from pathlib import Path

from labvault.errors import OverlapError, PathError, ProtectedDataError
from labvault.workspace.ignore import gitignore_add
from labvault.workspace.index import (
    Tracked,
    check_no_overlap,
    outputs_of,
    select,
    workspace_outputs,
)
from labvault.workspace.pointer import (
    POINTER_SUFFIX,
    Out,
    Pointer,
    load_pointer,
    pointer_for,
    write_pointer,
)
from labvault.workspace.repo import Repo
from labvault.workspace.safepath import guard_for
from labvault.workspace.scan import Content, Scanner


@dataclass(frozen=True)
class Recorded:
    """One output after add/commit."""

    path: str
    pointer: str
    oid: str
    size: int
    nfiles: int | None
    changed: bool
    hashed_files: int


def expand_targets(targets: list[str], cwd: Path) -> list[Path]:
    paths: list[Path] = []
    for t in targets:
        p = Path(t) if os.path.isabs(t) else cwd / t
        if os.path.lexists(p):
            paths.append(p)
            continue
        if glob.has_magic(t):
            hits = sorted(glob.glob(str(p)))
            if not hits:
                raise PathError(f"no file matches {t!r}", "check the pattern")
            paths.extend(Path(h) for h in hits)
            continue
        raise PathError(f"{t} does not exist", "check the path (labvault add takes existing files and folders)")
    return paths


def _plan_targets(repo: Repo, paths: list[Path]) -> list[str]:
    rels: list[str] = []
    for p in paths:
        rel = repo.rel(p)
        if rel.endswith(POINTER_SUFFIX):
            raise PathError(f"{rel} is a pointer file", f"add the data it names instead ({rel[: -len(POINTER_SUFFIX)]})")
        if os.path.basename(rel) in (".gitignore", ".dvcignore"):
            raise PathError(f"{rel} is a control file", "track data files and folders instead")
        if repo.ignore.is_ignored(rel, os.path.isdir(p)):
            raise PathError(f"{rel} is ignored by a .dvcignore", "remove the matching pattern first")
        if rel not in rels:
            rels.append(rel)
    for a in rels:
        for b in rels:
            if a != b and b.startswith(a + "/"):
                raise OverlapError(f"{b} is inside {a}; both were given", "add only the folder")
    return rels


def add(repo: Repo, targets: list[str], new_version: bool = False, no_commit: bool = False) -> list[Recorded]:
    """Hash and store each target, write its pointer. ``no_commit``: the pointer is written but
    nothing enters the cache (``status`` says "not in cache" until ``commit``), as ``dvc add
    --no-commit``."""
    paths = expand_targets(targets, repo.base)
    rels = _plan_targets(repo, paths)
    tracked = workspace_outputs(repo)
    for rel in rels:
        check_no_overlap(rel, tracked, own_pointer=pointer_for(repo.abspath(rel)))
    if repo.scm is not None:
        in_git = repo.scm.tracked(rels)
        if in_git:
            raise OverlapError(
                f"{in_git[0]} is already tracked by git", f"stop that first with `git rm -r --cached {in_git[0]}`"
            )
    with repo.locked():
        _check_places(repo, rels)
        known = {t.rel: t for t in tracked}
        reprotect = check_protected(repo, [known[rel] for rel in rels if rel in known], new_version)
        results = [_record(repo, rel, None, store=not no_commit) for rel in rels]
        _finish(repo, [r.pointer for r in results], [r.path for r in results])
        _reprotect(repo, reprotect)
    return results


def commit(repo: Repo, targets: list[str] | None, new_version: bool = False) -> list[Recorded]:
    tracked = [t for t in select(workspace_outputs(repo), repo, targets) if t.out.use_cache]
    with repo.locked():
        _check_places(repo, [t.rel for t in tracked])
        reprotect = check_protected(repo, tracked, new_version)
        results = [_record(repo, t.rel, t) for t in tracked]
        _finish(repo, [r.pointer for r in results if r.changed], [])
        _reprotect(repo, reprotect)
    return results


def check_protected(repo: Repo, tracked: list[Tracked], new_version: bool) -> list[str]:
    """Protected outputs whose content differs from their record refuse to be recorded (nothing
    is changed) unless ``new_version``; returns those to make read-only again afterwards."""
    from labvault.workspace.protected import is_protected
    from labvault.workspace.status import output_status

    changed = [t.rel for t in tracked
               if is_protected(t.pointer) and output_status(repo, t).status not in ("clean", "not_in_cache")]
    if changed and not new_version:
        rel = changed[0]
        raise ProtectedDataError(
            f"{rel} is protected and its content changed since it was recorded",
            f"record it as a new version with `labvault commit --new-version {rel}`, or lift the protection "
            f"with `labvault unprotect {rel}` first")
    return changed


def _reprotect(repo: Repo, rels: list[str]) -> None:
    from labvault.core.readonly import make_read_only

    for rel in rels:
        make_read_only(str(repo.abspath(rel)))


def _check_places(repo: Repo, rels: list[str]) -> None:
    """add and commit write the pointer and .gitignore beside each output and, with link caches,
    links into it: every output must really lie inside the repo (checked before any is stored)."""
    guard = guard_for(repo)
    for rel in rels:
        guard.check_output(rel, os.path.isdir(repo.abspath(rel)))


def _adopt_mode(repo: Repo) -> str:
    first = repo.linker().types[0]
    if first == "hardlink":
        return "hardlink"
    return "copy"


def _unchanged_legacy(repo: Repo, rel: str, existing: Tracked | None) -> Recorded | None:
    """A 2.x output whose data did not change keeps its pointer as it is (as DVC does)."""
    if existing is None or not existing.out.legacy or existing.out.oid is None:
        return None
    current = Scanner(repo, store=False, legacy=True).scan(rel)
    if current is None or current.oid != existing.out.oid:
        return None
    return Recorded(rel, existing.pointer_rel, current.oid, current.size, current.nfiles, False, 0)


def _record(repo: Repo, rel: str, existing: Tracked | None, store: bool = True) -> Recorded:
    if existing is None:
        prior = pointer_for(repo.abspath(rel))
        if prior.exists():
            for t in outputs_of(load_pointer(prior), posixpath.dirname(rel)):
                if t.rel == rel:
                    existing = t
    kept = _unchanged_legacy(repo, rel, existing)
    if kept is not None:
        return kept
    scanner = Scanner(repo, store=store, adopt=_adopt_mode(repo))
    task = repo.progress.task(f"adding {rel}")
    try:
        recorded = existing.out.oid if existing is not None and not existing.out.legacy else None
        content = scanner.scan(rel, task, recorded)
    finally:
        task.close()
    if content is None:
        raise PathError(f"{rel} does not exist", "restore it with `labvault checkout` or stop tracking it")
    if repo.fsync and store:
        repo.odb.sync()
    if existing is not None:
        pointer, index = existing.pointer, existing.index
        pointer_path = pointer.file
    else:
        pointer_path = pointer_for(repo.abspath(rel))
        pointer, index = _pointer_for_new(pointer_path)
    old = pointer.outs[index]
    new = old.with_content(content.oid, content.size, content.nfiles, content.isexec)
    changed = new != old
    if changed:
        outs = list(pointer.outs)
        outs[index] = new
        write_pointer(pointer.with_outs(tuple(outs)))
    if repo.scm is not None:
        out_abs = pointer.out_abspath(new)
        gitignore_add(out_abs.parent, out_abs.name)
    if store:
        _link_after_store(repo, rel, content)
    return Recorded(
        path=rel,
        pointer=pointer_path.relative_to(repo.root).as_posix(),
        oid=content.oid,
        size=content.size,
        nfiles=content.nfiles,
        changed=changed,
        hashed_files=scanner.hashed,
    )


def _pointer_for_new(pointer_path: Path) -> tuple[Pointer, int]:
    name = pointer_path.name[: -len(POINTER_SUFFIX)]
    if pointer_path.exists():
        pointer = load_pointer(pointer_path)
        for i, out in enumerate(pointer.outs):
            if out.path == name:
                return pointer, i
        raise OverlapError(
            f"{pointer_path} exists and does not track {name}", "move that file away or remove it first"
        )
    return Pointer(pointer_path, (Out(path=name),), {}), 0


def _link_after_store(repo: Repo, rel: str, content: Content) -> None:
    """With symlink/hardlink caches, the workspace files become links to the new objects."""
    if repo.linker().types[0] not in ("symlink", "hardlink"):
        return
    from labvault.workspace.checkout import relink_output

    relink_output(repo, rel, content)


def _finish(repo: Repo, pointers: list[str], outputs: list[str]) -> None:
    if repo.scm is not None and repo.config.get_bool("core", "autostage", False) and pointers:
        ignores = sorted({os.path.join(os.path.dirname(o), ".gitignore") for o in outputs})
        repo.scm.add([str(repo.root / p) for p in [*pointers, *ignores]])
