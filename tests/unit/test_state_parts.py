"""The stat cache stores each snapshot in parts of ``PART`` entries: written a part at a time in
one transaction (memory beyond the snapshot stays at about one part), read back whole or, when
anything is inconsistent, as an empty snapshot (a cache miss), never as a partial one."""

from __future__ import annotations

import marshal
import sqlite3
import tracemalloc
from pathlib import Path

from labvault.workspace.snapshot import PART, R, Snapshot, pack_record
from labvault.workspace.state import State


def _snapshot(n: int) -> Snapshot:
    names = [f"d{i // 1000:04d}/f{i:07d}" for i in range(n)]
    recs = bytearray().join(pack_record(i + 1, 1_700_000_000_000_000_000 + i, i % 64, f"{i:032x}", i % 3 == 0) for i in range(n))
    snap = Snapshot(names, recs, tree_oid="e" * 32 + ".dir", stored_gen=7)
    snap.patch = {"d0000/f0000001": "a" * 32, "new": None}
    snap.fanout = b"\x01" * 16
    return snap


def _parts(db: Path, path: str) -> list[int]:
    with sqlite3.connect(db) as conn:
        return [seq for (seq,) in conn.execute("SELECT seq FROM snapshot_parts WHERE path = ? ORDER BY seq", (path,))]


def test_a_snapshot_of_several_parts_round_trips(tmp_path: Path) -> None:
    n = 2 * PART + 5
    state = State(tmp_path)
    state.put("data", _snapshot(n))
    state.close()
    assert _parts(state.path, "data") == [1, 2]  # the first part is in the snapshot's own row
    got = State(tmp_path).get("data")
    want = _snapshot(n)
    assert got.names == want.names and bytes(got.recs) == bytes(want.recs)
    assert (got.tree_oid, got.stored_gen, got.patch, got.fanout) == (want.tree_oid, 7, want.patch, want.fanout)
    assert got.entry("d0032/f0032772") == (32773, 1_700_000_000_000_032_772, 4, f"{32772:032x}", True)


def test_put_holds_one_part_at_a_time(tmp_path: Path) -> None:
    """The Python side of a put of 16 parts allocates a part or two, not the whole stored form."""
    snap = _snapshot(16 * PART)
    whole = sum(len(p) for p in snap.to_parts())
    state = State(tmp_path)
    state.put("warm", _snapshot(3))  # the connection and its schema, outside the measure
    tracemalloc.start()
    try:
        state.put("data", snap)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert whole > 12_000_000
    assert peak < whole / 4, f"a put of {whole:,} stored bytes allocated {peak:,} at its peak"
    assert len(State(tmp_path).get("data")) == 16 * PART


def test_a_smaller_snapshot_leaves_no_parts_behind(tmp_path: Path) -> None:
    state = State(tmp_path)
    state.put("data", _snapshot(3 * PART))
    state.put("data", _snapshot(10))
    state.close()
    assert _parts(state.path, "data") == []
    assert State(tmp_path).get("data").names == _snapshot(10).names


def test_a_missing_or_damaged_part_is_a_cache_miss(tmp_path: Path) -> None:
    state = State(tmp_path)
    state.put("a", _snapshot(3 * PART))
    state.put("b", _snapshot(3 * PART))
    state.close()
    with sqlite3.connect(state.path) as conn:
        conn.execute("DELETE FROM snapshot_parts WHERE path = 'a' AND seq = 1")
        conn.execute("UPDATE snapshot_parts SET data = ? WHERE path = 'b' AND seq = 2", (marshal.dumps((["x"], b"short")),))
    fresh = State(tmp_path)
    for path in ("a", "b"):
        snap = fresh.get(path)
        assert len(snap) == 0 and snap.tree_oid is None and snap.patch == {}


def test_forget_drops_the_parts_too(tmp_path: Path) -> None:
    state = State(tmp_path)
    state.put("data", _snapshot(2 * PART))
    state.forget("data")
    state.close()
    assert _parts(state.path, "data") == []
    assert len(State(tmp_path).get("data")) == 0


def test_a_snapshot_stored_whole_by_an_earlier_version_is_read(tmp_path: Path) -> None:
    """Format 3: one marshalled (3, names, records, patch, fanout) in the row, no parts."""
    state = State(tmp_path)
    state.put("data", _snapshot(1))
    state.close()
    want = _snapshot(50)
    blob = marshal.dumps((3, want.names, bytes(want.recs), want.patch, want.fanout))
    with sqlite3.connect(state.path) as conn:
        conn.execute("UPDATE snapshots SET blob = ? WHERE path = 'data'", (blob,))
    got = State(tmp_path).get("data")
    assert got.names == want.names and bytes(got.recs) == bytes(want.recs) and len(got.recs) == 50 * R
    assert (got.patch, got.fanout) == (want.patch, want.fanout)
