"""What a killed push leaves on a remote, and when it may be removed.

A folder remote receives every object at a temp name beside its final one and then a rename, so a
push killed at any instant leaves complete objects plus, at worst, temp files. Their names say who
wrote them: ``.<name>.<pid>-<host><random>.lvtmp``, where ``<host>`` (8 hex digits) stands for this
machine, this boot and this pid namespace. A temp file is stale, and removed by the next push that
writes into its folder, when

* it was written here (same ``<host>``) and its process is gone (the cache's rule), or
* it was written elsewhere (another machine on a shared folder, a container, a reboot, or an older
  labvault that named no host), and neither its content nor its inode changed for an hour
  (``FOREIGN_AGE``): a live writer changes its temp file all the time, and the rename follows at once.

S3 keeps a multipart upload that was never completed (objects of 100 MiB and more, sent in parts)
out of sight: it is no object, but its parts are stored until it is aborted. A push that uploads
lists the incomplete uploads under the remote's prefix (one request) and aborts those begun more
than a day ago (``MULTIPART_AGE``); S3 shows nobody's process, so age is the only safe sign.

Removing a temp file or aborting an upload can never lose data: at worst a writer that stalled for
longer than the horizon fails to rename or complete, reports the object as failed, and the next
push sends it again.
"""

from __future__ import annotations

import hashlib
import os
import socket
import stat

from labvault.fsutil import TMP_SUFFIX, is_tmp_name, tmp_owner_alive

FOREIGN_AGE = 3600.0
MULTIPART_AGE = 86400.0

_TAG: list[str] = []


def host_tag() -> str:
    """8 hex digits naming this machine, boot and pid namespace (where a pid means one process)."""
    if not _TAG:
        try:
            with open("/proc/sys/kernel/random/boot_id") as f:
                boot = f.read().strip()
        except OSError:
            boot = ""
        try:
            pidns = os.stat("/proc/self/ns/pid").st_ino
        except OSError:
            pidns = 0
        seed = f"{socket.gethostname()}|{boot}|{pidns}".encode()
        _TAG.append(hashlib.sha256(seed).hexdigest()[:8])
    return _TAG[0]


def tmp_name(path: str) -> str:
    """A unique temp name beside ``path`` naming its writer: ``.<name>.<pid>-<host><random>.lvtmp``."""
    head, tail = os.path.split(path)
    return os.path.join(head, f".{tail}.{os.getpid()}-{host_tag()}{os.urandom(4).hex()}{TMP_SUFFIX}")


def written_here(name: str) -> bool:
    """Whether temp file ``name`` names this machine, boot and pid namespace as its writer's."""
    try:
        rest = name.rsplit(".", 2)[-2].split("-", 1)[1]
    except IndexError:
        return False
    return len(rest) == 16 and rest[:8] == host_tag()


def is_stale(name: str, st: os.stat_result, now: float, foreign_age: float = FOREIGN_AGE) -> bool:
    """Whether the temp file ``name`` (its ``lstat`` result ``st``) belongs to no live writer."""
    if not is_tmp_name(name) or not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
        return False
    if written_here(name):
        return not tmp_owner_alive(name)
    return now - max(st.st_mtime, st.st_ctime) > foreign_age


def remove_stale(folder: str, now: float, foreign_age: float = FOREIGN_AGE) -> int:
    """Remove the stale temp files of ``folder`` (not below it); returns how many went."""
    removed = 0
    try:
        it = os.scandir(folder)
    except OSError:
        return 0  # no such folder yet, or not ours to list: the upload itself will say so
    with it:
        temps = [e for e in it if is_tmp_name(e.name)]
    for e in temps:
        try:
            st = e.stat(follow_symlinks=False)
            if is_stale(e.name, st, now, foreign_age):
                os.unlink(e.path)
                removed += 1
        except OSError:
            continue  # gone meanwhile (renamed by its writer, removed by another cleaner), or not ours to remove
    return removed
