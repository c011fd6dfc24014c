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
from dataclasses import dataclass, field

from labvault.backup.lock import Held
from labvault.backup.manifest import Entry, SnapshotDoc, encode_manifest, new_id
from labvault.backup.statcache import StatCache, stat_key
from labvault.backup.target import Stored, Target
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
BATCH = 32  # small files per pool task: one future per batch, not per file


@dataclass
class _Hashing:
    """What giving every file its md5 found: counts, rows for the stat cache, and what a folder
    target was seen to hold (objects written or found there while storing small files)."""

    cached: int = 0
    hashed: int = 0
    hashed_bytes: int = 0
    fresh: Fresh = field(default_factory=list)
    started_ns: int = 0
    written: int = 0
    written_bytes: int = 0
    on_target: dict[str, int] = field(default_factory=dict)


def _store_small(target: Target, walked: Walked, todo: list[Entry], jobs: int | None, progress: Progress,
                 out: _Hashing) -> list[Entry]:
    """Folder targets: hash small files and write the missing objects in one read of each file.
    Returns the entries left to hash the usual way; fills ``out``. The md5 is of the bytes read and
    written, so a file changing meanwhile is recorded as what was stored."""
    small = [e for e in todo if e.size <= SMALL_STORE]
    rest = [e for e in todo if e.size > SMALL_STORE]
    task = progress.task("storing", total=len(small), total_bytes=sum(e.size for e in small))

    def batch(group: list[Entry]) -> list[Stored | None]:
        got: list[Stored | None] = []
        for e in group:
            try:
                got.append(target.store_small(walked.paths[e.relpath], e.size))
            except FileNotFoundError:
                got.append(None)
        return got

    groups = [small[i : i + BATCH] for i in range(0, len(small), BATCH)]
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs or default_jobs())) as pool:
            for group, results in zip(groups, pool.map(batch, groups), strict=True):
                for e, r in zip(group, results, strict=True):
                    if r is None:
                        walked.skipped.append(f"{walked.paths[e.relpath]}: vanished during the backup")
                        walked.entries.remove(e)
                        continue
                    e.md5, e.size = r.md5, r.size
                    out.hashed_bytes += r.size
                    out.on_target[r.md5] = r.size
                    if r.written:
                        out.written += 1
                        out.written_bytes += r.size
                    _fresh(walked, e, out.fresh, r.stat)
                task.advance(len(group), sum(e.size for e in group))
    except OSError as exc:
        raise from_os_error(exc, "storing a backup source") from exc
    finally:
        task.close()
    return rest


def _hash(walked: Walked, cache: StatCache, progress: Progress, jobs: int | None,
          store: Target | None = None) -> _Hashing:
    """Give every file entry its md5: from the stat cache, else by reading it (with ``store``, a
    folder target, small files are written as objects in the same read)."""
    files = [e for e in walked.entries if e.type == "file"]
    known = cache.lookup((walked.paths[e.relpath], stat_key(walked.stats[e.relpath])) for e in files)
    todo: list[Entry] = []
    for e in files:
        digest = known.get(walked.paths[e.relpath])
        if digest is not None:
            e.md5 = digest
        else:
            todo.append(e)
    out = _Hashing(cached=len(files) - len(todo), hashed=len(todo), started_ns=time.time_ns())
    if store is not None and todo:
        store.clean_leftovers(time.time())
        todo = _store_small(store, walked, todo, jobs, progress, out)
    task = progress.task("hashing", total=len(todo), total_bytes=sum(e.size for e in todo))
    try:
        results = md5_many([walked.paths[e.relpath] for e in todo], jobs, lambda n, b: task.advance(n, b))
    finally:
        task.close()
    for e, r in zip(todo, results, strict=True):
        if r.md5 is None:
            assert r.error is not None
            if isinstance(r.error, FileNotFoundError):  # deleted since the walk: not in this snapshot
                walked.skipped.append(f"{walked.paths[e.relpath]}: vanished during the backup")
                walked.entries.remove(e)
                continue
            raise from_os_error(r.error, "reading a backup source")
        e.md5, e.size = r.md5, r.size
        out.hashed_bytes += r.size
        _fresh(walked, e, out.fresh)
    return out


def _fresh(walked: Walked, e: Entry, fresh: Fresh, after: os.stat_result | None = None) -> None:
    """Cache ``e``'s md5 only if the file's stat did not change while it was read (``after``: its
    stat taken, on the open file, after the read; else it is taken here)."""
    assert e.md5 is not None
    path = walked.paths[e.relpath]
    if after is None:
        try:
            after = os.lstat(path)
        except OSError:
            return
    if stat_key(after) == stat_key(walked.stats[e.relpath]) and after.st_size == e.size:
        fresh.append((path, stat_key(after), e.md5))


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
    h = _hash(walked, cache, progress, jobs, store)
    files = [e for e in walked.entries if e.type == "file"]
    by_md5: dict[str, list[Entry]] = {}
    for e in files:
        assert e.md5 is not None
        by_md5.setdefault(e.md5, []).append(e)
    held_now = h.on_target | target.present(m for m in by_md5 if m not in h.on_target)
    missing = {m: g for m, g in by_md5.items() if held_now.get(m) != g[0].size}
    totals = dict(files=len(files), dirs=sum(1 for e in walked.entries if e.type == "dir"),
                  symlinks=sum(1 for e in walked.entries if e.type == "symlink"), bytes=sum(e.size for e in files))
    if dry_run:
        return RunResult(policy, target.describe(), None, True, hashed_files=h.hashed,
                         hashed_bytes=h.hashed_bytes, cached_files=h.cached, objects_added=len(missing),
                         bytes_added=sum(g[0].size for g in missing.values()), skipped=tuple(walked.skipped),
                         **totals)
    if missing and store is None:
        target.clean_leftovers(time.time())
    objects_added, bytes_added, changed = _send(target, walked, missing, held, progress, jobs)
    objects_added += h.written
    bytes_added += h.written_bytes
    changed_paths = {walked.paths[r] for r in changed}
    cache.record([r for r in h.fresh if r[0] not in changed_paths], h.started_ns)
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
                     bytes=doc.bytes, hashed_files=h.hashed, hashed_bytes=h.hashed_bytes, cached_files=h.cached,
                     objects_added=objects_added, bytes_added=bytes_added + len(data), skipped=tuple(walked.skipped))
