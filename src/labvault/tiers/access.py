"""The access log: reads that go through labvault, batched in memory and written once.

``record()`` costs a dict update; ``flush()`` (at the end of a command, or leaving the ``with``
block) writes one ``lab_access`` row per unit and source with the count of reads, and moves each
unit's ``last_access`` forward (never back), in one transaction. A process killed before the flush
loses only its own unflushed reads: last access is a hint for the planner, never for safety.

atime is used only where the mount has strict atime (neither ``noatime`` nor ``relatime`` in
``/proc/self/mountinfo``): on ``relatime`` mounts (Linux's default) and ``noatime`` ones it says
little about the last read.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from types import TracebackType

import sqlalchemy as sa

from labvault.catalog.lab_schema import lab_access, lab_units
from labvault.catalog.store import Catalog

_EPOCH = datetime(1970, 1, 1)  # timestamps are naive UTC (``catalog.store.now``)
_US = timedelta(microseconds=1)


class AccessLog:
    """Reads of lab units, kept in memory until :meth:`flush`.

    A read costs one dict lookup and an integer clock read (microseconds since the epoch, turned
    into a timestamp only at the flush, exactly): the batched path writes what one flush per read
    would (the summed count per unit and source, the latest time), checked by a model test."""

    def __init__(self, cat: Catalog) -> None:
        self._cat = cat
        self._pending: dict[tuple[int, str], list[int]] = {}  # -> [reads, latest read in µs]

    def record(self, unit_id: int, source: str, at: datetime | None = None) -> None:
        us = time.time_ns() // 1000 if at is None else (at - _EPOCH) // _US
        slot = self._pending.get((unit_id, source))
        if slot is None:
            self._pending[(unit_id, source)] = [1, us]
        else:
            slot[0] += 1
            if us > slot[1]:
                slot[1] = us

    @property
    def pending(self) -> int:
        return sum(c for c, _ in self._pending.values())

    def flush(self) -> int:
        """Write the batched reads; returns how many reads were written."""
        if not self._pending:
            return 0
        stamped = {key: (c, _EPOCH + us * _US) for key, (c, us) in self._pending.items()}
        rows = [{"unit_id": u, "source": s, "reads": c, "at": at} for (u, s), (c, at) in stamped.items()]
        latest: dict[int, datetime] = {}
        for (uid, _source), (_count, at) in stamped.items():
            latest[uid] = max(latest.get(uid, at), at)

        forward = sa.update(lab_units).where(
            lab_units.c.id == sa.bindparam("uid"),
            sa.or_(lab_units.c.last_access.is_(None), lab_units.c.last_access < sa.bindparam("at")),
        ).values(last_access=sa.bindparam("at"))
        moves = [{"uid": uid, "at": at} for uid, at in latest.items()]

        def write(conn: sa.Connection) -> None:
            conn.execute(sa.insert(lab_access), rows)
            conn.execute(forward, moves)  # one executemany

        self._cat.write(write)
        written = self.pending
        self._pending.clear()
        return written

    def __enter__(self) -> AccessLog:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.flush()


def _unescape(field: str) -> str:
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 3 < len(field) and field[i + 1:i + 4].isdigit():
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def mount_options(path: str, mountinfo: str | None = None) -> set[str]:
    """The per-mount options of the mount holding ``path`` (``/proc/self/mountinfo`` format)."""
    if mountinfo is None:
        try:
            with open("/proc/self/mountinfo", encoding="utf-8") as f:
                mountinfo = f.read()
        except OSError:
            return set()
    target = os.path.realpath(path)
    best, opts = "", set()
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) < 6:
            continue
        point = _unescape(fields[4])
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, opts = point, set(fields[5].split(","))
    return opts


def atime_trusted(path: str, mountinfo: str | None = None) -> bool:
    """Whether reads update atime on ``path``'s mount every time (strictatime)."""
    opts = mount_options(path, mountinfo)
    return bool(opts) and not ({"noatime", "relatime"} & opts)
