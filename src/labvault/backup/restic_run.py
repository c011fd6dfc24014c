"""``backup run`` with the restic engine: hash, ``restic backup``, compare, write the manifest sidecar.

Order: walk the sources and hash the files the stat cache does not vouch for; ``restic backup
--json`` of the sources' real paths (its ``status`` lines drive the progress bar, its ``summary``
gives the snapshot and what was added); ``restic ls --json`` of the new snapshot, whose sizes and
mtimes must be those labvault hashed (else the file is ``unverifiable``, reported); the manifest
sidecar last. A kill at any instant leaves a repository ``restic check`` passes (restic's own
guarantee) and at worst a snapshot without a manifest; the rerun makes a complete one.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from labvault.backup.restic_cli import Restic
from labvault.backup.restic_manifest import FILENAME, FOR, POLICY, TAG, ResticManifest, rfc3339_ns
from labvault.backup.statcache import StatCache, stat_key
from labvault.backup.types import RunResult
from labvault.backup.walk import Walked, walk_sources
from labvault.core.hashing import md5_file
from labvault.errors import RemoteError
from labvault.progress import Progress


def source_map(sources: list[str]) -> dict[str, str]:
    """First relpath component -> the real path restic is given (a source symlink is followed once)."""
    return {os.path.basename(os.path.normpath(os.path.abspath(s))): os.path.realpath(s) for s in sources}


def hash_files(walked: Walked, cache: StatCache, progress: Progress, jobs: int) -> tuple[dict[str, str], int, int]:
    """relpath -> md5 of every file whose stat did not move while it was hashed; (md5s, read, bytes read)."""
    rels = list(walked.paths)
    known = cache.lookup((walked.paths[r], stat_key(walked.stats[r])) for r in rels)
    out = {r: known[walked.paths[r]] for r in rels if walked.paths[r] in known}
    todo = [r for r in rels if r not in out]
    task = progress.task("hashing", total=len(todo), total_bytes=sum(walked.stats[r].st_size for r in todo))
    started = time.time_ns()

    def one(rel: str) -> tuple[str, str | None]:
        path = walked.paths[rel]
        try:
            digest = md5_file(path)
            after = os.lstat(path)
        except OSError:
            return rel, None
        task.advance(1, walked.stats[rel].st_size)
        return rel, digest if stat_key(after) == stat_key(walked.stats[rel]) else None

    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            fresh = [(r, d) for r, d in pool.map(one, todo) if d is not None]
    finally:
        task.close()
    out.update(fresh)
    cache.record([(walked.paths[r], stat_key(walked.stats[r]), d) for r, d in fresh], started)
    return out, len(todo), sum(walked.stats[r].st_size for r in todo)


def backup(restic: Restic, policy: str, sources: list[str], tags: tuple[str, ...], cache: StatCache,
           dry_run: bool, progress: Progress, jobs: int) -> RunResult:
    walked = walk_sources(sources)
    md5s, hashed, hashed_bytes = hash_files(walked, cache, progress, jobs)
    files = [e for e in walked.entries if e.type == "file"]
    counts = (len(files), sum(e.type == "dir" for e in walked.entries), sum(e.type == "symlink" for e in walked.entries),
              sum(e.size for e in files))
    if dry_run:
        return RunResult(policy, restic.describe(), None, True, *counts, hashed, hashed_bytes, len(files) - hashed,
                         0, 0, tuple(walked.skipped))
    restic.ensure_repository()
    mapping = source_map(sources)
    summary: dict[str, Any] = {}
    task = progress.task("restic backup", total_bytes=counts[3])
    done = [0]

    def on_json(d: dict[str, Any]) -> None:
        if d.get("message_type") == "status" and isinstance(d.get("bytes_done"), int):
            task.advance(0, max(0, d["bytes_done"] - done[0]))
            done[0] = max(done[0], d["bytes_done"])
        elif d.get("message_type") == "summary":
            summary.update(d)

    args = ["backup", "--json", "--tag", POLICY + policy]
    for t in tags:
        args += ["--tag", t]
    try:
        restic.call([*args, "--", *mapping.values()], "backing up", on_json=on_json, ok_codes=(0, 3))
    finally:
        task.close()
    short = summary.get("snapshot_id")
    if not isinstance(short, str):
        raise RemoteError("restic backup made no snapshot (no summary in its output)")
    from labvault.backup.restic_repo import listing

    sid = next(s.id for s in listing(restic).snaps if s.id.startswith(short))
    man = ResticManifest(sid, policy, mapping)
    for node in restic.call(["ls", "--json", sid], "listing the new snapshot").json_lines():
        if node.get("struct_type") != "node" or node.get("type") != "file" or not isinstance(node.get("path"), str):
            continue
        rel = man.relpath(node["path"])
        if rel is None:
            continue
        st = walked.stats.get(rel)
        same = (st is not None and rel in md5s and node.get("size", 0) == st.st_size
                and isinstance(node.get("mtime"), str) and rfc3339_ns(node["mtime"]) == st.st_mtime_ns)
        if same and st is not None:
            man.files[rel] = (md5s[rel], st.st_size)
        else:
            man.unverifiable.append(rel)
    nbytes = sum(s for _m, s in man.files.values())
    totals = {"files": len(man.files) + len(man.unverifiable), "bytes": nbytes,
              "blobs": int(summary.get("data_blobs", 0)), "added": int(summary.get("data_added", 0))}
    man.summary = totals
    side = ["backup", "--json", "--stdin", "--stdin-filename", FILENAME, "--tag", TAG, "--tag", FOR + sid]
    for k, v in totals.items():
        side += ["--tag", f"labvault-{k}:{v}"]
    restic.call(side, "writing the labvault manifest", stdin=man.encode())
    skipped = [*walked.skipped, *(f"{r}: changed while it was backed up (not verifiable)" for r in man.unverifiable)]
    return RunResult(policy, restic.describe(), sid, False, *counts, hashed, hashed_bytes, len(files) - hashed,
                     totals["blobs"], totals["added"], tuple(skipped))
