"""``list URL`` and ``du``: what a repository (a path or a git URL, at any revision) holds, files
git holds and tracked outputs together, as ``dvc list`` and ``dvc du`` show it; nothing is
checked out or downloaded but the manifests of tracked folders a listing looks into."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from labvault.workspace.repo_listing import ListEntry, TreeRow

if TYPE_CHECKING:
    from labvault.workspace.repo_listing import RepoTree
    from labvault.workspace.source import Source

PathLike = str | os.PathLike[str]

__all__ = ["DiskUsage", "ListEntry", "TreeRow", "disk_usage", "list_repo", "list_tree"]


@dataclass(frozen=True)
class DiskUsage:
    path: str
    size: int


def _tree(url: PathLike, rev: str | None, remote: str | None) -> tuple[Source, RepoTree]:
    from labvault.workspace.repo_listing import RepoTree
    from labvault.workspace.source import Output, open_source

    source = open_source(url, rev, workspace=True)
    places = source.places(remote)

    def read_tree(out: Output) -> list[tuple[str, str]]:
        places.bind(out.remote)
        return list(places.tree(out.oid, out.legacy))

    try:
        return source, RepoTree(source, read_tree)
    except BaseException:
        source.close()
        raise


def _rel(path: str | None) -> str:
    from labvault.workspace.locate import normalize

    return normalize(path) if path not in (None, "", ".", "/") else ""


def list_repo(url: PathLike = ".", path: str | None = None, rev: str | None = None, recursive: bool = False,
              dvc_only: bool = False, level: int | None = None, remote: str | None = None) -> list[ListEntry]:
    """The entries of ``path`` (the root by default) in repository ``url`` at ``rev`` (the
    workspace of a local repository, else HEAD), as ``dvc list``: sorted by path; ``recursive``
    lists every file below (``level``: folders deeper than that are listed, not entered);
    ``dvc_only`` keeps outputs and the folders holding them. A file is listed as itself."""
    from labvault.workspace.repo_listing import list_entries

    source, tree = _tree(url, rev, remote)
    with source:
        return list_entries(tree, _rel(path), recursive, dvc_only, level)


def list_tree(url: PathLike = ".", path: str | None = None, rev: str | None = None, dvc_only: bool = False,
              level: int | None = None, remote: str | None = None) -> list[TreeRow]:
    """``path`` and everything below it, depth first, as ``dvc list --tree`` draws it."""
    from labvault.workspace.repo_listing import tree_rows

    source, tree = _tree(url, rev, remote)
    with source:
        return tree_rows(tree, _rel(path), dvc_only, level)


def disk_usage(url: PathLike = ".", path: str | None = None, rev: str | None = None, summarize: bool = False,
               remote: str | None = None) -> list[DiskUsage]:
    """Bytes below each entry of the folder ``path``, then its total, as ``dvc du``; only the
    total with ``summarize`` (or for a file). Tracked folders count their recorded size."""
    from labvault.workspace.repo_listing import disk_usage as _du

    source, tree = _tree(url, rev, remote)
    with source:
        rows = _du(tree, _rel(path), summarize)
    # the last row is the folder (or file) asked about, named as it was given
    return [DiskUsage(p, size) for p, size in rows[:-1]] + [DiskUsage(path or "", rows[-1][1])]
