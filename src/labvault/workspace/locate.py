"""From a path in a source repository to the object(s) holding its content at a revision.

A path is a tracked output (a file or a folder), a file or folder inside a tracked folder (found
through the folder's ``.dir`` manifest, itself read from the cache or a remote and checked against
its oid), or, for single-file reads, a file git holds.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from labvault.core.tree import DIR_SUFFIX
from labvault.errors import PathError
from labvault.remotes.reading import ObjectPlaces
from labvault.workspace.source import Output, Source


@dataclass(frozen=True)
class Located:
    """What a path holds: one file object (``files`` has one entry, relpath ""), or a folder's
    files (relpath inside the folder -> oid). ``oid`` is the object the user named: a file's
    md5, or a folder's ``.dir`` oid (the manifest's, or for a sub-folder of a tracked folder the
    oid of the manifest it would have)."""

    rel: str
    oid: str
    legacy: bool
    size: int | None
    files: tuple[tuple[str, str], ...]
    output: Output | None = None

    @property
    def is_dir(self) -> bool:
        return self.oid.endswith(DIR_SUFFIX)


def normalize(path: str) -> str:
    rel = posixpath.normpath(path.replace("\\", "/")).lstrip("/") if path else ""
    if rel in ("", ".") or rel == ".." or rel.startswith("../"):
        raise PathError(f"path {path!r} does not name something inside the repository", "give a repo-relative path")
    return rel


def locate(source: Source, path: str, places: ObjectPlaces) -> Located:
    rel = normalize(path)
    outputs = source.outputs()
    for out in outputs:
        if out.rel == rel:
            places.bind(out.remote)
            if out.is_dir:
                tree = places.tree(out.oid, out.legacy)
                return Located(rel, out.oid, out.legacy, out.size, tuple(tree), out)
            return Located(rel, out.oid, out.legacy, out.size, (("", out.oid),), out)
    for out in outputs:
        if rel.startswith(out.rel + "/") and out.is_dir:
            places.bind(out.remote)
            inner = rel[len(out.rel) + 1 :]
            tree = places.tree(out.oid, out.legacy)
            files = tree.as_dict()
            if inner in files:
                return Located(rel, files[inner], out.legacy, None, (("", files[inner]),), out)
            sub = tuple((r[len(inner) + 1 :], o) for r, o in tree if r.startswith(inner + "/"))
            if sub:
                from labvault.core.tree import Tree

                return Located(rel, Tree.from_pairs(sub).oid(), out.legacy, None, sub, out)
            raise _not_tracked(source, path, f"{out.rel} (tracked) holds no {inner!r}")
    raise _not_tracked(source, path, None)


def _not_tracked(source: Source, path: str, detail: str | None) -> PathError:
    at = f" at {source.sha[:10]}" if source.sha else " in the workspace"
    what = detail or "no pointer file or dvc.lock names it"
    return PathError(f"{path} is not tracked in {source.spec}{at}: {what}",
                     "check the path and revision (`labvault list` in that repository)")
