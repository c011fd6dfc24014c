"""Finding, opening and creating a repository; turning user paths into checked repo paths."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from labvault.config import Config, ConfigFile
from labvault.core.links import Linker, parse_types
from labvault.core.odb import ObjectStore, cache_dir_for
from labvault.errors import ConfigError, NotARepoError, PathError, ScmError
from labvault.fsutil import atomic_write_text
from labvault.progress import NULL_PROGRESS, Progress
from labvault.workspace import prefetch
from labvault.workspace.ignore import DVCIGNORE, IgnoreRules
from labvault.workspace.lock import repo_lock
from labvault.workspace.scm import Git
from labvault.workspace.state import State

DVC_DIR = ".dvc"
DVC_GITIGNORE = "/config.local\n/tmp\n/cache\n"
DVCIGNORE_TEXT = (
    "# Patterns of files and folders for labvault (and dvc) to ignore inside tracked folders,\n"
    "# in .gitignore syntax.\n"
)


@dataclass
class Repo:
    root: Path
    progress: Progress = NULL_PROGRESS
    cwd: Path | None = None  # where relative user paths start; the process's cwd when None

    @cached_property
    def dvc_dir(self) -> Path:
        return self.root / DVC_DIR

    @property
    def tmp_dir(self) -> Path:
        return self.dvc_dir / "tmp"

    @cached_property
    def config(self) -> Config:
        return Config.load(self.dvc_dir)

    @cached_property
    def odb(self) -> ObjectStore:
        path = cache_dir_for(self.dvc_dir, self.config.get("cache", "dir"))
        if self.config.origin("cache", "dir") == "repo":
            _check_committed_cache_dir(self.root, path)
        return ObjectStore(path)

    @cached_property
    def state(self) -> State:
        return State(self.tmp_dir, warn=self.progress.message)

    @cached_property
    def ignore(self) -> IgnoreRules:
        return IgnoreRules(self.root)

    @cached_property
    def scm(self) -> Git | None:
        if self.config.get_bool("core", "no_scm", False):
            return None
        if not (self.root / ".git").exists() and Git.find_root(self.root) is None:
            return None
        return Git(Git.find_root(self.root) or self.root)

    def require_scm(self) -> Git:
        if self.scm is None:
            raise ScmError("this command needs git, and this repo has none", "run it in a git repository")
        return self.scm

    def linker(self) -> Linker:
        types = parse_types(self.config.get("cache", "type"))
        for t in types:
            if t not in ("reflink", "hardlink", "symlink", "copy"):
                raise ConfigError(f"bad cache.type {t!r}", "use reflink, hardlink, symlink or copy")
        return Linker(types)

    @property
    def jobs(self) -> int:
        value = self.config.get_float("labvault", "jobs", 0)
        return int(value) if value >= 1 else max(2, min(8, (os.cpu_count() or 2)))

    @property
    def fsync(self) -> bool:
        """Whether new cache objects must reach the disk before the command goes on.

        ``labvault.fsync``: ``always``/true, ``never``/false, or ``auto`` (the default): only when
        the workspace is about to give up its own copy of the data, i.e. when files are replaced
        by symlinks into the cache. With copies, reflinks or adopted hardlinks the workspace keeps
        the bytes, so a power cut can cost at most a cache object that `verify` reports and the
        next `add` rewrites, never the data.
        """
        value = (self.config.get("labvault", "fsync") or "auto").strip().lower()
        if value in ("1", "true", "yes", "on", "always"):
            return True
        if value in ("0", "false", "no", "off", "never"):
            return False
        return self.linker().types[0] == "symlink"

    @contextmanager
    def locked(self) -> Iterator[None]:
        timeout = self.config.get_float("labvault", "lock_timeout", 600.0)
        with repo_lock(self.tmp_dir, timeout, self.progress):
            # What read-ahead helpers listed before the lock was ours may have changed since.
            prefetch.lock_taken()
            yield

    # --- paths -------------------------------------------------------------------------------
    def rel(self, path: Path) -> str:
        """POSIX path of ``path`` relative to the root; refuses paths outside it or in .dvc/."""
        joined = os.path.normpath(os.path.join(self.base, path))
        head, tail = os.path.split(joined)
        absolute = Path(os.path.realpath(head)) / tail if tail else Path(os.path.realpath(joined))
        try:
            rel = absolute.relative_to(self.root)
        except ValueError:
            raise PathError(f"{path} is outside the repository {self.root}", "move it inside the repo first") from None
        posix = rel.as_posix()
        if posix == ".":
            raise PathError("the repository root itself cannot be tracked", "track folders inside it")
        first = posix.split("/", 1)[0]
        if first in (DVC_DIR, ".git"):
            raise PathError(f"{path} is inside {first}/, which labvault manages", "track data outside it")
        return posix

    @property
    def base(self) -> Path:
        return self.cwd if self.cwd is not None else Path.cwd()

    def abspath(self, rel: str) -> Path:
        return self.root / rel


def _resolved(p: Path) -> Path:
    return Path(os.path.realpath(p))


def find_root(start: Path | None = None) -> Path:
    return Path(find_root_str(os.fspath(start) if start is not None else None))


def find_root_str(start: str | None) -> str:
    """The real path of the folder holding ``.dvc`` at or above ``start`` (the current folder by
    default), as a plain string: this runs on every ``labvault.open``."""
    cur = os.path.realpath(start if start is not None else os.getcwd())
    candidate = cur
    while True:
        if os.path.isdir(candidate + "/" + DVC_DIR if candidate != "/" else "/" + DVC_DIR):
            return candidate
        parent = os.path.dirname(candidate)
        if parent == candidate:
            break
        candidate = parent
    raise NotARepoError(f"{cur} is not inside a labvault/DVC repository", "run `labvault init` at the project's root")


def open_repo(start: Path | None = None, progress: Progress = NULL_PROGRESS) -> Repo:
    """The repo holding ``start`` (the current folder by default); relative paths given to its
    commands start at ``start``."""
    return Repo(find_root(start), progress, Path(os.path.abspath(start)) if start is not None else None)


def init_repo(root: Path, no_scm: bool = False, force: bool = False) -> Repo:
    root = _resolved(root)
    if not root.is_dir():
        raise PathError(f"{root} is not a folder", "create it first")
    dvc_dir = root / DVC_DIR
    git_root = None if no_scm else Git.find_root(root)
    if not no_scm and git_root is None:
        raise ScmError(f"{root} is not in a git repository", "run `git init` first, or pass --no-scm")
    if dvc_dir.exists() and not force:
        raise PathError(f"{dvc_dir} already exists", "this is already a repo; pass --force to re-initialize")
    dvc_dir.mkdir(exist_ok=True)
    config_file = dvc_dir / "config"
    cfg = ConfigFile.load(config_file)
    if no_scm:
        cfg.sections.setdefault("core", {})["no_scm"] = "True"
    if no_scm or not config_file.exists():
        cfg.save()
    atomic_write_text(dvc_dir / ".gitignore", DVC_GITIGNORE)
    if not (root / DVCIGNORE).exists():
        atomic_write_text(root / DVCIGNORE, DVCIGNORE_TEXT)
    repo = Repo(root)
    if git_root is not None:
        git = Git(git_root)
        git.add([str(config_file), str(dvc_dir / ".gitignore"), str(root / DVCIGNORE)])
    return repo


def _check_committed_cache_dir(root: Path, path: Path) -> None:
    """A ``cache.dir`` set in the committed ``.dvc/config`` comes with the clone: it may name a
    lab's shared cache, but it must not make labvault create folders anywhere. Outside the
    repository it is used only if it already exists and is empty or holds a cache (``files/``);
    inside the repository the path guards of ``workspace.safepath`` apply as usual."""
    real = Path(os.path.realpath(path))
    real_root = Path(os.path.realpath(root))
    if real == real_root or real_root in real.parents:
        return
    try:
        entries = set(os.listdir(real))
    except FileNotFoundError:
        entries = None
    except OSError:
        return  # unreadable: the cache's own error says so when it is used
    if entries is not None and (not entries or "files" in entries):
        return
    what = "does not exist" if entries is None else "is not a cache (no files/ folder) and not empty"
    raise ConfigError(
        f"cache.dir {path} (set by the committed .dvc/config) lies outside the repository and {what}",
        "create it as an empty folder if that is the lab's shared cache, or set cache.dir in .dvc/config.local",
    )

