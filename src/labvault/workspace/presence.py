"""Is every object of an output's files in the cache? Checked, never assumed.

A scan's snapshot carries a ``stored`` flag per file and the stamp of the cache's fan-out folders
under which those flags were confirmed (``core.fanout``). A flag counts only while its object's
folder is unchanged since; every other object is looked up (a ``stat``, or one listing of a
folder with many to confirm). See "Is the object in the cache?" in docs/design.md.
"""

from __future__ import annotations

from collections.abc import Callable

from labvault.core.fanout import FOLDERS, absent, forget, take_stamp, unchanged
from labvault.core.tree import DIR_SUFFIX
from labvault.errors import CacheError
from labvault.workspace.repo import Repo
from labvault.workspace.snapshot import Entry, Snapshot
from labvault.workspace.state import RACY_NS

Pairs = list[tuple[str, str]]


def confirm_present(
    repo: Repo, rel: str, snap: Snapshot, racy: Pairs, trust_gen: bool, gen: int, store: bool, legacy: bool = False
) -> tuple[list[str], bool]:
    """Confirm the object of every file of output ``rel`` (the snapshot's files, plus ``racy``:
    files read but too recent to record). With ``store`` a missing object is stored again from its
    file; otherwise the files whose objects are missing are returned (relpaths, sorted). Second
    value: the snapshot's flags or stamp changed (worth writing back). Updates the snapshot's
    flags, stamp and generation."""
    odb = repo.odb
    base = odb.cache_dir if legacy else odb.root
    # The stamp comes first: whatever is confirmed after it is vouched for as long as it holds.
    stamp = take_stamp(base, RACY_NS)
    trusted = unchanged(snap.fanout, stamp) if trust_gen else bytearray(FOLDERS)
    todo = snap.unconfirmed(trusted)
    lost = absent(base, {snap.oid_at(i) for i in todo} | {oid for _, oid in racy})
    missing: list[str] = []
    if lost:
        where = str(repo.abspath(rel))
        missing = [snap.names[i] for i in todo if snap.oid_at(i) in lost]
        missing.extend(n for n, oid in racy if oid in lost)
        if store:
            recent = dict(racy)
            for name in missing:
                _restore(repo, f"{where}/{name}" if name else where, snap.entry(name), recent.get(name))
            stamp = forget(stamp, {int(oid[:2], 16) for oid in lost})
            missing = []
    # a flag that turns on is worth writing back; one that stays off (still missing) is not
    flips = any(not snap.stored_at(i) and (store or snap.oid_at(i) not in lost) for i in todo)
    if store or not lost:
        snap.set_all_flags(True)
    else:
        bad = set(missing)
        for i in todo:
            snap.set_flag(i, snap.names[i] not in bad)
    dirty = flips or stamp != snap.fanout or snap.stored_gen != gen
    snap.fanout, snap.stored_gen = stamp, gen
    return sorted(missing), dirty


def _restore(repo: Repo, path: str, entry: Entry | None, racy_oid: str | None) -> None:
    """Store again a file whose object is missing; it must still hold what was recorded."""
    want = racy_oid if entry is None else entry[3]
    oid, _ = repo.odb.store_file(path, "copy")
    if oid != want:
        raise CacheError(
            f"{path} changed while it was being added", "wait until it is written completely, then add it again"
        )
    if entry is not None and entry[4]:  # it had been stored: someone deleted it since
        repo.progress.message(f"{path}: its object {want} had been deleted from the cache; stored it again")



def recorded_missing(repo: Repo, oid: str, legacy: bool, confirmed: list[str] | None = None,
                     files: dict[str, str] | None = None) -> dict[str, str]:
    """The objects of a recorded version (``oid``: a file's, or a folder's manifest) that the
    cache lacks: {file of the folder: its oid}, or ``{"": oid}`` when the file's object or the
    manifest itself is missing (a manifest that cannot be read counts as missing; its files are
    then unknown). Empty: all there. ``confirmed``, with ``files``: the missing files a scan of
    that very version found (``Content.missing``, ``Content.files()``), so that their objects are
    not looked up again."""
    odb = repo.odb
    if not oid.endswith(DIR_SUFFIX):
        return {} if odb.exists(oid, legacy) else {"": oid}
    tree = odb.try_load_tree(oid, legacy) if odb.exists(oid, legacy) else None
    if tree is None:
        return {"": oid}
    if confirmed is not None and files is not None:
        return {n: files[n] for n in confirmed if n in files}
    pairs = list(tree)
    lost = absent(odb.cache_dir if legacy else odb.root, {o for _, o in pairs})
    return {n: o for n, o in pairs if o in lost}


def still_missing(lost: dict[str, str], elsewhere: Callable[[set[str]], set[str]] | None,
                  legacy: bool) -> dict[str, str]:
    """``lost`` (as ``recorded_missing`` returns it) less the objects ``elsewhere`` holds (a
    spill tier; 2.x objects are never spilled)."""
    if not lost or elsewhere is None or legacy:
        return lost
    held = elsewhere(set(lost.values()))
    return {n: o for n, o in lost.items() if o not in held}
