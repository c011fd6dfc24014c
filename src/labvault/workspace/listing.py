"""``list``: the tracked outputs with their recorded sizes and file counts."""

from __future__ import annotations

from dataclasses import dataclass

from labvault.workspace.index import workspace_outputs
from labvault.workspace.repo import Repo


@dataclass(frozen=True)
class Listed:
    path: str
    pointer: str
    oid: str | None
    size: int | None
    nfiles: int | None
    is_dir: bool
    in_cache: bool


def list_outputs(repo: Repo) -> list[Listed]:
    result = []
    for t in workspace_outputs(repo):
        out = t.out
        result.append(
            Listed(
                t.rel, t.pointer_rel, out.oid, out.size, out.nfiles if out.is_dir else None, out.is_dir,
                out.oid is not None and repo.odb.exists(out.oid, out.legacy),
            )
        )
    return result
