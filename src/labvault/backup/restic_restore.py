"""``backup restore`` and ``backup drill`` with the restic engine.

restic restores a snapshot under its absolute paths, so labvault has it restore into a staging
folder inside the destination (``DIR/.labvault-restic-<pid>-<random>``, same file system), then
moves each source's tree to ``DIR/<source's last component>`` (labvault's relpaths, as with its own
engine): folders are created (never through a symlink already in DIR), files and symlinks renamed
into place (an existing file is replaced), folder modes and mtimes copied, the staging folder
removed. A staging folder left by a killed restore is removed by the next restore into DIR once its
process is gone. ``verify`` then reads every restored file back and compares it with the manifest's
md5 and size; restic itself checks every blob's SHA-256 as it restores.
"""

from __future__ import annotations

import os
import random
import shutil
import stat
import tempfile

from labvault.backup.restic_cli import Restic
from labvault.backup.restic_manifest import ResticManifest
from labvault.core.hashing import md5_file
from labvault.errors import CacheError, PathError, UsageError, from_os_error
from labvault.fsutil import fsync_dir

STAGE = ".labvault-restic-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(to: str) -> None:
    try:
        names = os.listdir(to)
    except FileNotFoundError:
        return
    for n in names:
        pid = n[len(STAGE):].split("-", 1)[0]
        if n.startswith(STAGE) and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(os.path.join(to, n), ignore_errors=True)


def includes(man: ResticManifest, paths: list[str]) -> list[str]:
    out = []
    for p in paths:
        rel = p.strip("/")
        if rel.split("/", 1)[0] not in man.sources:
            raise UsageError(f"the snapshot holds no path {p!r}",
                             f"paths start with a source's last component ({', '.join(sorted(man.sources))})")
        out.append(man.restic_path(rel))
    return out


def restic_restore(restic: Restic, sid: str, stage: str, include: list[str]) -> str | None:
    """Restore into ``stage``; restic's one-line complaint if some files could not be restored."""
    args = ["restore", sid, "--target", stage]
    for inc in include:
        args += ["--include", inc]
    out = restic.call(args, "restoring", ok_codes=(0, 1))
    if out.returncode != 0:
        lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
        return lines[0][:300] if lines else "restic reported errors"
    return None


def _safe_dir(path: str, root: str) -> None:
    if os.path.islink(path):
        raise PathError(f"{path} is a symlink; a restore never writes through one",
                        "remove it or restore into another folder")
    if not os.path.isdir(path):
        if os.path.lexists(path):
            os.unlink(path)
        os.mkdir(path)


def move_tree(src: str, dest: str, root: str) -> tuple[int, int, int, int]:
    """Move everything under ``src`` to ``dest``; (files, dirs, symlinks, bytes)."""
    files = dirs = links = nbytes = 0
    st = os.lstat(src)
    if not stat.S_ISDIR(st.st_mode):
        os.replace(src, dest)
        return (1, 0, 0, st.st_size) if stat.S_ISREG(st.st_mode) else (0, 0, 1, 0)
    folders: list[tuple[str, str]] = []
    for here, subdirs, names in os.walk(src):
        target = os.path.join(dest, os.path.relpath(here, src)) if here != src else dest
        _safe_dir(target, root)
        folders.append((here, target))
        dirs += 1
        for n in names + [d for d in subdirs if os.path.islink(os.path.join(here, d))]:
            s = os.lstat(os.path.join(here, n))
            if os.path.isdir(os.path.join(target, n)) and not os.path.islink(os.path.join(target, n)):
                shutil.rmtree(os.path.join(target, n))
            os.replace(os.path.join(here, n), os.path.join(target, n))
            if stat.S_ISLNK(s.st_mode):
                links += 1
            else:
                files += 1
                nbytes += s.st_size
    for here, target in reversed(folders):
        s = os.lstat(here)
        os.chmod(target, stat.S_IMODE(s.st_mode))
        os.utime(target, ns=(s.st_atime_ns, s.st_mtime_ns))
        fsync_dir(target)
    return files, dirs, links, nbytes


def restore(restic: Restic, sid: str, man: ResticManifest, to: str, paths: list[str],
            verify: bool) -> tuple[int, int, int, int]:
    os.makedirs(to, exist_ok=True)
    root = os.path.realpath(to)
    clean_stale(root)
    include = includes(man, paths)
    stage = tempfile.mkdtemp(prefix=f"{STAGE}{os.getpid()}-", dir=root)
    total = [0, 0, 0, 0]
    try:
        problem = restic_restore(restic, sid, stage, include)
        if problem:  # nothing is moved into place: a half-restored file never replaces a good one
            raise CacheError(f"restic could not restore every file of {sid[:8]}: {problem}",
                             "run `labvault backup check --read-data` on this target")
        for head, base in man.sources.items():
            staged = stage + base
            if os.path.lexists(staged):
                for i, n in enumerate(move_tree(staged, os.path.join(root, head), root)):
                    total[i] += n
        missing = [p for p in paths if not os.path.lexists(os.path.join(root, p.strip("/")))]
        if missing:
            raise UsageError(f"the snapshot holds no path {missing[0]!r}",
                             "paths start with the source's last component; see `restic ls` of the snapshot")
    except OSError as exc:
        raise from_os_error(exc, "restoring into") from exc
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    if verify:
        bad = verify_files(root, man, paths)
        if bad:
            raise CacheError(f"{len(bad)} restored files do not match their recorded md5 (first: {bad[0]})",
                             "run `labvault backup check --read-data`; restore from another snapshot")
    return total[0], total[1], total[2], total[3]


def selected(man: ResticManifest, paths: list[str]) -> list[str]:
    wanted = [p.strip("/") for p in paths]
    return [r for r in man.files if not wanted or any(r == w or r.startswith(w + "/") for w in wanted)]


def verify_files(root: str, man: ResticManifest, paths: list[str]) -> list[str]:
    bad = []
    for rel in selected(man, paths):
        digest, size = man.files[rel]
        p = os.path.join(root, rel)
        try:
            if os.path.islink(p) or os.path.getsize(p) != size or md5_file(p) != digest:
                bad.append(rel)
        except OSError:
            bad.append(rel)
    return bad


def drill(restic: Restic, sid: str, man: ResticManifest, sample: int, seed: int | None
          ) -> tuple[int, int, int, list[str]]:
    """(sampled, of files, bytes compared, failures) of a restore of a random sample of files."""
    rels = sorted(man.files)
    chosen = random.Random(seed).sample(rels, min(sample, len(rels)))
    failed: list[str] = []
    nbytes = 0
    with tempfile.TemporaryDirectory(prefix="labvault-drill-") as tmp:
        problem = restic_restore(restic, sid, tmp, [man.restic_path(r) for r in chosen])
        for rel in chosen:
            digest, size = man.files[rel]
            p = tmp + man.restic_path(rel)
            try:
                ok = not os.path.islink(p) and os.path.getsize(p) == size and md5_file(p) == digest
            except OSError:
                failed.append(f"{rel}: not restored" + (f" ({problem})" if problem else ""))
                continue
            if ok:
                nbytes += size
            else:
                failed.append(f"{rel}: restored bytes do not match the recorded md5")
    return len(chosen), len(rels), nbytes, failed
