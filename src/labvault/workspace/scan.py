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

from labvault.core.hashing import md5_file
from labvault.core.odb import ObjectStore
from labvault.core.tree import Tree
from labvault.errors import PathError, from_os_error
from labvault.fsutil import is_tmp_name
from labvault.progress import Task
from labvault.workspace.ignore import ALWAYS_IGNORED, DVCIGNORE, IgnoreChecker
from labvault.workspace.repo import Repo
from labvault.workspace.state import Entry, Snapshot

BATCH = 128
RACY_NS = 50_000_000  # files modified this close to the scan are re-hashed next time too


# A file found by a walk: (rel, path, inode, mtime_ns, size, mode, nlink, is_symlink)
FileStat = tuple[str, str, int, int, int, int, int, bool]


class Content:
    """What an output holds now: its oid, size, file count, and (folders) its files."""

    __slots__ = ("_pairs", "_tree", "isexec", "nfiles", "oid", "size")

    def __init__(
        self, oid: str, size: int, nfiles: int | None, isexec: bool, tree: Tree | None = None,
        pairs: list[tuple[str, str]] | None = None,
    ) -> None:
        self.oid = oid
        self.size = size
        self.nfiles = nfiles
        self.isexec = isexec
        self._tree = tree
        self._pairs = pairs

    @property
    def is_dir(self) -> bool:
        return self._tree is not None or self._pairs is not None

    @property
    def tree(self) -> Tree | None:
        if self._tree is None and self._pairs is not None:
            self._tree = Tree.from_pairs(self._pairs)
        return self._tree

    def files(self) -> dict[str, str]:
        """relpath -> oid of a folder's files (empty for a file)."""
        if self._pairs is not None:
            return dict(self._pairs)
        if self._tree is not None:
            return self._tree.as_dict()
        return {}


def walk_dir(top: str, checker: IgnoreChecker, leftovers: list[str] | None = None) -> list[FileStat]:
    """Files under ``top`` (symlinks to files followed, symlinked folders skipped, like DVC).

    Temp files that an interrupted labvault left behind are not data: they go to ``leftovers``.
    (Walking sub-folders on threads was measured: no faster cold on this kind of disk, slower warm.)
    """
    found: list[FileStat] = []
    stack = [(top, "")]
    while stack:
        folder, rel = stack.pop()
        stack.extend(_walk_level(folder, rel, checker, leftovers, found))
    return found


def _walk_level(
    folder: str, rel: str, checker: IgnoreChecker, leftovers: list[str] | None, files: list[FileStat]
) -> list[tuple[str, str]]:
    """Append the files of one folder to ``files``; return its sub-folders to walk."""
    try:
        with os.scandir(folder) as it:
            entries = list(it)
    except OSError as exc:
        raise from_os_error(exc, "listing") from exc
    for e in entries:
        if e.name == DVCIGNORE:
            raise PathError(f"{e.path} is inside a tracked folder", "move its patterns to a .dvcignore above the folder")
    check = checker.active
    append = files.append
    subdirs: list[tuple[str, str]] = []
    try:
        for e in entries:
            name = e.name
            if e.is_dir(follow_symlinks=False):
                if name in ALWAYS_IGNORED or (check and checker(rel + name, True, False)):
                    continue
                subdirs.append((e.path, rel + name + "/"))
                continue
            if name[0] == "." and is_tmp_name(name):
                if leftovers is not None:
                    leftovers.append(e.path)
                continue
            if check and checker(rel + name, False, False):
                continue
            st = e.stat(follow_symlinks=False)
            mode = st.st_mode
            if statmod.S_ISREG(mode):
                append((rel + name, e.path, st.st_ino, st.st_mtime_ns, st.st_size, mode, st.st_nlink, False))
            elif statmod.S_ISLNK(mode):
                try:
                    st = os.stat(e.path)
                except FileNotFoundError:
                    raise PathError(f"{e.path} is a broken symlink", "fix or delete it") from None
                if statmod.S_ISREG(st.st_mode):
                    append((rel + name, e.path, st.st_ino, st.st_mtime_ns, st.st_size, st.st_mode, st.st_nlink, True))
    except OSError as exc:
        raise from_os_error(exc, "reading") from exc
    return subdirs


