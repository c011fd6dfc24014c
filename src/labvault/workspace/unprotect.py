"""``unprotect``: turn links into the cache into private, writable copies before editing."""

from __future__ import annotations

import os

from labvault.core.links import copy_file
from labvault.errors import from_os_error
from labvault.fsutil import tmp_name
from labvault.workspace.index import select, workspace_outputs
from labvault.workspace.repo import Repo
from labvault.workspace.safepath import guard_for


def _unprotect_file(path: str) -> bool:
    st = os.lstat(path)
    if not os.path.islink(path) and st.st_nlink == 1 and st.st_mode & 0o200:
        return False
    tmp = tmp_name(path)
    copy_file(path, tmp)
    os.chmod(tmp, (os.stat(path).st_mode & 0o777) | 0o200)
    os.replace(tmp, path)
    return True


def unprotect(repo: Repo, targets: list[str]) -> list[str]:
    changed: list[str] = []
    with repo.locked():
        guard = guard_for(repo)
        chosen = select(workspace_outputs(repo), repo, targets)
        for t in chosen:  # every output checked before any file is replaced
            base = str(repo.abspath(t.rel))
            guard.check_output(t.rel, os.path.isdir(base) and not os.path.islink(base))
        for t in chosen:
            base = str(repo.abspath(t.rel))
            paths = [base]
            if os.path.isdir(base) and not os.path.islink(base):
                paths = [os.path.join(r, n) for r, _, names in os.walk(base) for n in names]
            for p in paths:
                try:
                    if _unprotect_file(p):
                        changed.append(os.path.relpath(p, repo.root))
                except OSError as exc:
                    raise from_os_error(exc, "unprotecting") from exc
    return changed
