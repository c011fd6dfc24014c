"""Naming the content of an output on disk: walk it, reuse the stat cache, hash what changed.

With ``store=True`` every file is also put into the object store during the same read (``add`` and
``commit``); without it nothing is written but the stat cache (``status``, ``diff``).
Hashing runs on a thread pool in batches; the GIL is released during reads, hashing and writes.
"""

from __future__ import annotations

import os
import stat as statmod
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from labvault.core.hashing import md5_file
from labvault.core.odb import ObjectStore
from labvault.core.tree import Tree
from labvault.errors import LabvaultError, PathError, from_os_error
from labvault.fsutil import is_tmp_name
from labvault.progress import Task
from labvault.workspace.ignore import ALWAYS_IGNORED, DVCIGNORE, IgnoreChecker
from labvault.workspace.repo import Repo
from labvault.workspace.state import Key

BATCH = 128
RACY_NS = 50_000_000  # files modified this close to the scan are re-hashed next time too


@dataclass(frozen=True, slots=True)
class FileStat:
    rel: str  # relative to the output (directories) or "" (a file output)
    path: str
    key: Key
    isexec: bool
    nlink: int = 1
    is_link: bool = False


@dataclass(frozen=True)
class Content:
    """What an output holds now."""

    oid: str
    size: int
    nfiles: int | None
    isexec: bool
    tree: Tree | None


def walk_dir(top: str, checker: IgnoreChecker, leftovers: list[str] | None = None) -> list[FileStat]:
    """Files under ``top`` (symlinks to files followed, symlinked folders skipped, like DVC).

    Temp files that an interrupted labvault left behind are not data: they go to ``leftovers``.
    """
    files: list[FileStat] = []
    stack: list[tuple[str, str]] = [(top, "")]
    while stack:
        folder, rel = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as exc:
            raise from_os_error(exc, "listing") from exc
        has_ignore = False
        for e in entries:
            if e.name == DVCIGNORE:
                if rel or folder != top:
                    raise PathError(
                        f"{e.path} is inside a tracked folder", "move its patterns to a .dvcignore above the folder"
                    )
                has_ignore = True
        for e in entries:
            name = e.name
            if name[0] == "." and is_tmp_name(name):
                if leftovers is not None:
                    leftovers.append(e.path)
                continue
            sub = f"{rel}/{name}" if rel else name
            try:
                if e.is_dir(follow_symlinks=False):
                    if name in ALWAYS_IGNORED or checker(sub, True, has_ignore):
                        continue
                    stack.append((e.path, sub))
                    continue
                if e.is_symlink():
                    try:
                        st = os.stat(e.path)
                    except FileNotFoundError:
                        raise PathError(f"{e.path} is a broken symlink", "fix or delete it") from None
                    if not statmod.S_ISREG(st.st_mode):
                        continue  # a link to a folder: skipped, as DVC does
                else:
                    st = e.stat(follow_symlinks=False)
                    if not statmod.S_ISREG(st.st_mode):
                        continue
            except OSError as exc:
                raise from_os_error(exc, "reading") from exc
            if checker(sub, False, has_ignore):
                continue
            files.append(
                FileStat(
                    sub, e.path, (st.st_ino, st.st_mtime_ns, st.st_size), bool(st.st_mode & 0o100),
                    st.st_nlink, e.is_symlink(),
                )
            )
    return files


def stat_file(path: str) -> FileStat:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise PathError(f"{path} does not exist", "check the path") from None
    except OSError as exc:
        raise from_os_error(exc, "reading") from exc
    return FileStat("", path, (st.st_ino, st.st_mtime_ns, st.st_size), bool(st.st_mode & 0o100))


def _hash_batch(batch: list[FileStat], fn: Callable[[str], tuple[str, int]]) -> list[tuple[str, int]]:
    return [fn(f.path) for f in batch]


def hash_files(
    files: list[FileStat],
    fn: Callable[[str], tuple[str, int]],
    jobs: int,
    task: Task | None = None,
) -> list[tuple[str, int]]:
    """Apply ``fn`` (path -> (oid, size)) to every file, in parallel batches, keeping order."""
    if not files:
        return []
    if len(files) <= BATCH or jobs <= 1:
        out = []
        for f in files:
            out.append(fn(f.path))
            if task:
                task.advance(1, f.key[2])
        return out
    batches = [files[i : i + BATCH] for i in range(0, len(files), BATCH)]
    results: list[tuple[str, int]] = []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for batch, res in zip(batches, pool.map(lambda b: _hash_batch(b, fn), batches), strict=True):
            results.extend(res)
            if task:
                task.advance(len(batch), sum(f.key[2] for f in batch))
    return results


