"""``move``: rename a tracked output together with its pointer file and .gitignore entries."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from labvault.errors import PathError, UsageError, from_os_error
from labvault.workspace.ignore import gitignore_add, gitignore_remove
from labvault.workspace.index import check_no_overlap, select, workspace_outputs
from labvault.workspace.pointer import Pointer, pointer_for, write_pointer
from labvault.workspace.repo import Repo
from labvault.workspace.safepath import guard_for


@dataclass(frozen=True)
class Moved:
    src: str
    dst: str
    pointer: str


def move(repo: Repo, src: str, dst: str) -> Moved:
    tracked = workspace_outputs(repo)
    (t,) = select(tracked, repo, [src])[:1] or (None,)
    if t is None:  # pragma: no cover - select raises first
        raise PathError(f"{src} is not tracked")
    if len(t.pointer.outs) != 1:
        raise UsageError(f"{t.pointer_rel} tracks several outputs", "move them by editing the file")
    dst_path = repo.base / dst
    if dst_path.is_dir() and not dst_path.is_symlink():
        dst_path = dst_path / Path(t.rel).name
    dst_rel = repo.rel(dst_path)
    if os.path.lexists(repo.abspath(dst_rel)):
        raise PathError(f"{dst_rel} already exists", "choose another destination")
    check_no_overlap(dst_rel, [x for x in tracked if x is not t])
    src_abs = repo.abspath(t.rel)
    dst_abs = repo.abspath(dst_rel)
    new_pointer_file = pointer_for(dst_abs)
    if new_pointer_file.exists():
        raise PathError(f"{new_pointer_file} already exists", "choose another destination")
    with repo.locked():
        guard = guard_for(repo)
        is_dir = os.path.isdir(src_abs) and not os.path.islink(src_abs)
        guard.check_output(t.rel, is_dir)  # the rename leaves from there ...
        guard.check_output(dst_rel, is_dir)  # ... and lands there, with the new pointer beside it
        try:
            dst_abs.parent.mkdir(parents=True, exist_ok=True)
            if os.path.lexists(src_abs):
                os.rename(src_abs, dst_abs)
        except OSError as exc:
            raise from_os_error(exc, "moving") from exc
        out = t.out
        new_out = type(out)(
            path=os.path.relpath(dst_abs, new_pointer_file.parent).replace(os.sep, "/"),
            oid=out.oid, size=out.size, nfiles=out.nfiles, isexec=out.isexec, legacy=out.legacy, extra=out.extra,
        )
        write_pointer(Pointer(new_pointer_file, (new_out,), t.pointer.extra))
        if new_pointer_file != t.pointer.file:
            os.unlink(t.pointer.file)
        if repo.scm is not None:
            gitignore_remove(src_abs.parent, src_abs.name)
            gitignore_add(dst_abs.parent, dst_abs.name)
        repo.state.forget(t.rel)
    return Moved(t.rel, dst_rel, new_pointer_file.relative_to(repo.root).as_posix())
