"""``list``: the tracked outputs with their recorded hashes, sizes and file counts.

Outputs of ``.dvc`` files, and the cached outputs of pipeline stages that the caller passes (as
``dvc list --dvc-only`` shows both): what ``dvc.lock`` recorded, or no hash and size for a stage
that never ran. Sorted by path.
"""

from __future__ import annotations

from dataclasses import dataclass

from labvault.workspace.index import workspace_outputs
from labvault.workspace.repo import Repo


@dataclass(frozen=True)
class Listed:
    path: str
    pointer: str  # the .dvc file, or the dvc.lock, recording it
    oid: str | None
    size: int | None
    nfiles: int | None
    is_dir: bool
    in_cache: bool
    stage: str | None = None  # the stage writing it (its address), for a pipeline output


def list_outputs(repo: Repo, stage_outputs: list[Listed] | None = None) -> list[Listed]:
    """``stage_outputs``: pipeline outputs, as the caller read them from the pipeline files."""
    result = []
    for t in workspace_outputs(repo):
        out = t.out
        if not out.use_cache:
            continue
        result.append(
            Listed(
                t.rel, t.pointer_rel, out.oid, out.size, out.nfiles if out.is_dir else None, out.is_dir,
                out.oid is not None and repo.odb.exists(out.oid, out.legacy),
            )
        )
    result.extend(stage_outputs or [])
    return sorted(result, key=lambda x: x.path)