class Scanner:
    """Scans outputs of one repo, sharing its state, object store and thread pool settings."""

    def __init__(self, repo: Repo, store: bool, legacy: bool = False, adopt: str = "copy") -> None:
        self.repo = repo
        self.store = store
        self.legacy = legacy and not store
        self.adopt = adopt
        self.kind = "legacy" if self.legacy else "md5"
        self.odb: ObjectStore = repo.odb
        self.hashed = 0
        self.corrupted: list[tuple[str, str]] = []
        self._recorded: str | None = None
        self.leftovers: list[str] = []
        self._recorded_tree: tuple[str, dict[str, str]] | None = None

    def _fn(self) -> Callable[[str], tuple[str, int]]:
        if self.store:
            odb, adopt = self.odb, self.adopt
            return lambda p: odb.store_file(p, adopt)
        legacy = self.legacy

        def just_hash(p: str) -> tuple[str, int]:
            try:
                return md5_file(p, legacy=legacy), 0
            except OSError as exc:
                raise from_os_error(exc, "reading") from exc

        return just_hash

    def scan(self, rel: str, task: Task | None = None, recorded: str | None = None) -> Content | None:
        """Content of output ``rel``; None when it does not exist.

        ``recorded`` is the oid its pointer holds, used to notice edits made through links.
        """
        self._recorded = recorded
        path = str(self.repo.abspath(rel))
        try:
            st = os.stat(path)
        except FileNotFoundError:
            if os.path.islink(path):
                raise PathError(f"{path} is a broken symlink", "fix or delete it") from None
            return None
        except OSError as exc:
            raise from_os_error(exc, "reading") from exc
        if statmod.S_ISDIR(st.st_mode):
            return self._scan_dir(rel, path, task)
        if not statmod.S_ISREG(st.st_mode):
            raise PathError(f"{path} is not a regular file or folder", "only files and folders can be tracked")
        f = FileStat(
            "", path, (st.st_ino, st.st_mtime_ns, st.st_size), bool(st.st_mode & 0o100), st.st_nlink,
            os.path.islink(path),
        )
        oids = self._oids(rel, [f], task)
        return Content(oids[0], st.st_size, None, f.isexec, None)

    def _scan_dir(self, rel: str, path: str, task: Task | None) -> Content:
        checker = self.repo.ignore.checker_for(rel)
        files = walk_dir(path, checker, self.leftovers)
        oids = self._oids(rel, files, task)
        tree = Tree.from_pairs(zip((f.rel for f in files), oids, strict=True))
        size = sum(f.key[2] for f in files)
        oid = tree.oid()
        if self.store:
            self.odb.store_bytes(tree.to_bytes(), oid)
        return Content(oid, size, len(files), False, tree)

    def _oids(self, rel: str, files: list[FileStat], task: Task | None) -> list[str]:
        known = self.repo.state.get_prefix(rel, self.kind)
        oids: list[str | None] = []
        todo: list[int] = []
        odb = self.odb
        for i, f in enumerate(files):
            key_rel = f"{rel}/{f.rel}" if f.rel else rel
            row = known.get(key_rel)
            if row is not None and row[0] == f.key and (not self.store or odb.exists(row[1])):
                oids.append(row[1])
            else:
                oids.append(None)
                todo.append(i)
        if todo:
            pending = [files[i] for i in todo]
            linked = self._linked_objects(rel, pending, known)
            fn = self._fn()
            if linked and self.store and self.adopt != "copy":
                # A file that shares its inode with a cache object must be copied, never adopted.
                plain, odb_ = fn, self.odb
                fn = lambda p: odb_.store_file(p, "copy") if p in linked else plain(p)  # noqa: E731
            results = hash_files(pending, fn, self.repo.jobs, task)
            if linked:
                self._check_linked(linked, {f.path: r[0] for f, r in zip(pending, results, strict=True)})
            self.hashed += len(pending)
            horizon = time.time_ns() - RACY_NS
            rows = []
            for i, (oid, _size) in zip(todo, results, strict=True):
                oids[i] = oid
                f = files[i]
                if f.key[1] < horizon:
                    key_rel = f"{rel}/{f.rel}" if f.rel else rel
                    rows.append((key_rel, f.key[0], f.key[1], f.key[2], oid))
            self.repo.state.put_many(rows, self.kind)
        if any(o is None for o in oids):  # pragma: no cover - defensive
            raise LabvaultError("internal error: a file was left unhashed")
        return [o for o in oids if o is not None]

    # --- links into the cache --------------------------------------------------------------
    def _linked_objects(
        self, rel: str, files: list[FileStat], known: dict[str, tuple[Key, str]]
    ) -> dict[str, tuple[str, str]]:
        """Changed files that are links to cache objects: path -> (object path, object oid).

        Editing such a file edits the object itself (a hardlink, or a symlink followed by a
        process that ignores the read-only mode, such as root).
        """
        linked: dict[str, tuple[str, str]] = {}
        odb = self.odb
        for f in files:
            if f.is_link:
                target = os.path.realpath(f.path)
                if target.startswith(odb.cache_dir + os.sep):
                    name = target[len(odb.root) + 1 :].replace("/", "") if target.startswith(odb.root + os.sep) else ""
                    linked[f.path] = (target, name)
            elif f.nlink > 1:
                row = known.get(f"{rel}/{f.rel}" if f.rel else rel)
                candidates = {row[1]} if row is not None else set()
                previous = self._previous(f.rel)
                if previous:
                    candidates.add(previous)
                for oid in candidates:
                    obj = odb.oid_path(oid)
                    try:
                        if os.path.samefile(obj, f.path):
                            linked[f.path] = (obj, oid)
                    except OSError:
                        continue
        return linked

    def _previous(self, rel_in_out: str) -> str | None:
        recorded = self._recorded
        if not recorded:
            return None
        if not rel_in_out:
            return None if recorded.endswith(".dir") else recorded
        if self._recorded_tree is None or self._recorded_tree[0] != recorded:
            tree = self.odb.try_load_tree(recorded) if recorded.endswith(".dir") else None
            self._recorded_tree = (recorded, tree.as_dict() if tree else {})
        return self._recorded_tree[1].get(rel_in_out)

    def _check_linked(self, linked: dict[str, tuple[str, str]], new_oids: dict[str, str]) -> None:
        for path, (obj, oid) in linked.items():
            if not oid or new_oids.get(path) == oid:
                continue
            self.corrupted.append((path, oid))
            if self.store:
                try:
                    self.odb.quarantine(obj)
                except OSError:
                    pass
            self.repo.progress.message(
                f"warning: {path} was edited through a link into the cache, which changed cache object {oid}; "
                + ("it was moved to quarantine; " if self.store else "")
                + "restore that version from a remote, and use `labvault unprotect` before editing linked data"
            )
