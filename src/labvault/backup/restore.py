"""``backup restore``: a snapshot (or some of its paths) into a folder, file by file atomically.

Each file is downloaded to a temp name beside its final one (``.NAME.PID-RAND.lvtmp``), hashed
as it is written and refused unless md5 and size are the snapshot's, given its mode and mtime,
fsynced and renamed over the final name; folders get their modes and mtimes last (deepest first),
symlinks are made as links. A kill at any instant leaves whole files (old or restored) and at worst
temp files, which a rerun removes (their writer is gone) before it restores again. ``verify``
reads every restored file back from disk after the rename and compares its md5.

Nothing is written through a symlink: a folder on the way to an entry that is a symlink in the
destination is refused (one line, exit 2), and manifests are checked (``manifest.py``).
"""

from __future__ import annotations

import os
import stat
from concurrent.futures import ThreadPoolExecutor

from labvault.backup.manifest import Entry
from labvault.backup.target import Target
from labvault.core.hashing import md5_file
from labvault.errors import CacheError, PathError, UsageError, from_os_error
from labvault.fsutil import fsync_dir, is_exact_tmp_name, tmp_name, tmp_owner_alive
from labvault.progress import NULL_PROGRESS, Progress


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

            def one(i: int) -> str | None:
                return _restore_file(target, files[i], folders[i], verify)

            with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
                for i, problem in enumerate(pool.map(one, range(len(files)))):
                    if problem is not None:
                        bad.append(problem)
                    task.advance(1, files[i].size)
        finally:
            task.close()
        for e in links:
            _restore_link(e, dest.folder_for(e.relpath))
        for e in sorted(dirs, key=lambda d: d.relpath.count("/"), reverse=True):
            path = os.path.join(root, e.relpath)
            os.chmod(path, e.mode)
            os.utime(path, ns=(e.mtime_ns, e.mtime_ns))
        for folder in dest.safe:
            fsync_dir(folder)
    except OSError as exc:
        raise from_os_error(exc, "restoring") from exc
    if bad:
        raise CacheError(f"{len(bad)} file(s) of snapshot {sid} could not be restored intact: {'; '.join(bad[:3])}",
                         "run `labvault backup check --read-data` to see what is damaged on the target")
    return len(files), len(dirs), len(links), sum(e.size for e in files)


def _restore_file(target: Target, e: Entry, folder: str, verify: bool) -> str | None:
    assert e.md5 is not None
    final = os.path.join(folder, e.relpath.rsplit("/", 1)[-1])
    if os.path.isdir(final) and not os.path.islink(final):
        raise PathError(f"{final} is a folder in the way of the restore", "move it aside or restore elsewhere")
    tmp = tmp_name(final)
    try:
        try:
            digest, size = target.fetch_hashed(e.md5, tmp)
        except FileNotFoundError:
            return f"{e.relpath}: object {e.md5} is missing from the target"
        if (digest, size) != (e.md5, e.size):
            return f"{e.relpath}: object {e.md5} is corrupt on the target"
        fd = os.open(tmp, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fchmod(fd, e.mode)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.utime(tmp, ns=(e.mtime_ns, e.mtime_ns))
        os.replace(tmp, final)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)
    if verify and md5_file(final) != e.md5:
        return f"{e.relpath}: the restored file does not match its md5 when read back"
    return None


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
