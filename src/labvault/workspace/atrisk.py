"""The checkout rule, for every command that deletes workspace data: a file whose current content
is not in the cache is the only copy, and is deleted only when the user forces it.

``remove --outs`` asks :func:`uncached` first and refuses with
:class:`~labvault.errors.WorkspaceConflictError` (exit 4, nothing changed) unless forced, as
``checkout`` does (``move`` never replaces an existing target). ``repro``, which deletes a stage's
cached outputs before running it, cannot ask: a stage that failed half-way leaves outputs that
are in no cache, and its rerun must not be blocked. It saves them instead (:func:`save_uncached`):
their content is stored in the cache, as ``add`` would, before they are deleted, and a message
names the object to restore it from, so nothing is lost until a ``gc``.
"""

from __future__ import annotations

from labvault.errors import WorkspaceConflictError
from labvault.workspace.repo import Repo
from labvault.workspace.scan import Scanner


def uncached(repo: Repo, rel: str) -> list[str]:
    """Repo-relative paths of the files of output ``rel`` whose current content is in neither the
    3.x nor the 2.x cache (empty when it does not exist)."""
    content = Scanner(repo, store=False).scan(rel)
    if content is None:
        return []
    odb = repo.odb
    if not content.is_dir:
        if odb.exists(content.oid):
            return []
        legacy = Scanner(repo, store=False, legacy=True).scan(rel)
        return [] if legacy is not None and odb.exists(legacy.oid, True) else [rel]
    missing = [inner for inner, oid in content.files().items() if not odb.exists(oid)]
    if not missing:
        return []
    from labvault.core.hashing import md5_file

    lost = []
    for inner in sorted(missing):
        try:
            if odb.exists(md5_file(repo.abspath(f"{rel}/{inner}"), legacy=True), True):
                continue
        except OSError:
            pass
        lost.append(f"{rel}/{inner}")
    return lost


def refuse_if_uncached(repo: Repo, rels: list[str], action: str, force_flag: str = "--force") -> None:
    """Raise WorkspaceConflictError naming the first file of ``rels`` that ``action`` would lose."""
    lost = [p for rel in rels for p in uncached(repo, rel)]
    if not lost:
        return
    more = f" (and {len(lost) - 1} more)" if len(lost) > 1 else ""
    raise WorkspaceConflictError(
        f"{action} would delete {lost[0]}{more}, whose current content is not in the cache",
        f"record it first with `labvault commit` (or `labvault add`), or pass {force_flag} to discard it",
    )


def save_uncached(repo: Repo, rels: list[str]) -> list[tuple[str, str]]:
    """Store in the cache the current content of each output of ``rels`` that is not there yet;
    returns (output, oid) of what was saved."""
    saved = []
    for rel in rels:
        if not uncached(repo, rel):
            continue
        content = Scanner(repo, store=True).scan(rel)
        if content is not None:
            saved.append((rel, content.oid))
    return saved
