"""Where labvault may write or delete in a workspace: the one check every writer goes through.

A cloned repository is untrusted input. Its pointers, ``dvc.yaml``/``dvc.lock`` outputs and
``.dir`` manifests name paths, and its git tree may hold symlinks. Two checks keep every write and
every deletion inside the workspace's data:

* **By name** (:func:`output_problem`, no file system access): no path component is ``.git`` or
  ``.dvc`` (a folder, or ``.git`` as a file: a worktree or submodule gitlink), and the last one is
  none of git's or labvault's control files (``.gitignore``, ``.gitattributes``, ``.gitmodules``,
  ``.dvcignore``, ``dvc.yaml``, ``dvc.lock``, ``*.dvc``). Components are compared exactly.
* **By real location** (:class:`Guard`): the folder a file is written into (or deleted from) is
  resolved component by component, following symlinks; its real path must lie inside the
  repository root and outside ``.git``/``.dvc`` (at any depth), the git directory a ``.git`` file
  points to, and the cache (wherever ``cache.dir`` puts it). The last component is never
  followed: writes rename over it and deletions unlink it, so a symlink there is replaced or
  removed, never written through.

What is guaranteed (TOCTOU): the check runs when the command plans, before it changes anything,
so a hostile repository as cloned (symlinks committed in git, pointers naming control files)
cannot make labvault write or delete outside its data. It does not defend against another local
process that swaps a checked folder for a symlink while the command runs: that process could
write there itself.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import TYPE_CHECKING

from labvault.errors import PathError

if TYPE_CHECKING:
    from labvault.workspace.repo import Repo

MANAGED_DIRS = frozenset({".git", ".dvc"})
CONTROL_FILES = frozenset({".gitignore", ".gitattributes", ".gitmodules", ".dvcignore", "dvc.yaml", "dvc.lock"})
POINTER_SUFFIX = ".dvc"


def output_problem(path: str) -> str | None:
    """Why ``path`` (POSIX, relative to the repo or to a pointer's folder) may not be an output,
    or None. Looks at names only."""
    parts = path.split("/")
    for part in parts:
        if part in MANAGED_DIRS:
            return f"lies in {part}, which git or labvault manages" if part != parts[-1] else f"is {part} itself"
    name = parts[-1]
    if name in CONTROL_FILES:
        return f"is {name}, a control file of git or labvault"
    if name.endswith(POINTER_SUFFIX):
        return "is a .dvc pointer file"
    return None


class Guard:
    """Resolves folders of one workspace and refuses those whose real path is not its data.

    Resolutions are remembered per folder, so checking the parents of a million files costs one
    ``lstat`` per distinct folder. Folders that do not exist yet resolve lexically (labvault
    creates them as plain folders).
    """

    def __init__(self, root: Path, cache_dir: str | None = None) -> None:
        self.root = os.path.realpath(root)
        forbidden = [os.path.join(self.root, ".git"), os.path.join(self.root, ".dvc")]
        gitdir = _gitdir_of(os.path.join(self.root, ".git"))
        if gitdir is not None:
            forbidden.append(gitdir)
        if cache_dir is not None:
            forbidden.append(os.path.realpath(cache_dir))
        self._forbidden = tuple(forbidden)
        self._real: dict[str, str] = {self.root: self.root}

    def real_dir(self, folder: str) -> str:
        """The real path of ``folder`` (absolute, normalized), every symlink resolved."""
        folder = os.path.normpath(folder)
        got = self._real.get(folder)
        if got is not None:
            return got
        head, name = os.path.split(folder)
        if not name:  # the file system root
            return folder
        parent = self.real_dir(head)
        here = os.path.join(parent, name)
        try:
            is_link = os.path.islink(here)
        except OSError:
            is_link = False
        real = os.path.realpath(here) if is_link else here
        self._real[folder] = real
        return real

    def problem(self, folder: str) -> str | None:
        """Why files may not be written into or deleted from ``folder``, or None."""
        real = self.real_dir(folder)
        if real != self.root and not real.startswith(self.root + os.sep):
            return f"its real location {real} is outside the repository"
        for bad in self._forbidden:
            if real == bad or real.startswith(bad + os.sep):
                return f"its real location {real} is inside {bad}"
        rel = posixpath.normpath(os.path.relpath(real, self.root).replace(os.sep, "/"))
        if rel != "." and any(part in MANAGED_DIRS for part in rel.split("/")):
            return f"its real location {real} is inside a .git or .dvc folder"
        return None

    def check_folder(self, folder: str, shown: str) -> None:
        """Refuse (PathError, exit 2) writing into or deleting from ``folder``; ``shown`` names
        the output concerned."""
        why = self.problem(folder)
        if why is not None:
            folder = os.path.normpath(folder)
            rel = os.path.relpath(folder, self.root)
            if rel == ".." or rel.startswith(".." + os.sep):  # outside by its name, no symlink needed
                raise PathError(f"refusing to write {shown}: it lies outside the repository {self.root}",
                                "name outputs inside the repository")
            raise PathError(
                f"refusing to write {shown}: the folder {rel} is a symlink or lies behind one; {why}",
                "replace the symlink by a real folder, or stop tracking the output",
            )

    def check_target(self, path: str, shown: str) -> None:
        """Refuse writing, replacing or deleting the file ``path`` (its folder is checked)."""
        self.check_folder(os.path.dirname(os.path.normpath(path)), shown)

    def check_output(self, rel: str, is_dir: bool) -> None:
        """An output about to be written or deleted: its name, and its real place. A folder
        output (``is_dir``, or a folder now, a symlink to one included) is written into or
        emptied, so the folder itself must resolve inside; a file's folder must."""
        why = output_problem(rel)
        if why is not None:
            raise PathError(f"refusing to write the output {rel}: it {why}", "the pointer or dvc.yaml naming it is corrupt or hostile")
        path = os.path.join(self.root, rel)
        if is_dir or os.path.isdir(path):  # what is there now (through a link too) or will be
            self.check_folder(path, rel)
        else:
            self.check_target(path, rel)


def _gitdir_of(dot_git: str) -> str | None:
    """The git directory a ``.git`` *file* (worktree, submodule) points to."""
    try:
        if not os.path.isfile(dot_git) or os.path.islink(dot_git):
            return None
        with open(dot_git, encoding="utf-8", errors="replace") as f:
            line = f.readline(4096).strip()
    except OSError:
        return None
    if not line.startswith("gitdir:"):
        return None
    target = line[len("gitdir:") :].strip()
    return os.path.realpath(os.path.join(os.path.dirname(dot_git), target))


def guard_for(repo: Repo) -> Guard:
    """The guard of ``repo``: its root, git directory and cache are out of bounds."""
    return Guard(repo.root, repo.odb.cache_dir)
