"""``install``: git hooks that keep the data in step with git, as ``dvc install`` sets them up.

* ``post-checkout``: after git switched branches or commits (not a file checkout, not in the
  middle of a rebase), ``labvault checkout`` makes the data match (it refuses to destroy
  unsaved data, as always);
* ``pre-commit``: ``labvault status`` shows what changed before the commit is made;
* ``pre-push``: ``labvault push`` sends the data the commits being pushed need.

Each hook is ``exec labvault git-hook NAME "$@"`` (the absolute interpreter when ``labvault`` is
not on ``PATH``). Hooks go where git looks for them (``git rev-parse --git-path hooks``, which
follows ``core.hooksPath`` and worktrees). An existing hook that is not labvault's is never
replaced: the call refuses before writing any, naming it; rerunning on installed hooks changes
nothing.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from labvault.errors import ScmError, UsageError
from labvault.fsutil import atomic_write_text
from labvault.progress import NULL_PROGRESS
from labvault.workspace.repo import open_repo

PathLike = str | os.PathLike[str]
HOOKS = ("post-checkout", "pre-commit", "pre-push")


@dataclass(frozen=True)
class InstalledHooks:
    folder: str
    written: tuple[str, ...]  # hooks written now
    present: tuple[str, ...]  # labvault's hooks that were there already


def _command() -> str:
    found = shutil.which("labvault")
    here = Path(sys.executable).parent / "labvault"
    if found is not None and (not here.exists() or os.path.samefile(found, here)):
        return "labvault"
    if here.exists():
        return shlex.quote(str(here))
    return f"{shlex.quote(sys.executable)} -m labvault.cli.main"


def hook_text(name: str) -> str:
    return f'#!/bin/sh\nexec {_command()} git-hook {name} "$@"\n'


def _is_ours(text: str, name: str) -> bool:
    return f" git-hook {name} " in text and "labvault" in text


def install_hooks(repo: PathLike | None = None) -> InstalledHooks:
    """Write labvault's git hooks (see the module); refuses, writing nothing, when a hook of
    another tool (or a person) is in the way, or the repository has no git."""
    r = open_repo(Path(repo) if repo is not None else None, NULL_PROGRESS)
    if r.scm is None:
        raise UsageError(f"{r.root} is not in a git repository", "git init first: the hooks are git's")
    folder = r.scm.git_path("hooks")
    written, present = [], []
    for name in HOOKS:
        path = folder / name
        if os.path.lexists(path):
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                raise ScmError(f"cannot read the existing git hook {path}: {exc.strerror}") from None
            if not _is_ours(text, name):
                raise UsageError(f"a {name} hook exists already ({path}), not labvault's",
                                 f"add `labvault git-hook {name} \"$@\"` to it by hand, or move it away and run this again")
            present.append(name)
    folder.mkdir(parents=True, exist_ok=True)
    for name in HOOKS:
        if name in present:
            continue
        path = folder / name
        atomic_write_text(path, hook_text(name))
        os.chmod(path, 0o755)
        written.append(name)
    return InstalledHooks(str(folder), tuple(written), tuple(present))