def _hash_batch(batch: list[FileStat], fn: Callable[[str], tuple[str, int]]) -> list[tuple[str, int]]:
    return [fn(f[1]) for f in batch]


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
            out.append(fn(f[1]))
            if task:
                task.advance(1, f[4])
        return out
    batches = [files[i : i + BATCH] for i in range(0, len(files), BATCH)]
    results: list[tuple[str, int]] = []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for batch, res in zip(batches, pool.map(lambda b: _hash_batch(b, fn), batches), strict=True):
            results.extend(res)
            if task:
                task.advance(len(batch), sum(f[4] for f in batch))
    return results


class Scanner:
    """Scans outputs of one repo, sharing its state, object store and thread pool settings."""

    def __init__(
        self, repo: Repo, store: bool, legacy: bool = False, adopt: str = "copy", need_oid: bool = True
    ) -> None:
        """``need_oid=False``: a changed folder's tree oid is not computed (its oid reads as "");
        status compares file by file with the recorded manifest instead."""
        self.repo = repo
        self.need_oid = need_oid
        self.store = store
        self.legacy = legacy and not store
        self.adopt = adopt
        self.kind = "legacy" if self.legacy else "md5"
        self.odb: ObjectStore = repo.odb
        self.hashed = 0
        self.corrupted: list[tuple[str, str]] = []
        self.leftovers: list[str] = []
        self._recorded: str | None = None
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
            checker = self.repo.ignore.checker_for(rel)
            return self._content(rel, walk_dir(path, checker, self.leftovers), True, task)
        if not statmod.S_ISREG(st.st_mode):
            raise PathError(f"{path} is not a regular file or folder", "only files and folders can be tracked")
        f: FileStat = ("", path, st.st_ino, st.st_mtime_ns, st.st_size, st.st_mode, st.st_nlink, os.path.islink(path))
        return self._content(rel, [f], False, task)

    def _content(self, rel: str, files: list[FileStat], is_dir: bool, task: Task | None) -> Content:
        state = self.repo.state
        snap = state.get(rel, self.kind)
        known = snap.entries
        gen = state.generation()
        trust_gen = snap.stored_gen == gen
        trust_store = self.store and trust_gen and all(len(e) > 4 and e[4] for e in known.values())
        odb = self.odb
        oids: list[str | None] = []
        stored: list[bool] = []  # per file: its object is known to be in the cache
        todo: list[int] = []
        for i, f in enumerate(files):
            e = known.get(f[0])
            if e is not None and e[0] == f[2] and e[1] == f[3] and e[2] == f[4]:
                vouched = trust_gen and len(e) > 4 and bool(e[4])
                if self.store and not vouched and not odb.exists(e[3]):
                    oids.append(None)
                    stored.append(False)
                    todo.append(i)
                else:
                    oids.append(e[3])
                    stored.append(self.store or vouched)
            else:
                oids.append(None)
                stored.append(False)
                todo.append(i)
        changed = bool(todo) or len(files) != len(known)
        if is_dir and not changed and snap.tree_oid is not None and (not self.store or trust_store):
            # Every file matches its entry and none was added or removed: the recorded tree
            # stands, and nothing needs writing back. (The common case of status and re-add.)
            recorded_oid = snap.tree_oid
            if self.store and not odb.exists(recorded_oid):
                manifest = Tree.from_pairs((k, v[3]) for k, v in known.items())
                odb.store_bytes(manifest.to_bytes(), recorded_oid)
            return Content(recorded_oid, sum(f[4] for f in files), len(files), False,
                           pairs=[(k, v[3]) for k, v in known.items()])
        horizon = time.time_ns() - RACY_NS
        racy = False
        if todo:
            pending = [files[i] for i in todo]
            linked = self._linked_objects(pending, known)
            fn = self._fn()
            if linked and self.store and self.adopt != "copy":
                # A file that shares its inode with a cache object must be copied, never adopted.
                plain, odb_ = fn, self.odb
                fn = lambda p: odb_.store_file(p, "copy") if p in linked else plain(p)  # noqa: E731
            results = hash_files(pending, fn, self.repo.jobs, task)
            self.hashed += len(pending)
            if linked:
                self._check_linked(linked, {f[1]: r[0] for f, r in zip(pending, results, strict=True)})
            for i, (oid, _size) in zip(todo, results, strict=True):
                oids[i] = oid
                stored[i] = self.store
        entries: dict[str, Entry] = {}
        for f, maybe, flag in zip(files, oids, stored, strict=True):
            assert maybe is not None
            if f[3] < horizon:
                entries[f[0]] = (f[2], f[3], f[4], maybe, flag)
            else:
                racy = True
        size = sum(f[4] for f in files)
        if not is_dir:
            f = files[0]
            content = Content(oids[0] or "", f[4], None, bool(f[5] & 0o100))
            tree_oid: str | None = None
        elif not changed and snap.tree_oid is not None:
            tree_oid = snap.tree_oid
            pairs = [(f[0], o or "") for f, o in zip(files, oids, strict=True)]
            content = Content(tree_oid, size, len(files), False, pairs=pairs)
            if self.store and not (trust_store and odb.exists(tree_oid)):
                tree = content.tree
                assert tree is not None
                odb.store_bytes(tree.to_bytes(), tree_oid)
        elif not self.need_oid and not self.store:
            tree_oid = None
            content = Content("", size, len(files), False, pairs=[(f[0], o or "") for f, o in zip(files, oids, strict=True)])
        else:
            tree = Tree.from_pairs((f[0], o or "") for f, o in zip(files, oids, strict=True))
            tree_oid = tree.oid()
            content = Content(tree_oid, size, len(files), False, tree)
            if self.store:
                odb.store_bytes(tree.to_bytes(), tree_oid)
        # Flags stay meaningful for the generation they were taken in: a store scan vouches now;
        # a hashing-only scan keeps the old generation, its new entries flagged as not stored.
        new_gen = gen if (self.store or trust_gen) else -1
        if changed or racy or new_gen != snap.stored_gen or (is_dir and snap.tree_oid != tree_oid):
            state.put(rel, Snapshot(entries, None if racy else tree_oid, new_gen), self.kind)
        return content

    # --- links into the cache --------------------------------------------------------------
    def _linked_objects(
        self, files: list[FileStat], known: dict[str, Entry]
    ) -> dict[str, tuple[str, str]]:
        """Changed files that are links to cache objects: path -> (object path, object oid).

        Editing such a file edits the object itself (a hardlink, or a symlink followed by a
        process that ignores the read-only mode, such as root).
        """
        linked: dict[str, tuple[str, str]] = {}
        odb = self.odb
        for f in files:
            if f[7]:
                target = os.path.realpath(f[1])
                if target.startswith(odb.cache_dir + os.sep):
                    name = target[len(odb.root) + 1 :].replace("/", "") if target.startswith(odb.root + os.sep) else ""
                    linked[f[1]] = (target, name)
            elif f[6] > 1:
                row = known.get(f[0])
                candidates = {row[3]} if row is not None else set()
                previous = self._previous(f[0])
                if previous:
                    candidates.add(previous)
                for oid in candidates:
                    obj = odb.oid_path(oid)
                    try:
                        if os.path.samefile(obj, f[1]):
                            linked[f[1]] = (obj, oid)
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
                    self.repo.state.bump_generation()
                except OSError:
                    pass
            self.repo.progress.message(
                f"warning: {path} was edited through a link into the cache, which changed cache object {oid}; "
                + ("it was moved to quarantine; " if self.store else "")
                + "restore that version from a remote, and use `labvault unprotect` before editing linked data"
            )
