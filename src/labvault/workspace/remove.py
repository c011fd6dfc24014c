"""``remove``: stop tracking outputs (the pointer and its .gitignore entry go; data stays unless asked)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

from labvault.errors import from_os_error
from labvault.workspace.atrisk import refuse_if_uncached
from labvault.workspace.ignore import gitignore_remove
from labvault.workspace.index import select, workspace_outputs
from labvault.workspace.repo import Repo
from labvault.workspace.safepath import guard_for


@dataclass(frozen=True)
class Removed:
    pointer: str
    outputs: tuple[str, ...]
    data_deleted: bool
    dry_run: bool = False  # nothing was changed: what would go


def remove(
    repo: Repo, targets: list[str], outs: bool = False, force: bool = False, dry_run: bool = False
) -> list[Removed]:
    """Stop tracking ``targets``; with ``outs`` also delete their data, refusing (exit 4,
    nothing changed) when a file's current content is not in the cache, unless ``force``.
    ``dry_run``: every check runs (the same refusals), then what would go is returned."""
    chosen = select(workspace_outputs(repo), repo, targets)
    by_pointer: dict[str, list[str]] = {}
    files = {}
    for t in chosen:
        by_pointer.setdefault(t.pointer_rel, []).append(t.rel)
        files[t.pointer_rel] = t.pointer
    results = []
    with repo.locked():
        guard = guard_for(repo)
        doomed: list[str] = []
        for prel in by_pointer:  # check everything before changing anything
            pointer = files[prel]
            for out in pointer.outs:
                rel = pointer.out_abspath(out).relative_to(repo.root).as_posix()
                path = str(repo.abspath(rel))
                guard.check_output(rel, os.path.isdir(path) and not os.path.islink(path))
                doomed.append(rel)
        if outs and not force:
            refuse_if_uncached(repo, doomed, "remove --outs")
        if dry_run:
            return [Removed(prel, tuple(rels), outs, dry_run=True) for prel, rels in by_pointer.items()]
        for prel, rels in by_pointer.items():
            pointer = files[prel]
            for out in pointer.outs:
                out_abs = pointer.out_abspath(out)
                gitignore_remove(out_abs.parent, out_abs.name)
                if outs:
                    _delete(out_abs)
                repo.state.forget(out_abs.relative_to(repo.root).as_posix())
            try:
                os.unlink(pointer.file)
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise from_os_error(exc, "removing") from exc
            results.append(Removed(prel, tuple(rels), outs))
    return results


def _delete(path: os.PathLike[str]) -> None:
    p = os.fspath(path)
    try:
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
        elif os.path.lexists(p):
            os.unlink(p)
    except OSError as exc:
        raise from_os_error(exc, "deleting") from exc
