"""The second half of a move: the switch in the catalog, then the source replaced by a link.

Both steps are idempotent, so recovery after a kill runs the same code from wherever the journal
says the move stopped.

The old path never shows nothing: with ``symlink_old_path`` a symlink to the new location is made
at ``.NAME.move-ID.lvtmp`` beside the source and swapped with it in one ``renameat2(RENAME_EXCHANGE)``
(a file source is simply replaced by a rename); the old tree, now at that temp name, is deleted
after. Without the link the source is renamed to the temp name (so no half-deleted tree is ever
seen at the old path) and then deleted. File systems without RENAME_EXCHANGE get two renames.

The source is deleted only while the destination placement is ``verified`` and its path holds a
tree of the unit's size; otherwise the move is undone instead (``failed``, source kept).
"""

from __future__ import annotations

import os
import time

import sqlalchemy as sa

from labvault.catalog.lab_schema import lab_file_stats, lab_placements, lab_units
from labvault.catalog.store import Catalog, now
from labvault.fsutil import fsync_dir
from labvault.tiers import bucketmove, journal
from labvault.tiers.bucket import is_url
from labvault.tiers.copy import FileStat, exchange, remove_tree, unit_bytes
from labvault.tiers.lab import LabConfig

RACY_NS = 50_000_000


def temp_path(location: str, move_id: int, tag: str = "") -> str:
    """The temp name of move ``move_id`` beside ``location`` (a copy on the destination side, the
    old tree or the link being made on the source side). Scans skip it (``is_tmp_name``)."""
    head, tail = os.path.split(location)
    return os.path.join(head, f".{tail}.move-{move_id}{tag}.lvtmp")


def switch(cat: Catalog, lab: LabConfig, move_id: int, unit_id: int, src_location: str, dst_tier: str,
           dst_location: str, stats: dict[str, FileStat]) -> bool:
    """One transaction: destination placement verified (with its stat-cache rows), the source
    ``deleting`` unless min_copies needs it, the row ``switched``. Returns True when the source is kept."""
    t = now()
    cutoff = time.time_ns() - RACY_NS

    def write(conn: sa.Connection) -> bool:
        placed = conn.execute(sa.select(lab_placements.c.id).where(lab_placements.c.location == dst_location)).first()
        if placed is None:
            pid = int(conn.execute(sa.insert(lab_placements).values(
                unit_id=unit_id, tier=dst_tier, location=dst_location, state="verified", verified_at=t,
                created_at=t)).inserted_primary_key[0])  # type: ignore[index]
        else:
            pid = int(placed.id)
            conn.execute(sa.update(lab_placements).where(lab_placements.c.id == pid).values(
                unit_id=unit_id, tier=dst_tier, state="verified", verified_at=t, created_at=t))
        conn.execute(sa.delete(lab_file_stats).where(lab_file_stats.c.placement_id == pid))
        rows = [{"placement_id": pid, "relpath": rel, "inode": s[0], "size": s[1], "mtime_ns": s[2], "md5": s[3]}
                for rel, s in stats.items() if s[2] < cutoff]
        for i in range(0, len(rows), 5000):
            conn.execute(sa.insert(lab_file_stats), rows[i:i + 5000])
        verified = conn.execute(sa.select(sa.func.count()).select_from(lab_placements).where(
            lab_placements.c.unit_id == unit_id, lab_placements.c.state == "verified",
            lab_placements.c.location != src_location)).scalar_one()
        keep = int(verified) < lab.min_copies
        if not keep:
            conn.execute(sa.update(lab_placements).where(lab_placements.c.location == src_location,
                                                         lab_placements.c.unit_id == unit_id).values(state="deleting"))
        journal.set_state(conn, move_id, "switched")
        return keep

    return cat.write(write)


def complete(cat: Catalog, lab: LabConfig, row: journal.MoveRow) -> str:
    """Finish a ``switched`` move: final name in place, source gone (or linked), row ``done``.
    Returns a line saying what was done. Either side may be a bucket tier (``bucketmove``)."""
    to_bucket, from_bucket = is_url(row.dst_location), is_url(row.src_location)
    if not to_bucket:
        _put_in_place(temp_path(row.dst_location, row.id), row.dst_location)
    with cat.read() as conn:
        src_state = conn.execute(sa.select(lab_placements.c.state).where(
            lab_placements.c.location == row.src_location, lab_placements.c.unit_id == row.unit_id)).scalar()
        dst_state = conn.execute(sa.select(lab_placements.c.state).where(
            lab_placements.c.location == row.dst_location, lab_placements.c.unit_id == row.unit_id)).scalar()
        size = conn.execute(sa.select(lab_units.c.size).where(lab_units.c.id == row.unit_id)).scalar()
    if src_state != "deleting":
        journal.advance(cat, row.id, "done")
        return f"{row.src_location}: copied to {row.dst_location}, source kept"
    holds = (bucketmove.holds(lab, row.dst_tier, row.dst_location, size) if to_bucket
             else _holds(row.dst_location, size))
    if dst_state != "verified" or not holds:
        _undo(cat, row)
        return f"{row.src_location}: the copy at {row.dst_location} is gone; source kept"
    if from_bucket:
        bucketmove.retire(cat, lab, row.src_tier, row.src_location)
    else:
        link = lab.symlink_old_path and not to_bucket
        _retire_source(row.src_location, row.dst_location, temp_path(row.src_location, row.id),
                       temp_path(row.src_location, row.id, "-old"), link)
    repoint_links(cat, row.unit_id, row.src_location, row.dst_location)

    def write(conn: sa.Connection) -> None:
        conn.execute(sa.delete(lab_placements).where(lab_placements.c.location == row.src_location,
                                                     lab_placements.c.unit_id == row.unit_id))
        journal.set_state(conn, row.id, "done")

    cat.write(write)
    return f"{row.src_location}: moved to {row.dst_location}"


