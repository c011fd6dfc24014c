"""``data status --not-in-remote``: which recorded outputs (with ``--granular``, which files inside
folder outputs too) the remote lacks, as ``dvc data status --not-in-remote`` lists them.

Each output is looked for on its own remote (``remote:`` in its ``.dvc`` entry or ``dvc.yaml``
flags), the others on the one named (``-r``) or the default; outputs marked ``push: false`` and
imports from other repositories are left out, as dvc leaves them (they are never pushed). An
object counts as there when the remote holds it with the cache's size (a copy of another size is
what ``push`` sends again); the remote is asked every time (dvc's ``--no-remote-refresh``, which
trusts its remembered index, changes nothing here). A folder whose manifest neither the cache nor
the remote holds is checked as a whole: its files cannot be named.
"""

from __future__ import annotations

from collections.abc import Callable

from labvault.errors import LabvaultError
from labvault.remotes.compare import compare
from labvault.remotes.reading import ObjectPlaces
from labvault.workspace.index import Tracked, workspace_outputs
from labvault.workspace.remotes import open_remote
from labvault.workspace.repo import Repo
from labvault.workspace.used import out_remote

Ref = tuple[str, bool]


def _pushable(t: Tracked) -> bool:
    if not (t.out.oid and t.out.use_cache) or t.out.extra.get("push") is False:
        return False
    deps = t.pointer.extra.get("deps")
    return not (isinstance(deps, list) and any(isinstance(d, dict) and "repo" in d for d in deps))


def not_in_remote(repo: Repo, granular: bool, remote: str | None,
                  touches: Callable[[str], bool] | None = None) -> tuple[str, ...]:
    """Paths as ``data status`` shows them (folders end in ``/``), sorted; ``touches``: which
    outputs to look at, by path (default: all)."""
    from labvault.pipelines.outputs import locked_outputs

    groups: dict[str | None, list[Tracked]] = {}
    for t in workspace_outputs(repo) + locked_outputs(repo):
        if _pushable(t) and (touches is None or touches(t.rel)):
            groups.setdefault(out_remote(t.out.extra) or remote, []).append(t)
    stores = {name: open_remote(repo, name) for name in groups}  # a missing remote fails before any is asked
    missing: set[str] = set()
    try:
        for name, outputs in groups.items():
            store = stores[name]
            places = ObjectPlaces(repo.odb, [store])
            entries: list[tuple[str, Ref]] = []
            for t in outputs:
                ref = (t.out.oid or "", t.out.legacy)
                entries.append((f"{t.rel}/" if t.out.is_dir else t.rel, ref))
                if granular and t.out.is_dir:
                    try:
                        tree = places.tree(*ref)
                    except LabvaultError:
                        continue  # the manifest is on neither side: only the folder is checked
                    entries += [(f"{t.rel}/{inner}", (oid, t.out.legacy)) for inner, oid in tree]
            c = compare(repo.odb, store, {ref for _, ref in entries})
            gone = (c.refs - c.remote.keys()) | set(c.wrong_size)
            missing.update(path for path, ref in entries if ref in gone)
    finally:
        for store in stores.values():
            store.backend.close()
    return tuple(sorted(missing))
