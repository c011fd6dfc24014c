"""Moving objects between the local cache and a remote, in parallel, verified, resumable.

Uploads: files first; a directory's ``.dir`` manifest only after every one of its files is on the
remote, so a remote never names a directory it cannot deliver. Downloads: every object lands at a
temp name in the cache, is hashed, and is renamed into place only when its content matches its
name; a corrupt object is deleted and reported, never used.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from labvault.core.hashing import legacy_md5_bytes, md5_file
from labvault.core.odb import ObjectStore
from labvault.core.tree import Tree, is_dir_oid
from labvault.errors import LabvaultError, ManifestError
from labvault.progress import NULL_PROGRESS, Progress, Task
from labvault.remotes.index import RemoteIndex
from labvault.remotes.store import RemoteStore, key_of

Ref = tuple[str, bool]


@dataclass
class TransferResult:
    transferred: list[str] = field(default_factory=list)
    transferred_bytes: int = 0
    skipped: int = 0
    missing_local: list[str] = field(default_factory=list)  # push: not in the cache
    missing_remote: list[str] = field(default_factory=list)  # fetch: not on the remote
    corrupt: list[str] = field(default_factory=list)  # fetch: content differs from its name
    failed: list[str] = field(default_factory=list)  # errors other than the above

    @property
    def ok(self) -> bool:
        return not (self.missing_local or self.missing_remote or self.corrupt or self.failed)


def _run_parallel(
    refs: list[Ref], fn: Callable[[Ref], int], jobs: int, task: Task, result: TransferResult
) -> list[Ref]:
    """Apply ``fn`` (returns bytes moved) to each ref; returns the refs that succeeded."""
    done: list[Ref] = []
    if not refs:
        return done

    def wrapped(ref: Ref) -> tuple[Ref, int | BaseException]:
        try:
            return ref, fn(ref)
        except _Corrupt:
            return ref, _Corrupt()
        except Exception as exc:
            return ref, exc

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for ref, outcome in pool.map(wrapped, refs):
            if isinstance(outcome, _Corrupt):
                result.corrupt.append(ref[0])
            elif isinstance(outcome, FileNotFoundError):
                result.missing_remote.append(ref[0])
            elif isinstance(outcome, LabvaultError):
                raise outcome
            elif isinstance(outcome, BaseException):
                result.failed.append(f"{ref[0]}: {type(outcome).__name__}: {outcome}")
            else:
                result.transferred.append(ref[0])
                result.transferred_bytes += outcome
                done.append(ref)
                task.advance(1, outcome)
    return done


class _Corrupt(Exception):
    pass


def push(
    odb: ObjectStore,
    remote: RemoteStore,
    refs: set[Ref],
    index: RemoteIndex,
    progress: Progress = NULL_PROGRESS,
    optional: set[Ref] | None = None,
) -> TransferResult:
    """``optional`` refs may be absent from the cache without being an error."""
    result = TransferResult()
    optional = optional or set()
    # What the remote is known to hold needs no upload, so no look at the local cache either.
    known = trusted_known(index, remote, list(refs))
    present_local = [r for r in refs if r not in known and odb.exists(*r)]
    present_set = set(present_local)
    result.missing_local = sorted(
        r[0] for r in refs if r not in known and r not in present_set and r not in optional
    )
    missing_local = set(result.missing_local)
    unknown = present_local
    on_remote = remote.existing(unknown) if unknown else set()
    index.add(on_remote)
    todo = [r for r in unknown if r not in on_remote]
    result.skipped = len(known) + len(present_local) - len(todo)
    files = [r for r in todo if not is_dir_oid(r[0])]
    dirs = [r for r in todo if is_dir_oid(r[0])]
    total_bytes = sum(os.path.getsize(odb.oid_path(*r)) for r in todo)
    task = progress.task(f"pushing to {remote.name}", total=len(todo), total_bytes=total_bytes)

    def upload(ref: Ref) -> int:
        path = odb.oid_path(*ref)
        remote.backend.put_file(path, key_of(*ref))
        return os.path.getsize(path)

    try:
        ok_files = _run_parallel(files, upload, remote.jobs, task, result)
        index.add(ok_files)
        failed_files = {r[0] for r in files} - {r[0] for r in ok_files}
        ready_dirs = []
        for ref in dirs:
            tree = odb.try_load_tree(*ref)
            if tree is not None and not any(child in failed_files for _, child in tree):
                missing_children = [c for _, c in tree if c in missing_local]
                if not missing_children:
                    ready_dirs.append(ref)
                    continue
            result.failed.append(f"{ref[0]}: not uploaded because some of its files are missing or failed")
        ok_dirs = _run_parallel(ready_dirs, upload, remote.jobs, task, result)
        index.add(ok_dirs)
    finally:
        task.close()
    return result


SAMPLE = 16


def trusted_known(index: RemoteIndex, remote: RemoteStore, refs: list[Ref]) -> set[Ref]:
    """The refs the index says the remote holds, after spot-checking it: every directory
    manifest and a random sample of the rest must really be there, else the index is dropped
    (someone emptied or replaced the remote) and everything is checked again."""
    import random

    known = index.known(refs)
    if not known:
        return known
    dirs = [r for r in known if is_dir_oid(r[0])][:SAMPLE]
    others = [r for r in known if not is_dir_oid(r[0])]
    sample = dirs + random.sample(others, min(SAMPLE, len(others)))
    if remote.existing(sample) != set(sample):
        index.clear()
        return set()
    return known


def _verify_and_place(odb: ObjectStore, ref: Ref, tmp: str) -> None:
    oid, legacy = ref
    if is_dir_oid(oid):
        with open(tmp, "rb") as f:
            data = f.read()
        digest = (legacy_md5_bytes(data) if legacy else hashlib.md5(data, usedforsecurity=False).hexdigest()) + ".dir"
        if digest == oid:
            try:
                Tree.parse(data, where=f"manifest {oid}")
            except ManifestError:
                digest = ""
    else:
        digest = md5_file(tmp, legacy=legacy)
    if digest != oid:
        os.unlink(tmp)
        raise _Corrupt(oid)
    os.chmod(tmp, 0o444)
    final = odb.oid_path(oid, legacy)
    os.makedirs(os.path.dirname(final), exist_ok=True)
    if os.path.exists(final):
        os.unlink(tmp)
    else:
        os.rename(tmp, final)


def fetch(
    odb: ObjectStore,
    remote: RemoteStore,
    refs: set[Ref],
    index: RemoteIndex,
    progress: Progress = NULL_PROGRESS,
    optional: set[Ref] | None = None,
) -> TransferResult:
    """Download what the cache lacks. Directory manifests come first, then the files they list.

    ``optional`` refs (uncached stage outputs, perhaps) missing on the remote are not errors."""
    result = TransferResult()
    optional = optional or set()
    odb.ensure_fanout()

    def download(ref: Ref) -> int:
        final = odb.oid_path(*ref)
        folder = os.path.dirname(final)
        os.makedirs(folder, exist_ok=True)
        tmp = odb._tmp(final)
        try:
            remote.backend.get_file(key_of(*ref), tmp)
            size = os.path.getsize(tmp)
            _verify_and_place(odb, ref, tmp)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return size

    dirs = sorted(r for r in refs if is_dir_oid(r[0]))
    need_dirs = [r for r in dirs if not odb.exists(*r)]
    task = progress.task(f"fetching from {remote.name}", total=None)
    try:
        got_dirs = _run_parallel(need_dirs, download, remote.jobs, task, result)
        index.add(got_dirs)
        files = {r for r in refs if not is_dir_oid(r[0])}
        for ref in dirs:
            tree = odb.try_load_tree(*ref)
            if tree is not None:
                files.update((child, ref[1]) for _, child in tree)
        need = sorted(r for r in files if not odb.exists(*r))
        result.skipped = len(files) + len(dirs) - len(need) - len(need_dirs)
        got = _run_parallel(need, download, remote.jobs, task, result)
        index.add(got)
    finally:
        task.close()
    if optional:
        result.missing_remote = [oid for oid in result.missing_remote if (oid, False) not in optional and (oid, True) not in optional]
    return result


def cloud_status(
    odb: ObjectStore, remote: RemoteStore, refs: set[Ref], index: RemoteIndex, optional: set[Ref] | None = None
) -> tuple[list[str], list[str], list[str]]:
    """(only in the cache: to push, only on the remote: to pull, in neither: lost) for ``refs``."""
    local = {r for r in refs if odb.exists(*r)}
    known = trusted_known(index, remote, list(refs))
    unknown = [r for r in refs if r not in known]
    on_remote = known | remote.existing(unknown)
    index.add(on_remote - known)
    to_push = sorted(r[0] for r in local - on_remote)
    to_pull = sorted(r[0] for r in on_remote - local)
    lost = sorted(r[0] for r in refs - local - on_remote - (optional or set()))
    return to_push, to_pull, lost
