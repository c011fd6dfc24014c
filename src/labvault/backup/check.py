"""``backup check``: every object a snapshot needs is on the target with the right size; with
``read_data``, its bytes hash to its name. Each bad object is reported with every (snapshot, path)
that needs it. ``subset`` (n, t) reads only the objects whose md5's first 32 bits are
``n - 1`` modulo ``t``: running 1/t .. t/t over t days reads everything once.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from labvault.backup.manifest import SnapshotDoc
from labvault.backup.snapshots import load_manifest
from labvault.backup.target import Target
from labvault.backup.types import BadObject, CheckResult
from labvault.errors import LabvaultError
from labvault.progress import NULL_PROGRESS, Progress

Need = dict[str, tuple[int, list[tuple[str, str]]]]


def in_subset(oid: str, subset: tuple[int, int] | None) -> bool:
    return subset is None or int(oid[:8], 16) % subset[1] == subset[0] - 1


def collect(target: Target, ids: list[str]) -> tuple[Need, list[str], list[BadObject]]:
    """md5 -> (size, users) of every object the snapshots need (manifests included), the snapshots
    that cannot be read, and the manifests that are missing or damaged."""
    from labvault.backup.snapshots import load_snapshot

    need: Need = {}
    bad_snaps: list[str] = []
    bad: list[BadObject] = []
    for sid in ids:
        try:
            doc: SnapshotDoc = load_snapshot(target, sid)
        except LabvaultError:
            bad_snaps.append(sid)
            continue
        need.setdefault(doc.manifest_md5, (doc.manifest_size, []))[1].append((sid, "(manifest)"))
        try:
            entries = load_manifest(target, doc)
        except LabvaultError as exc:
            problem = "missing" if "missing" in exc.message else "corrupt"
            bad.append(BadObject(doc.manifest_md5, problem, doc.manifest_size, None, ((sid, "(manifest)"),)))
            continue
        for e in entries:
            if e.type == "file":
                assert e.md5 is not None
                need.setdefault(e.md5, (e.size, []))[1].append((sid, e.relpath))
    return need, bad_snaps, bad


def check_target(target: Target, read_data: bool = False, subset: tuple[int, int] | None = None,
                 progress: Progress = NULL_PROGRESS, jobs: int = 8,
                 before_read: Callable[[list[str]], None] | None = None) -> CheckResult:
    """``before_read`` is given the objects about to be read (archive restores, ``coldstore``)."""
    ids = target.snapshot_ids()
    need, bad_snaps, bad = collect(target, ids)
    reported = {b.md5 for b in bad}
    found = target.present(need)
    for oid, (size, users) in sorted(need.items()):
        if oid in reported:
            continue
        have = found.get(oid)
        if have is None or have != size:
            bad.append(BadObject(oid, "missing" if have is None else "wrong_size", size, have, tuple(users)))
            reported.add(oid)
    to_read = [o for o in sorted(need) if o not in reported and (read_data or subset) and in_subset(o, subset)]
    nbytes = 0
    if to_read and before_read is not None:
        before_read(to_read)
    if to_read:
        task = progress.task("reading", total=len(to_read), total_bytes=sum(need[o][0] for o in to_read))
        try:
            with tempfile.TemporaryDirectory(prefix="labvault-check-") as tmp, \
                    ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
                def one(i: int) -> tuple[str, int] | None:
                    local = os.path.join(tmp, str(i))
                    try:
                        return target.fetch_hashed(to_read[i], local)
                    except FileNotFoundError:
                        return None
                    finally:
                        if os.path.lexists(local):
                            os.unlink(local)

                for i, got in enumerate(pool.map(one, range(len(to_read)))):
                    oid = to_read[i]
                    size, users = need[oid]
                    task.advance(1, size)
                    if got is None:
                        bad.append(BadObject(oid, "missing", size, None, tuple(users)))
                    elif got != (oid, size):
                        bad.append(BadObject(oid, "corrupt", size, got[1], tuple(users)))
                    else:
                        nbytes += size
        finally:
            task.close()
    bad.sort(key=lambda b: b.md5)
    return CheckResult(target.describe(), not bad and not bad_snaps, len(ids), len(need), len(to_read), nbytes,
                       tuple(bad), tuple(bad_snaps))
