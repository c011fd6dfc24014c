"""``backup restore``: a snapshot (or some of its paths) into a folder, file by file atomically.

Each file is downloaded to a temp name beside its final one (``.NAME.PID-RAND.lvtmp``), hashed
as it is written and refused unless md5 and size are the snapshot's, given its mode and mtime,
and renamed over the final name (fsynced first only when it replaces an existing file); folders
get their modes and mtimes last (deepest first), symlinks are made as links; then one ``syncfs``
per file system written to makes it all durable before the restore returns. A kill at any instant
leaves whole files (old or restored) and at worst temp files, which a rerun removes (their writer
is gone) before it restores again. ``verify`` reads every restored file back from disk after the
rename and compares its md5.

Nothing is written through a symlink: a folder on the way to an entry that is a symlink in the
destination is refused (one line, exit 2), and manifests are checked (``manifest.py``).
"""

from __future__ import annotations

import os
import stat
from concurrent.futures import ThreadPoolExecutor

from labvault.backup.manifest import Entry
from labvault.backup.target import Target
from labvault.core.hashing import md5_bytes, md5_file
from labvault.errors import CacheError, PathError, UsageError, from_os_error
from labvault.fsutil import is_exact_tmp_name, syncfs, tmp_name, tmp_owner_alive
from labvault.progress import NULL_PROGRESS, Progress

BATCH = 32  # files per pool task


def select(entries: list[Entry], paths: list[str]) -> list[Entry]:
    if not paths:
        return entries
    wanted = [p.strip("/") for p in paths]
    out = [e for e in entries if any(e.relpath == p or e.relpath.startswith(p + "/") for p in wanted)]
    for p in wanted:
        if not any(e.relpath == p or e.relpath.startswith(p + "/") for e in entries):
            raise UsageError(f"the snapshot holds no path {p!r}", "paths start with the source's last component; "
                                                                  "see the snapshot's files with --json")
    return out


class _Dest:
    def __init__(self, root: str) -> None:
        self.root = root
        self.safe: set[str] = {root}
        self.cleaned: set[str] = set()

    def folder_for(self, rel: str) -> str:
        """The real folder that will hold ``rel``, created as needed; never through a symlink."""
        parts = rel.split("/")[:-1]
        path = self.root
        for part in parts:
            path = os.path.join(path, part)
            if path in self.safe:
                continue
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                os.mkdir(path, 0o700)
                st = os.lstat(path)
            if not stat.S_ISDIR(st.st_mode):
                raise PathError(f"{path} is in the way of the restore (not a folder)",
                                "move it aside or restore into another folder")
            self.safe.add(path)
        self._clean(path)
        return path

    def _clean(self, folder: str) -> None:
        """Remove temp files a killed restore left in ``folder`` (their writer is gone)."""
        if folder in self.cleaned:
            return
        self.cleaned.add(folder)
        try:
            with os.scandir(folder) as it:
                stale = [e.path for e in it if is_exact_tmp_name(e.name) and not tmp_owner_alive(e.name, e.path)]
        except OSError:
            return
        for path in stale:
            try:
                os.unlink(path)
            except OSError:
                pass