def repoint_links(cat: Catalog, unit_id: int, old: str, new: str) -> None:
    """Forwarding links of the unit's earlier moves that lead to ``old`` now lead straight to
    ``new`` (one hop, never a chain), or go when ``new`` is a URL (or the link's own path): each is
    replaced atomically by a rename. Only symlinks whose target is ``old`` are touched."""
    for path in journal.earlier_sources(cat, unit_id, old):
        if is_url(path) or not os.path.islink(path) or os.readlink(path) != old:
            continue
        if is_url(new) or os.path.abspath(path) == os.path.abspath(new):
            if os.path.abspath(path) != os.path.abspath(new):
                os.unlink(path)
                fsync_dir(os.path.dirname(path))
            continue
        tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.relink.lvtmp")
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(new, tmp)
        os.rename(tmp, path)
        fsync_dir(os.path.dirname(path))


def forwards_to(link: str, target: str) -> bool:
    """Whether ``link`` is a symlink leading to ``target`` (an earlier move's forwarding link)."""
    return os.path.islink(link) and os.path.realpath(link) == os.path.realpath(target)


def _put_in_place(temp: str, final: str) -> None:
    """Rename the verified copy to its final name; a forwarding link there (the unit coming back)
    is swapped out atomically, then removed."""
    if os.path.lexists(temp) and not os.path.islink(temp):
        if os.path.islink(final) and os.path.isdir(temp):
            if not exchange(temp, final):
                os.unlink(final)
                os.rename(temp, final)
        elif not os.path.lexists(final) or os.path.islink(final):
            os.rename(temp, final)
        fsync_dir(os.path.dirname(final))
    if os.path.islink(temp):
        os.unlink(temp)  # the link swapped out


def _holds(path: str, size: int | None) -> bool:
    try:
        return size is None or unit_bytes(path)[0] == size
    except OSError:
        return False


def _retire_source(src: str, dst: str, temp: str, old: str, link: bool) -> None:
    if os.path.islink(src) or (not os.path.lexists(src) and not link):
        remove_tree(temp)  # done before: only the old tree's remains (if any) are left
        remove_tree(old)
        return
    if not os.path.lexists(src):  # the old tree is gone (at temp or old, or deleted): put the link back
        _make_link(dst, src, temp)
        remove_tree(temp)
        remove_tree(old)
        return
    if os.path.islink(temp):
        os.unlink(temp)  # a link made before a kill, not yet swapped in
    elif os.path.lexists(temp):
        remove_tree(temp)
    if link:
        os.symlink(dst, temp)
        if os.path.isdir(src) and not os.path.islink(src):
            if not exchange(temp, src):
                os.rename(src, old)
                os.rename(temp, src)
                os.rename(old, temp)
        else:
            os.rename(temp, src)  # replaces the file
    else:
        os.rename(src, temp)
    fsync_dir(os.path.dirname(src))
    remove_tree(temp)


def _make_link(dst: str, src: str, temp: str) -> None:
    link_tmp = temp[:-len(".lvtmp")] + "-link.lvtmp"
    if os.path.lexists(link_tmp):
        os.unlink(link_tmp)
    os.symlink(dst, link_tmp)
    os.rename(link_tmp, src)
    fsync_dir(os.path.dirname(src))


def _undo(cat: Catalog, row: journal.MoveRow) -> None:
    def write(conn: sa.Connection) -> None:
        conn.execute(sa.update(lab_placements).where(lab_placements.c.location == row.src_location,
                                                     lab_placements.c.unit_id == row.unit_id).values(state="present"))
        conn.execute(sa.delete(lab_placements).where(lab_placements.c.location == row.dst_location,
                                                     lab_placements.c.unit_id == row.unit_id))
        journal.set_state(conn, row.id, "failed", f"the copy at {row.dst_location} vanished after the switch")

    cat.write(write)
