"""Writing located objects to a local path, in parallel, verified, all or nothing.

Every file is streamed from the first place holding it (cache, then remote) through the md5
check into a staging folder beside the destination (``.<name>.<pid>-<random>.lvtmp``); only when
every file arrived intact is the staging renamed to the destination. A failure (a corrupt or
missing object, an unreachable remote) removes the staging and leaves the destination untouched.
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from labvault.errors import LabvaultError, PathError, from_os_error
from labvault.progress import NULL_PROGRESS, Progress
from labvault.remotes.archive_reads import ArchivedObject, combined
from labvault.remotes.reading import ObjectPlaces
from labvault.workspace.locate import Located

BATCH = 64
BLOCK = 1 << 20


@dataclass(frozen=True)
class Downloaded:
    path: str
    files: int
    bytes: int


def staging_name(dest: str) -> str:
    head, tail = os.path.split(os.path.abspath(dest))
    return os.path.join(head, f".{tail}.{os.getpid()}-{os.urandom(4).hex()}.lvtmp")


def download(found: Located, places: ObjectPlaces, dest: str, jobs: int, progress: Progress = NULL_PROGRESS) -> Downloaded:
    """Write ``found`` (a file or a folder) at ``dest``, which must not exist."""
    if os.path.lexists(dest):
        raise PathError(f"{dest} already exists", "remove it, or choose another destination with -o")
    parent = os.path.dirname(os.path.abspath(dest))
    if not os.path.isdir(parent):
        raise PathError(f"folder {parent} does not exist", "create it first")
    staging = staging_name(dest)
    try:
        total = write_objects(found, places, staging, jobs, progress)
        os.rename(staging, dest)
    except BaseException:
        remove_staging(staging)
        raise
    return Downloaded(dest, len(found.files), total)


def write_objects(found: Located, places: ObjectPlaces, target: str, jobs: int, progress: Progress) -> int:
    """Write ``found`` at ``target`` (a new path); returns the bytes written."""
    if not found.is_dir:
        return _write_one(places, found.oid, found.legacy, target)
    os.mkdir(target)
    files = list(found.files)
    folders = sorted({os.path.dirname(rel) for rel, _ in files} - {""})
    for folder in folders:
        os.makedirs(os.path.join(target, folder), exist_ok=True)
    task = progress.task(f"downloading {found.rel}", total=len(files))
    archived: list[ArchivedObject] = []  # every archived file gets its restore request, then one error

    def run(batch: list[tuple[str, str]]) -> int:
        done = 0
        for rel, oid in batch:
            try:
                n = _write_one(places, oid, found.legacy, os.path.join(target, rel))
            except ArchivedObject as exc:
                archived.append(exc)
                continue
            done += n
            task.advance(1, n)
        return done

    batches = [files[i : i + BATCH] for i in range(0, len(files), BATCH)]
    try:
        if jobs <= 1 or len(batches) <= 1:
            written = sum(run(b) for b in batches)
        else:
            with ThreadPoolExecutor(max_workers=min(jobs, len(batches))) as pool:
                written = sum(pool.map(run, batches))
        if archived:
            raise combined(archived)
        return written
    finally:
        task.close()


def _write_one(places: ObjectPlaces, oid: str, legacy: bool, path: str) -> int:
    written = 0
    try:
        with places.open(oid, legacy) as src, open(path, "xb") as dst:
            while chunk := src.read(BLOCK):
                dst.write(chunk)
                written += len(chunk)
    except LabvaultError:
        raise
    except OSError as exc:
        raise from_os_error(exc, f"writing {path}") from exc
    return written


def remove_staging(path: str) -> None:
    """Remove a staging file or folder, whatever state it was left in."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            os.unlink(path)
        except OSError:
            pass
