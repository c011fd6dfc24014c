"""``diff``: added, deleted and modified files between two revisions (or a revision and the workspace)."""

from __future__ import annotations

from dataclasses import dataclass

from labvault.errors import CacheError
from labvault.workspace.index import Tracked, outputs_at_rev, workspace_outputs
from labvault.workspace.repo import Repo
from labvault.workspace.scan import Scanner

WORKSPACE = "workspace"


@dataclass(frozen=True)
class DiffReport:
    a_rev: str
    b_rev: str
    added: tuple[str, ...]
    deleted: tuple[str, ...]
    modified: tuple[str, ...]
    incomplete: tuple[str, ...]  # outputs whose manifest is not in the cache: compared as a whole


def _files_recorded(repo: Repo, tracked: list[Tracked], incomplete: list[str]) -> dict[str, str]:
    files: dict[str, str] = {}
    for t in tracked:
        out = t.out
        if out.oid is None:
            continue
        if out.is_dir:
            tree = repo.odb.try_load_tree(out.oid, out.legacy)
            if tree is None:
                incomplete.append(t.rel)
                files[t.rel + "/"] = out.oid
                continue
            for rel, oid in tree:
                files[f"{t.rel}/{rel}"] = oid
        else:
            files[t.rel] = out.oid
    return files


def _files_workspace(repo: Repo, tracked: list[Tracked]) -> dict[str, str]:
    files: dict[str, str] = {}
    for t in tracked:
        content = Scanner(repo, store=False, legacy=t.out.legacy).scan(t.rel)
        if content is None:
            continue
        if content.is_dir:
            for rel, oid in content.files().items():
                files[f"{t.rel}/{rel}"] = oid
        else:
            files[t.rel] = content.oid
    return files


def diff(repo: Repo, a_rev: str | None = None, b_rev: str | None = None) -> DiffReport:
    git = repo.require_scm()
    a = a_rev or "HEAD"
    incomplete: list[str] = []
    if not git.has_commits() and a == "HEAD":
        a_files: dict[str, str] = {}
    else:
        a_files = _files_recorded(repo, outputs_at_rev(repo, git.resolve(a)), incomplete)
    if b_rev is None:
        b_files = _files_workspace(repo, workspace_outputs(repo))
        b = WORKSPACE
    else:
        b_files = _files_recorded(repo, outputs_at_rev(repo, git.resolve(b_rev)), incomplete)
        b = b_rev
    if incomplete and b == WORKSPACE and not a_files:
        raise CacheError("manifests missing from the cache", "run `labvault pull` first")
    added = tuple(sorted(p for p in b_files if p not in a_files))
    deleted = tuple(sorted(p for p in a_files if p not in b_files))
    modified = tuple(sorted(p for p, o in b_files.items() if p in a_files and a_files[p] != o))
    return DiffReport(a, b, added, deleted, modified, tuple(sorted(set(incomplete))))
