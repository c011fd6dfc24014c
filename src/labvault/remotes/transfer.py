"""Moving objects between the local cache and a remote, in parallel, verified, resumable.

Uploads: files first; a directory's ``.dir`` manifest only after every one of its files is on the
remote, so a remote never names a directory it cannot deliver. Downloads: every object lands at a
temp name in the cache, is hashed, and is renamed into place only when its content matches its
name; a corrupt object is deleted and reported, never used.
"""

from __future__ import annotations

import itertools
import os
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from labvault.core.hashing import legacy_md5_bytes, md5_file
from labvault.core.odb import HEX, OBJ_MODE, ObjectStore, StoredObject
from labvault.core.tree import DIR_SUFFIX, Tree, is_dir_oid
from labvault.errors import LabvaultError, ManifestError
from labvault.fsutil import TMP_SUFFIX, tmp_name, unlink_quietly
from labvault.progress import NULL_PROGRESS, Progress, Task
from labvault.remotes.archive_reads import ArchivedObject, combined
from labvault.remotes.compare import compare
from labvault.remotes.store import RemoteStore, key_of, prefix_of

Ref = tuple[str, bool]
# Workspace copies a pull asks the fetch to make in the same pass over a remote object, before the
# checkout: oid -> workspace paths (see sync.pull, "pull-through").
Through = dict[str, list[str]]


@dataclass
class TransferResult:
    transferred: list[str] = field(default_factory=list)
    transferred_bytes: int = 0
    skipped: int = 0
    missing_local: list[str] = field(default_factory=list)  # push: not in the cache
    replaced: list[str] = field(default_factory=list)  # push: the remote's copy had another size; sent again
    leftovers_removed: int = 0  # push: temp files / incomplete uploads of killed pushes removed
    missing_remote: list[str] = field(default_factory=list)  # fetch: not on the remote
    corrupt: list[str] = field(default_factory=list)  # fetch: content differs from its name
    failed: list[str] = field(default_factory=list)  # errors other than the above
    # fetch with `through`: workspace path -> (oid, a verified copy of it beside that path)
    premade: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not (self.missing_local or self.missing_remote or self.corrupt or self.failed)

    def add(self, more: TransferResult) -> None:
        """Count ``more`` (another remote's, or the imports') in this result."""
        self.transferred.extend(more.transferred)
        self.transferred_bytes += more.transferred_bytes
        self.skipped += more.skipped
        self.missing_local.extend(more.missing_local)
        self.replaced.extend(more.replaced)
        self.leftovers_removed += more.leftovers_removed
        self.missing_remote.extend(more.missing_remote)
        self.corrupt.extend(more.corrupt)
        self.failed.extend(more.failed)
        self.premade.update(more.premade)


BATCH = 64  # objects per task handed to a worker thread: fewer futures, less lock traffic
LIVE = 16 << 20  # objects at least this big move the progress bar as their bytes go


def _live(task: Task, shown: dict[Ref, int], ref: Ref, size: int) -> Callable[[int], None] | None:
    """A byte callback for one large object: tells ``task`` of its bytes as they go (at most
    ``size`` in all, whatever a retry sends again) and records them in ``shown``."""
    if size < LIVE:
        return None

    def told(n: int) -> None:
        n = min(n, size - shown.get(ref, 0))
        if n > 0:
            shown[ref] = shown.get(ref, 0) + n
            task.advance(0, n)

    return told


