"""``backup drill``: restore a random sample of a snapshot's files to a temporary folder and compare
every byte with the recorded hashes (a rehearsal that the backups can really be restored)."""

from __future__ import annotations

import random
import tempfile
from collections.abc import Callable

from labvault.backup.restore import restore_entries
from labvault.backup.snapshots import load_manifest, load_snapshot
from labvault.backup.target import Target
from labvault.backup.types import DrillResult
from labvault.core.hashing import md5_file
from labvault.errors import LabvaultError
from labvault.progress import NULL_PROGRESS, Progress


def drill(target: Target, sid: str, sample: int = 20, seed: int | None = None,
          progress: Progress = NULL_PROGRESS,
          before_read: Callable[[list[str]], None] | None = None) -> DrillResult:
    """Restore up to ``sample`` files of snapshot ``sid`` (chosen at random) and re-hash them.
    ``before_read`` is given the objects of the sample first (archive restores, ``coldstore``)."""
    doc = load_snapshot(target, sid)
    try:
        entries = load_manifest(target, doc)
    except LabvaultError as exc:
        return DrillResult(target.describe(), sid, False, 0, doc.files, 0, (f"(manifest): {exc.message}",), False)
    files = [e for e in entries if e.type == "file"]
    chosen = random.Random(seed).sample(files, min(sample, len(files)))
    if before_read is not None:
        before_read(sorted({e.md5 for e in chosen if e.md5 is not None}))
    failed: list[str] = []
    nbytes = 0
    with tempfile.TemporaryDirectory(prefix="labvault-drill-") as tmp:
        for e in chosen:  # one by one: a damaged object fails its file, not the drill
            try:
                restore_entries(target, sid, [e], tmp, verify=False, progress=progress, jobs=1)
            except LabvaultError as exc:
                failed.append(f"{e.relpath}: {exc.message}")
                continue
            if md5_file(f"{tmp}/{e.relpath}") != e.md5:
                failed.append(f"{e.relpath}: restored bytes do not match the recorded md5")
            else:
                nbytes += e.size
    return DrillResult(target.describe(), sid, not failed, len(chosen), len(files), nbytes, tuple(failed), False)