def restore_entries(target: Target, sid: str, entries: list[Entry], to: str, verify: bool = False,
                    progress: Progress = NULL_PROGRESS, jobs: int = 8) -> tuple[int, int, int, int]:
    """Restore ``entries`` under ``to``; (files, dirs, symlinks, bytes)."""
    root = os.path.abspath(to)
    try:
        os.makedirs(root, exist_ok=True)
    except OSError as exc:
        raise from_os_error(exc, "creating the restore folder") from exc
    dest = _Dest(root)
    files = [e for e in entries if e.type == "file"]
    dirs = [e for e in entries if e.type == "dir"]
    links = [e for e in entries if e.type == "symlink"]
    try:
        for e in dirs:
            dest.folder_for(e.relpath + "/x")
        task = progress.task("restoring", total=len(files), total_bytes=sum(e.size for e in files))
        bad: list[str] = []
        try:
            folders = [dest.folder_for(e.relpath) for e in files]
            groups = [range(i, min(i + BATCH, len(files))) for i in range(0, len(files), BATCH)]

            def batch(group: range) -> list[str | None]:
                return [_restore_file(target, files[i], folders[i], verify) for i in group]

            with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
                for group, problems in zip(groups, pool.map(batch, groups), strict=True):
                    bad.extend(p for p in problems if p is not None)
                    task.advance(len(group), sum(files[i].size for i in group))
        finally:
            task.close()
        for e in links:
            _restore_link(e, dest.folder_for(e.relpath))
        for e in sorted(dirs, key=lambda d: d.relpath.count("/"), reverse=True):
            path = os.path.join(root, e.relpath)
            os.chmod(path, e.mode)
            os.utime(path, ns=(e.mtime_ns, e.mtime_ns))
        _flush(dest.safe)
    except OSError as exc:
        raise from_os_error(exc, "restoring") from exc
    if bad:
        raise CacheError(f"{len(bad)} file(s) of snapshot {sid} could not be restored intact: {'; '.join(bad[:3])}",
                         "run `labvault backup check --read-data` to see what is damaged on the target")
    return len(files), len(dirs), len(links), sum(e.size for e in files)


def _restore_file(target: Target, e: Entry, folder: str, verify: bool) -> str | None:
    assert e.md5 is not None
    final = os.path.join(folder, e.relpath.rsplit("/", 1)[-1])
    try:
        old = os.lstat(final)
    except FileNotFoundError:
        old = None
    if old is not None and stat.S_ISDIR(old.st_mode):
        raise PathError(f"{final} is a folder in the way of the restore", "move it aside or restore elsewhere")
    tmp = tmp_name(final)
    renamed = False
    try:
        try:
            data = target.read_small_object(e.md5, e.size)
            if data is None:
                digest, size = target.fetch_hashed(e.md5, tmp)
            else:
                digest, size = md5_bytes(data), len(data)
        except FileNotFoundError:
            return f"{e.relpath}: object {e.md5} is missing from the target"
        if (digest, size) != (e.md5, e.size):
            return f"{e.relpath}: object {e.md5} is corrupt on the target"
        if data is None:
            fd = os.open(tmp, os.O_RDONLY | os.O_CLOEXEC)
        else:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            if data is not None:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
            os.fchmod(fd, e.mode)
            os.utime(fd, ns=(e.mtime_ns, e.mtime_ns))
            if old is not None:  # replacing a file: the new one is whole on disk before the old goes
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, final)
        renamed = True
    finally:
        if not renamed:  # a corrupt or missing object, or an error: no temp file is left behind
            try:
                os.unlink(tmp)
            except OSError:
                pass
    if verify and md5_file(final) != e.md5:
        return f"{e.relpath}: the restored file does not match its md5 when read back"
    return None


def _flush(folders: set[str]) -> None:
    """One ``syncfs`` per file system the restore wrote to (its files and folders were not fsynced
    one by one)."""
    seen: set[int] = set()
    for folder in sorted(folders):
        dev = os.stat(folder).st_dev
        if dev not in seen:
            seen.add(dev)
            syncfs(folder)


def _restore_link(e: Entry, folder: str) -> None:
    assert e.target is not None
    final = os.path.join(folder, e.relpath.rsplit("/", 1)[-1])
    if os.path.isdir(final) and not os.path.islink(final):
        raise PathError(f"{final} is a folder in the way of the restore", "move it aside or restore elsewhere")
    tmp = tmp_name(final)
    os.symlink(e.target, tmp)
    try:
        os.utime(tmp, ns=(e.mtime_ns, e.mtime_ns), follow_symlinks=False)
    except OSError:
        pass
    os.replace(tmp, final)