def _run_parallel(
    refs: list[Ref], fn: Callable[[Ref], int], jobs: int, task: Task, result: TransferResult,
    shown: dict[Ref, int] | None = None,
) -> list[Ref]:
    """Apply ``fn`` (returns bytes moved) to each ref; returns the refs that succeeded.

    Workers take the refs in batches; a ref's failure is recorded and the others go on, except
    a ``LabvaultError`` (a clear, fatal condition such as access denied), which is raised.
    ``shown``: bytes of a ref the task was already told of while it moved (see ``_live``)."""
    done: list[Ref] = []
    if not refs:
        return done

    def run_batch(batch: list[Ref]) -> list[tuple[Ref, int | BaseException]]:
        out: list[tuple[Ref, int | BaseException]] = []
        for ref in batch:
            try:
                out.append((ref, fn(ref)))
            except _Corrupt:
                out.append((ref, _Corrupt()))
            except ArchivedObject as exc:  # archived: the others still get their restore request
                out.append((ref, exc))
            except LabvaultError as exc:
                out.append((ref, exc))
                break
            except Exception as exc:
                out.append((ref, exc))
        return out

    pending: list[ArchivedObject] = []
    jobs = max(1, min(jobs, len(refs)))
    size = max(1, min(BATCH, -(-len(refs) // (jobs * 4))))
    batches = [refs[i : i + size] for i in range(0, len(refs), size)]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for outcomes in pool.map(run_batch, batches):
            moved = 0
            count = 0
            for ref, outcome in outcomes:
                told = shown.pop(ref, 0) if shown is not None else 0
                if told and not isinstance(outcome, int):
                    task.advance(0, -told)  # it failed: the bar takes back what it showed
                if isinstance(outcome, _Corrupt):
                    result.corrupt.append(ref[0])
                elif isinstance(outcome, FileNotFoundError):
                    result.missing_remote.append(ref[0])
                elif isinstance(outcome, ArchivedObject):
                    pending.append(outcome)
                elif isinstance(outcome, LabvaultError):
                    raise outcome
                elif isinstance(outcome, BaseException):
                    result.failed.append(f"{ref[0]}: {type(outcome).__name__}: {outcome}")
                else:
                    result.transferred.append(ref[0])
                    result.transferred_bytes += outcome
                    done.append(ref)
                    moved += outcome - told
                    count += 1
            if count:
                task.advance(count, moved)
    if pending:
        raise combined(pending)
    return done


class _Corrupt(Exception):
    pass


class _CacheWriteError(Exception):
    pass


def push(
    odb: ObjectStore,
    remote: RemoteStore,
    refs: set[Ref],
    progress: Progress = NULL_PROGRESS,
    optional: set[Ref] | None = None,
) -> TransferResult:
    """Send what the remote lacks, or holds with another size than the cache's (replaced whole,
    atomically, once the cache's copy is shown to match its name). ``optional`` refs may be
    absent from the cache without being an error."""
    result = TransferResult()
    c = compare(odb, remote, refs)
    result.missing_local = [r[0] for r in c.nowhere(optional or set())]
    missing_local = set(result.missing_local)
    todo = c.to_send
    wrong = c.wrong_size
    if wrong:
        bad = {r for r in wrong if not odb.check(StoredObject(r[0], odb.oid_path(*r), r[1], c.local[r]))}
        for ref in sorted(bad):
            result.failed.append(
                f"{ref[0]}: the remote's copy has another size than the cache's, and the cache's copy does not "
                "match its name either; neither was changed (run `labvault verify`)"
            )
        todo = [r for r in todo if r not in bad]
        wrong = [r for r in wrong if r not in bad]
    result.skipped = sum(1 for r in c.remote if r not in c.local or c.local[r] == c.remote[r])
    if todo:
        result.leftovers_removed = remote.backend.clean_leftovers(sorted({prefix_of(r) for r in todo}), time.time())
    files = [r for r in todo if not is_dir_oid(r[0])]
    dirs = [r for r in todo if is_dir_oid(r[0])]
    task = progress.task(f"pushing to {remote.name}", total=len(todo), total_bytes=sum(c.local[r] for r in todo))

    shown: dict[Ref, int] = {}

    def upload(ref: Ref) -> int:
        remote.backend.put_file(odb.oid_path(*ref), key_of(*ref), _live(task, shown, ref, c.local[ref]))
        return c.local[ref]

    try:
        ok_files = _run_parallel(files, upload, remote.jobs, task, result, shown)
        remote.backend.sync()  # the files are durable before any manifest naming them appears
        failed_files = {r[0] for r in files} - {r[0] for r in ok_files}
        ready_dirs = []
        for ref in dirs:
            tree = odb.try_load_tree(*ref)
            if tree is not None and not any(child in failed_files or child in missing_local for _, child in tree):
                ready_dirs.append(ref)
                continue
            result.failed.append(f"{ref[0]}: not uploaded because some of its files are missing or failed")
        ok_dirs = _run_parallel(ready_dirs, upload, remote.jobs, task, result, shown)
        remote.backend.sync()
    finally:
        task.close()
    sent = {r[0] for r in ok_files + ok_dirs}
    result.replaced = [r[0] for r in wrong if r[0] in sent]
    return result


class _Downloader:
    """Downloads objects into the cache: each lands at a temp name (``.<name>.<pid>-<random>.lvtmp``
    in its final folder), is hashed, and is renamed into place only when the digest matches its
    name; otherwise it is deleted and ``_Corrupt`` is raised. Nothing unverified ever carries an
    object's name."""

    def __init__(self, odb: ObjectStore, remote: RemoteStore, through: Through | None = None) -> None:
        self.odb = odb
        self.backend = remote.backend
        self._prefix = f"{os.getpid()}-{secrets.token_hex(3)}"
        self._serial = itertools.count()
        self._folders: set[str] = set()
        self.through = through or {}
        self.made: dict[str, tuple[str, str]] = {}  # workspace path -> (oid, its verified copy)
        self._made_lock = threading.Lock()
        odb.ensure_fanout()

    def _get(self, oid: str, tmp: str) -> tuple[str, int, list[tuple[str, str]]]:
        """The object fetched to ``tmp``, with the workspace copies :data:`Through` asks for when
        the remote can make them in the same pass: (md5, size, [(workspace path, its copy)])."""
        dsts = self.through.get(oid)
        get_copies = getattr(self.backend, "get_hashed_copies", None)
        if not dsts or get_copies is None:
            return (*self.backend.get_hashed(key_of(oid, False), tmp), [])
        temps = {tmp_name(d): d for d in dsts}
        digest, size, whole = get_copies(key_of(oid, False), tmp, list(temps))
        return digest, size, [(temps[t], t) for t in whole]

    def _tmp(self, final: str) -> str:
        head, tail = final.rsplit("/", 1)
        return f"{head}/.{tail}.{self._prefix}{next(self._serial):x}{TMP_SUFFIX}"

    def __call__(self, ref: Ref) -> int:
        oid, legacy = ref
        final = self.odb.oid_path(oid, legacy)
        if legacy:
            folder = final.rsplit("/", 1)[0]
            if folder not in self._folders:
                os.makedirs(folder, exist_ok=True)
                self._folders.add(folder)
        tmp = self._tmp(final)
        copies: list[tuple[str, str]] = []
        try:
            if legacy:
                self.backend.get_file(key_of(oid, legacy), tmp)
                size = os.path.getsize(tmp)
                digest = _legacy_digest(tmp, is_dir_oid(oid))
                if digest == oid:
                    os.chmod(tmp, OBJ_MODE)
            else:
                digest, size, copies = self._get(oid, tmp)
                if is_dir_oid(oid):
                    digest = _checked_manifest(tmp, digest + DIR_SUFFIX)
            if digest != oid:
                raise _Corrupt(oid)
            # Another writer may have placed the same object meanwhile: same bytes, so replacing
            # it is harmless, and no stat is spent asking.
            os.rename(tmp, final)
        except BaseException as exc:
            unlink_quietly(tmp)
            for _, copy in copies:
                unlink_quietly(copy)
            if isinstance(exc, FileNotFoundError) and exc.filename == tmp:
                # the cache's folder vanished, not the remote's object: a failure, not "missing"
                raise _CacheWriteError(f"writing {tmp}: {exc.strerror}") from None
            raise
        self.odb.wrote = True
        if copies:
            with self._made_lock:
                for dst, copy in copies:
                    self.made[dst] = (oid, copy)
        return size


def _checked_manifest(path: str, digest: str) -> str:
    """``digest`` when the manifest at ``path`` parses, else "" (never equal to an oid)."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        Tree.parse(data, where=f"manifest {digest}")
    except ManifestError:
        return ""
    return digest


def _legacy_digest(path: str, is_dir: bool) -> str:
    if not is_dir:
        return md5_file(path, legacy=True)
    with open(path, "rb") as f:
        data = f.read()
    digest = legacy_md5_bytes(data) + DIR_SUFFIX
    try:
        Tree.parse(data, where=f"manifest {digest}")
    except ManifestError:
        return ""
    return digest


def _absent(odb: ObjectStore, refs: set[Ref]) -> list[Ref]:
    """The refs the cache lacks, sorted. Many refs into a cache not much larger than them: list
    its 256 fan-out folders rather than stat each object (a few hundred calls, not thousands)."""
    modern = [r for r in refs if not r[1]]
    out = [r for r in refs if r[1] and not odb.exists(*r)]
    if len(modern) > LIST_CACHE_ABOVE and _cache_size_estimate(odb) <= 4 * len(modern):
        present: set[str] = set()
        for a in HEX:
            for b in HEX:
                try:
                    names = os.listdir(f"{odb.root}/{a}{b}")
                except FileNotFoundError:
                    continue
                present.update(a + b + n for n in names)
        out += [r for r in modern if r[0] not in present]
    else:
        out += [r for r in modern if not odb.exists(*r)]
    out.sort()
    return out


LIST_CACHE_ABOVE = 512


def _cache_size_estimate(odb: ObjectStore) -> int:
    try:
        return len(os.listdir(f"{odb.root}/00")) * 256
    except FileNotFoundError:
        return 0


def fetch(
    odb: ObjectStore,
    remote: RemoteStore,
    refs: set[Ref],
    progress: Progress = NULL_PROGRESS,
    optional: set[Ref] | None = None,
    through: Through | None = None,
) -> TransferResult:
    """Download what the cache lacks. Directory manifests come first, then the files they list.

    ``optional`` refs (uncached stage outputs, perhaps) missing on the remote are not errors.
    ``through``: workspace copies to make while fetching, returned in ``premade``."""
    result = TransferResult()
    optional = optional or set()
    download = _Downloader(odb, remote, through)
    dirs = sorted(r for r in refs if is_dir_oid(r[0]))
    need_dirs = [r for r in dirs if not odb.exists(*r)]
    task = progress.task(f"fetching from {remote.name}", total=None)
    try:
        _run_parallel(need_dirs, download, remote.jobs, task, result)
        files = {r for r in refs if not is_dir_oid(r[0])}
        for ref in dirs:
            tree = odb.try_load_tree(*ref)
            if tree is not None:
                files.update((child, ref[1]) for _, child in tree)
        need = _absent(odb, files)
        result.skipped = len(files) + len(dirs) - len(need) - len(need_dirs)
        _run_parallel(need, download, remote.jobs, task, result)
    finally:
        task.close()
        result.premade.update(download.made)
    if optional:
        result.missing_remote = [oid for oid in result.missing_remote if (oid, False) not in optional and (oid, True) not in optional]
    return result
