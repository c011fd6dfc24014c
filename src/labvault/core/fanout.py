"""Stamps of the cache's 256 fan-out folders (``files/md5/00`` .. ``ff``), to tell cheaply whether
objects known to be present may have gone since.

Deleting or adding an entry in a folder updates the folder's mtime and ctime. A stamp records, per
folder, (device, inode, mtime_ns, ctime_ns), taken *before* the objects in it are confirmed
present; if a later stamp of that folder is identical, nothing was removed from it in between, so
the objects confirmed then are still there. A folder changed within ``racy_ns`` of the moment the
stamp is taken gets no stamp (zeros): a change in the same timestamp tick would not move its times.
"""

from __future__ import annotations

import os
import struct
import time
from collections.abc import Iterable

_STAMP = struct.Struct("<QQqq")  # device, inode, mtime_ns, ctime_ns
S = _STAMP.size
FOLDERS = 256
NONE = bytes(S)
LIST_AT = 48  # more objects than this to confirm in one folder: list it rather than stat each


def take_stamp(base: str, racy_ns: int) -> bytes:
    """The stamp of the fan-out folders under ``base`` (``<cache>/files/md5`` or, 2.x, ``<cache>``)."""
    horizon = time.time_ns() - racy_ns
    out = bytearray(FOLDERS * S)
    for p in range(FOLDERS):
        try:
            st = os.stat(f"{base}/{p:02x}")
        except OSError:
            continue
        if st.st_mtime_ns >= horizon or st.st_ctime_ns >= horizon:
            continue
        _STAMP.pack_into(out, p * S, st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns)
    return bytes(out)


def unchanged(old: bytes, new: bytes) -> bytearray:
    """Per folder, 1 where both stamps are real and equal: nothing left that folder in between."""
    flags = bytearray(FOLDERS)
    if len(old) != FOLDERS * S or len(new) != FOLDERS * S:
        return flags
    for p in range(FOLDERS):
        a = old[p * S : (p + 1) * S]
        if a != NONE and a == new[p * S : (p + 1) * S]:
            flags[p] = 1
    return flags


def forget(stamp: bytes, folders: Iterable[int]) -> bytes:
    """The stamp with ``folders`` unstamped (something was written there after it was taken)."""
    out = bytearray(stamp)
    for p in folders:
        out[p * S : (p + 1) * S] = NONE
    return bytes(out)


def absent(base: str, oids: Iterable[str]) -> set[str]:
    """Which of ``oids`` have no object under ``base`` now: one ``stat`` each, or one listing of
    a folder that holds many of them."""
    by_folder: dict[str, list[str]] = {}
    for oid in oids:
        by_folder.setdefault(oid[:2], []).append(oid)
    missing: set[str] = set()
    for head, group in by_folder.items():
        folder = f"{base}/{head}"
        if len(group) > LIST_AT:
            try:
                names = set(os.listdir(folder))
            except OSError:
                names = set()
            missing.update(o for o in group if o[2:] not in names)
        else:
            missing.update(o for o in group if not os.path.exists(f"{folder}/{o[2:]}"))
    return missing
