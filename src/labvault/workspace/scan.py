"""Naming the content of an output on disk: walk it (workspace.walk), reuse the stat cache, hash
what changed.

With ``store=True`` every file is also put into the object store during the same read (``add`` and
``commit``); without it nothing is written but the stat cache (``status``, ``diff``).
Hashing runs on a thread pool in batches; the GIL is released during reads, hashing and writes.
"""

from __future__ import annotations

import os
import stat as statmod
import time
from collections.abc import Callable, Iterator

from labvault.core.hashing import md5_bytes, md5_file
from labvault.core.odb import ObjectStore
from labvault.core.tree import DIR_SUFFIX, Tree, manifest_bytes
from labvault.errors import PathError, from_os_error
from labvault.progress import Task
from labvault.workspace.presence import confirm_present
from labvault.workspace.repo import Repo
from labvault.workspace.snapshot import Snapshot
from labvault.workspace.state import RACY_NS
from labvault.workspace.walk import FileStat, iter_walk

BATCH = 128
FEW_FILES, FEW_BYTES = 64, 16 << 20  # see the end of Scanner._content
FLUSH = 4096  # files read per round while walking: bounds the memory of a first add


Pairs = list[tuple[str, str]]
Delta = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]


class Content:
    """What an output holds now: its oid, size, file count, and (folders) its files.

    A folder's (relpath, oid) pairs are made only when asked for. ``delta`` (added, modified,
    deleted relpaths) says how the folder differs from the tree ``delta_base`` that the stat cache
    last recorded for it, when that is known; status uses it instead of comparing whole manifests.
    """

    __slots__ = ("_make", "_tree", "bases", "delta", "delta_base", "isexec", "missing", "nfiles", "oid", "size")

    def __init__(
        self, oid: str, size: int, nfiles: int | None, isexec: bool, tree: Tree | None = None,
        make: Callable[[], Pairs] | None = None, delta: Delta | None = None, delta_base: str | None = None,
        missing: list[str] | None = None,
    ) -> None:
        self.oid = oid
        self.size = size
        self.nfiles = nfiles
        self.isexec = isexec
        self._tree = tree
        self._make = make
        self.delta = delta
        self.delta_base = delta_base
        # files (relpaths, "" for a file output) whose objects are not in the cache; known only
        # after a scan with ``check_cache`` (``add`` stores them again instead)
        self.missing = missing or []
        # with ``delta``: the oid in ``delta_base`` of each modified or deleted file
        self.bases: dict[str, str] = {}

    @property
    def is_dir(self) -> bool:
        return self._tree is not None or self._make is not None

    @property
    def tree(self) -> Tree | None:
        if self._tree is None and self._make is not None:
            self._tree = Tree.from_pairs(self._make())
        return self._tree

    def files(self) -> dict[str, str]:
        """relpath -> oid of a folder's files (empty for a file)."""
        if self._tree is not None:
            return self._tree.as_dict()
        if self._make is not None:
            return dict(self._make())
        return {}


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
    from concurrent.futures import ThreadPoolExecutor  # loaded when there is hashing to share

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
        self, repo: Repo, store: bool, legacy: bool = False, adopt: str = "copy", need_oid: bool = True,
        check_cache: bool = False,
    ) -> None:
        """``need_oid=False``: a changed folder's tree oid is not computed (its oid reads as "");
        status compares file by file with the recorded manifest instead. ``check_cache``: find
        out which files' objects are missing from the cache (``Content.missing``)."""
        self.check_cache = check_cache
        self._rel = ""
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
        self._rel = rel
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
            return self._content(rel, iter_walk(path, checker, self.leftovers), True, task)
        if not statmod.S_ISREG(st.st_mode):
            raise PathError(f"{path} is not a regular file or folder", "only files and folders can be tracked")
        f: FileStat = ("", path, st.st_ino, st.st_mtime_ns, st.st_size, st.st_mode, st.st_nlink, os.path.islink(path))
        return self._content(rel, iter([[f]]), False, task)

    def _content(self, rel: str, walk: Iterator[list[FileStat]], is_dir: bool, task: Task | None) -> Content:
        """Compare the files found with the stat cache, a folder at a time; read (hash, and with
        ``store`` put in the cache) those that differ, in batches as the walk goes; update the
        snapshot in place. Memory: the snapshot plus one batch, whatever the output's size.
        With ``store`` (or ``check_cache``) the objects of every file are then confirmed present
        (``workspace.presence``)."""
        state = self.repo.state
        snap = state.get(rel, self.kind)
        gen = state.generation()
        trust_gen = snap.stored_gen == gen
        store = self.store
        odb = self.odb
        names, index = snap.names, snap.index
        old_n, old_tree, old_patch, old_gen = len(names), snap.tree_oid, snap.patch, snap.stored_gen
        # status of a folder whose last full tree is known: changes are kept as a patch against it
        want_delta = is_dir and not store and not self.need_oid and old_tree is not None
        patch = dict(old_patch) if want_delta else {}
        reread: set[str] = set()
        # per recorded file: 0 not found, 1 unchanged, 2 read again, 3 read again but too recent
        # to record (its mtime could still change within the clock's resolution)
        seen = bytearray(old_n)
        horizon = time.time_ns() - RACY_NS
        racy: Pairs = []
        pending: list[FileStat] = []
        counts = [0, 0, 0, 0]  # files, bytes, files read, bytes read
        file_oid = ""
        isexec = False

        def flush() -> None:
            nonlocal file_oid
            linked = self._linked_objects(pending, snap)
            fn = self._fn()
            if linked and store and self.adopt != "copy":
                # A file that shares its inode with a cache object must be copied, never adopted.
                plain, odb_ = fn, self.odb
                fn = lambda p: odb_.store_file(p, "copy") if p in linked else plain(p)  # noqa: E731
            results = hash_files(pending, fn, self.repo.jobs, task)
            self.hashed += len(pending)
            counts[2] += len(pending)
            counts[3] += sum(f[4] for f in pending)
            if linked:
                self._check_linked(linked, {f[1]: r[0] for f, r in zip(pending, results, strict=True)})
            for f, (oid, _size) in zip(pending, results, strict=True):
                name = f[0]
                i = index.get(name)
                old = i is not None and i < old_n
                file_oid = oid
                if want_delta:
                    reread.add(name)
                    base = patch[name] if name in patch else (snap.oid_at(i) if old and i is not None else None)
                    if oid == base:
                        patch.pop(name, None)
                    else:
                        patch[name] = base
                if f[3] >= horizon:
                    racy.append((name, oid))
                    if old and i is not None:
                        seen[i] = 3
                elif old and i is not None:
                    snap.set_record(i, f[2], f[3], f[4], oid, store)
                else:
                    snap.append(name, (f[2], f[3], f[4], oid, store))
            pending.clear()

        for files in walk:
            counts[0] += len(files)
            counts[1] += sum(f[4] for f in files)
            snap.compare(files, old_n, seen, pending)
            if not is_dir:
                isexec = bool(files[0][5] & 0o100)
                if not pending:
                    file_oid = snap.oid_at(index[files[0][0]])
            if len(pending) >= FLUSH:
                flush()
        if pending:
            flush()
        nfiles, size, nread, _ = counts
        changed = nread > 0 or nfiles != old_n
        delta: Delta | None = None
        if want_delta:
            for i in range(old_n):
                if seen[i] == 0:  # gone
                    name = names[i]
                    base = patch[name] if name in patch else snap.oid_at(i)
                    if base is None:
                        patch.pop(name, None)
                    else:
                        patch[name] = base

            def present(n: str) -> bool:
                if n in reread:
                    return True
                j = index.get(n)
                return j is not None and j < old_n and seen[j] == 1

            delta = (
                tuple(sorted(n for n, b in patch.items() if b is None)),
                tuple(sorted(n for n, b in patch.items() if b is not None and present(n))),
                tuple(sorted(n for n, b in patch.items() if b is not None and not present(n))),
            )
        gone = seen.count(0)
        if gone or seen.count(3):
            snap = snap.keeping([i for i in range(len(snap.names)) if i >= old_n or seen[i] in (1, 2)])
        names, index, seen = [], {}, bytearray()  # the old snapshot's list and index can go
        if store or self.check_cache:
            missing, confirmed = confirm_present(
                self.repo, self._rel, snap, racy, trust_gen, gen, store=store, legacy=self.legacy
            )
        else:
            # Flags stay meaningful for the generation they were taken in: a hashing-only scan
            # keeps the old generation, its new entries flagged as not stored.
            missing, confirmed = [], False
            if not trust_gen:
                snap.set_all_flags(False)
                snap.stored_gen = -1
        if is_dir and not changed and old_tree is not None and not old_patch and not racy:
            # Every file matches its entry and none was added or removed: the recorded tree
            # stands. (The common case of status and re-add.)
            if store and not odb.exists(old_tree):
                odb.store_bytes(manifest_bytes(snap.sorted_pairs([])), old_tree)
            if confirmed:
                state.put(rel, snap, self.kind)
            return Content(
                old_tree, size, nfiles, False, make=snap.pairs, delta=((), (), ()), delta_base=old_tree, missing=missing
            )

        def pairs() -> Pairs:
            return snap.pairs() + racy

        if not is_dir:
            content = Content(file_oid, size, None, isexec, missing=missing)
            tree_oid: str | None = None
        elif not changed and old_tree is not None and not old_patch:
            tree_oid = old_tree
            content = Content(old_tree, size, nfiles, False, make=pairs, missing=missing)
            if store and not odb.exists(old_tree):
                odb.store_bytes(manifest_bytes(snap.sorted_pairs(racy)), old_tree)
        elif not self.need_oid and not store:
            tree_oid = old_tree if want_delta else None
            content = Content("", size, nfiles, False, make=pairs, delta=delta, delta_base=tree_oid, missing=missing)
            content.bases = {n: b for n, b in patch.items() if b is not None}
        else:
            data = manifest_bytes(snap.sorted_pairs(racy))
            tree_oid = md5_bytes(data) + DIR_SUFFIX
            content = Content(tree_oid, size, nfiles, False, make=pairs, missing=missing)
            if store:
                odb.store_bytes(data, tree_oid)
            del data
        snap.tree_oid, snap.patch = (None, {}) if racy else (tree_oid, patch)
        # A status that found a few small edits leaves the stat cache as it was: reading those
        # files again next time costs less than rewriting the whole snapshot now.
        few = not store and nread + gone <= FEW_FILES and counts[3] <= FEW_BYTES and old_n > 4 * FEW_FILES
        if confirmed or (not few and (
            changed or racy or snap.stored_gen != old_gen or snap.tree_oid != old_tree or snap.patch != old_patch
        )):
            state.put(rel, snap, self.kind)
        return content

    # --- links into the cache --------------------------------------------------------------
    def _linked_objects(self, files: list[FileStat], known: Snapshot) -> dict[str, tuple[str, str]]:
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
                row = known.entry(f[0])
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
