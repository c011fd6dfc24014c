"""``backup run``: one snapshot of a policy's sources on its target.

Order (so that a crash at any instant leaves a target that ``check`` passes and a rerun finishes):

1. take the target lock (``prune`` cannot delete an object this run is about to reference);
2. walk the sources; files whose stat matches the stat cache keep their md5 unread, the rest
   are hashed (threads; ``core.checksum_hash``); on a folder target a small file is read once,
   hashed and, unless its object is there, written as one in the same pass;
3. ask the target which of the snapshot's objects it holds (every run: never remembered);
4. send the missing ones (hashed again as they are read; an object is named by what was sent);
5. send the manifest object, flush the target (syncfs / completed PUTs);
6. write ``snapshots/<id>.json`` atomically, last.

Objects sent by a killed run stay on the target and are found by step 3 of the rerun (resume);
they are never referenced until a snapshot is written, and ``prune`` removes them if none is.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
from concurrent.futures import ThreadPoolExecutor

from labvault.backup.lock import Held
from labvault.backup.manifest import Entry, SnapshotDoc, encode_manifest, new_id
from labvault.backup.statcache import StatCache, stat_key
from labvault.backup.target import Target
from labvault.backup.types import RunResult
from labvault.backup.walk import Walked, walk_sources
from labvault.core.checksum_hash import default_jobs, md5_many
from labvault.core.hashing import md5_bytes
from labvault.errors import from_os_error
from labvault.progress import NULL_PROGRESS, Progress


def run_backup(policy: str, sources: list[str], tags: tuple[str, ...], target: Target, cache: StatCache,
               dry_run: bool = False, progress: Progress = NULL_PROGRESS, jobs: int | None = None) -> RunResult:
    if dry_run:
        return _run(policy, sources, tags, target, cache, None, True, progress, jobs)
    with target.lock(f"backup run {policy}", progress) as held:
        return _run(policy, sources, tags, target, cache, held, False, progress, jobs)


Fresh = list[tuple[str, tuple[int, int, int, int, int], str]]


SMALL_STORE = 8 << 20


def _store_small(target: Target, walked: Walked, todo: list[Entry], jobs: int | None,
                 progress: Progress) -> tuple[list[Entry], list[tuple[Entry, str, int]], int, int]:
    """Folder targets: hash small files and write the missing objects in one read of each file.
    Returns (the entries left to hash the usual way, (entry, md5, size) of those read, objects
    written, bytes written). The md5 is of the bytes read and written, so a file changing meanwhile
    is recorded as what was stored."""
    small = [e for e in todo if e.size <= SMALL_STORE]
    rest = [e for e in todo if e.size > SMALL_STORE]
    task = progress.task("storing", total=len(small), total_bytes=sum(e.size for e in small))

    def one(e: Entry) -> tuple[str, int, bool] | None:
        try:
            return target.store_small(walked.paths[e.relpath])
        except FileNotFoundError:
            return None

    done: list[tuple[Entry, str, int]] = []
    written = written_bytes = 0
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs or default_jobs())) as pool:
            for e, r in zip(small, pool.map(one, small), strict=True):
                task.advance(1, e.size)
                if r is None:
                    walked.skipped.append(f"{walked.paths[e.relpath]}: vanished during the backup")
                    walked.entries.remove(e)
                    continue
                done.append((e, r[0], r[1]))
                if r[2]:
                    written += 1
                    written_bytes += r[1]
    except OSError as exc:
        raise from_os_error(exc, "storing a backup source") from exc
    finally:
        task.close()
    return rest, done, written, written_bytes


def _hash(walked: Walked, cache: StatCache, progress: Progress, jobs: int | None,
          store: Target | None = None) -> tuple[int, int, int, Fresh, int, int, int]:
    """Give every file entry its md5: from the stat cache, else by reading it (with ``store``, a
    folder target, small files are written as objects in the same read). Returns (cached, hashed,
    hashed bytes, rows for the stat cache, when hashing started in ns, objects and bytes written)."""
    files = [e for e in walked.entries if e.type == "file"]
    known = cache.lookup((walked.paths[e.relpath], stat_key(walked.stats[e.relpath])) for e in files)
    todo: list[Entry] = []
    for e in files:
        digest = known.get(walked.paths[e.relpath])
        if digest is not None:
            e.md5 = digest
        else:
            todo.append(e)
    started = time.time_ns()
    stored: list[tuple[Entry, str, int]] = []
    written = written_bytes = 0
    nhashed = len(todo)
    if store is not None and todo:
        store.clean_leftovers(time.time())
        todo, stored, written, written_bytes = _store_small(store, walked, todo, jobs, progress)
    task = progress.task("hashing", total=len(todo), total_bytes=sum(e.size for e in todo))
    try:
        results = md5_many([walked.paths[e.relpath] for e in todo], jobs, lambda n, b: task.advance(n, b))
    finally:
        task.close()
    fresh: Fresh = []
    hashed_bytes = 0
    for e, digest, size in stored:
        e.md5, e.size = digest, size
        hashed_bytes += size
        _fresh(walked, e, fresh)
    for e, r in zip(todo, results, strict=True):
        if r.md5 is None:
            assert r.error is not None
            if isinstance(r.error, FileNotFoundError):  # deleted since the walk: not in this snapshot
                walked.skipped.append(f"{walked.paths[e.relpath]}: vanished during the backup")
                walked.entries.remove(e)
                continue
            raise from_os_error(r.error, "reading a backup source")
        e.md5, e.size = r.md5, r.size
        hashed_bytes += r.size
        _fresh(walked, e, fresh)
    return len(files) - nhashed, nhashed, hashed_bytes, fresh, started, written, written_bytes


def _fresh(walked: Walked, e: Entry, fresh: Fresh) -> None:
    """Cache ``e``'s md5 only if the file's stat did not change while it was read."""
    assert e.md5 is not None
    path = walked.paths[e.relpath]
    try:
        now = os.lstat(path)
    except OSError:
        return
    if stat_key(now) == stat_key(walked.stats[e.relpath]) and now.st_size == e.size:
        fresh.append((path, stat_key(now), e.md5))


def _send(target: Target, walked: Walked, missing: dict[str, list[Entry]], held: Held | None,
          progress: Progress, jobs: int | None) -> tuple[int, int, set[str]]:
    """Send one object per missing md5, from the first of its files still holding those bytes.
    Returns (objects sent, bytes sent, relpaths of files that changed since they were hashed)."""
    task = progress.task("sending", total=len(missing), total_bytes=sum(g[0].size for g in missing.values()))
    sent: dict[str, int] = {}
    changed: set[str] = set()
    vanished: list[Entry] = []

    def one(item: tuple[str, list[Entry]]) -> list[tuple[str, int]]:
        want, group = item
        out = []
        for e in group:
            try:
                digest, size = target.put_file(walked.paths[e.relpath])
            except FileNotFoundError:  # deleted since it was hashed: not in this snapshot
                vanished.append(e)
                continue
            out.append((digest, size))
            if digest == want:
                break
            e.md5, e.size = digest, size  # changed since hashed: the snapshot records what was sent
            changed.add(e.relpath)
        return out

    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs or default_jobs())) as pool:
            for done in pool.map(one, missing.items()):
                for digest, size in done:
                    sent[digest] = size
                task.advance(1, sum(s for _, s in done))
                if held is not None:
                    held.refresh()
    except OSError as exc:
        raise from_os_error(exc, "sending to the backup target") from exc
    finally:
        task.close()
    for e in vanished:
        walked.skipped.append(f"{walked.paths[e.relpath]}: vanished during the backup")
        walked.entries.remove(e)
        changed.add(e.relpath)
    return len(sent), sum(sent.values()), changed


def _run(policy: str, sources: list[str], tags: tuple[str, ...], target: Target, cache: StatCache,
         held: Held | None, dry_run: bool, progress: Progress, jobs: int | None) -> RunResult:
    walked = walk_sources(sources)
    store = target if target.local_root is not None and not dry_run else None
    cached, hashed, hashed_bytes, fresh, started, written, written_bytes = _hash(walked, cache, progress, jobs,
                                                                                 store)
    files = [e for e in walked.entries if e.type == "file"]
    by_md5: dict[str, list[Entry]] = {}
    for e in files:
        assert e.md5 is not None
        by_md5.setdefault(e.md5, []).append(e)
    held_now = target.present(by_md5)
    missing = {m: g for m, g in by_md5.items() if held_now.get(m) != g[0].size}
    totals = dict(files=len(files), dirs=sum(1 for e in walked.entries if e.type == "dir"),
                  symlinks=sum(1 for e in walked.entries if e.type == "symlink"), bytes=sum(e.size for e in files))
    if dry_run:
        return RunResult(policy, target.describe(), None, True, hashed_files=hashed, hashed_bytes=hashed_bytes,
                         cached_files=cached, objects_added=len(missing),
                         bytes_added=sum(g[0].size for g in missing.values()), skipped=tuple(walked.skipped),
                         **totals)
    if missing and store is None:
        target.clean_leftovers(time.time())
    objects_added, bytes_added, changed = _send(target, walked, missing, held, progress, jobs)
    objects_added += written
    bytes_added += written_bytes
    changed_paths = {walked.paths[r] for r in changed}
    cache.record([r for r in fresh if r[0] not in changed_paths], started)
    files = [e for e in walked.entries if e.type == "file"]  # without the files that vanished
    manifest = encode_manifest(walked.entries)
    man_md5 = md5_bytes(manifest)
    if target.present([man_md5]).get(man_md5) != len(manifest):
        target.put_bytes(manifest)
        objects_added += 1
        bytes_added += len(manifest)
    target.sync()
    now = dt.datetime.now().astimezone()
    doc = SnapshotDoc(id=new_id(now), time=now, hostname=socket.gethostname(), policy=policy,
                      sources=tuple(os.path.abspath(s) for s in sources), tags=tags, manifest_md5=man_md5,
                      manifest_size=len(manifest), files=len(files), dirs=totals["dirs"],
                      symlinks=totals["symlinks"], bytes=sum(e.size for e in files), objects_added=objects_added,
                      bytes_added=bytes_added)
    data = doc.encode()
    target.write_snapshot(doc.id, data)
    return RunResult(policy, target.describe(), doc.id, False, files=doc.files, dirs=doc.dirs, symlinks=doc.symlinks,
                     bytes=doc.bytes, hashed_files=hashed, hashed_bytes=hashed_bytes, cached_files=cached,
                     objects_added=objects_added, bytes_added=bytes_added + len(data), skipped=tuple(walked.skipped))
