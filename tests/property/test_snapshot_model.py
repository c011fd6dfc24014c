"""The packed stat-cache records (workspace.snapshot) against a plain dict reference: append,
keep, extend, update, flags, the stored form, and splitting off recently written files."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from labvault.workspace.snapshot import (
    KEY,
    Snapshot,
    pack_record,
    record_mtime,
    record_oid,
    without_recent,
)

Entry = tuple[int, int, int, str, bool]

names = st.text(alphabet="abcdé/日 .", min_size=0, max_size=6)
entries = st.tuples(
    st.integers(0, 2**64 - 1),
    st.integers(-(2**63), 2**63 - 1),
    st.integers(0, 2**64 - 1),
    st.binary(min_size=16, max_size=16).map(bytes.hex),
    st.booleans(),
)


class SnapshotModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.snap = Snapshot()
        self.ref: dict[str, Entry] = {}  # insertion order = record order

    @rule(name=names, e=entries)
    def append(self, name: str, e: Entry) -> None:
        if name in self.ref:
            return
        self.snap.append(name, e)
        self.ref[name] = e

    @rule(new=st.dictionaries(names, entries, max_size=5))
    def extend(self, new: dict[str, Entry]) -> None:
        new = {n: e for n, e in new.items() if n not in self.ref}
        self.snap.extend(list(new), b"".join(pack_record(*e) for e in new.values()))
        self.ref.update(new)

    @precondition(lambda self: self.ref)
    @rule(data=st.data(), e=entries)
    def update(self, data: st.DataObject, e: Entry) -> None:
        name = data.draw(st.sampled_from(list(self.ref)))
        self.snap.set_record(self.snap.index[name], *e)
        self.ref[name] = e

    @rule(data=st.data())
    def keep(self, data: st.DataObject) -> None:
        keep = data.draw(st.lists(st.booleans(), min_size=len(self.ref), max_size=len(self.ref)))
        positions = [i for i, k in enumerate(keep) if k]
        self.snap = self.snap.keeping(positions)
        items = list(self.ref.items())
        self.ref = dict(items[i] for i in positions)

    @precondition(lambda self: self.ref)
    @rule(data=st.data(), flag=st.booleans())
    def set_flag(self, data: st.DataObject, flag: bool) -> None:
        name = data.draw(st.sampled_from(list(self.ref)))
        self.snap.set_flag(self.snap.index[name], flag)
        e = self.ref[name]
        self.ref[name] = (e[0], e[1], e[2], e[3], flag)

    @rule(flag=st.booleans())
    def set_all_flags(self, flag: bool) -> None:
        self.snap.set_all_flags(flag)
        self.ref = {n: (e[0], e[1], e[2], e[3], flag) for n, e in self.ref.items()}

    @rule(per_part=st.integers(1, 4))
    def round_trip(self, per_part: int) -> None:
        """Stored in parts of ``per_part`` entries and read back."""
        head, *rest = self.snap.to_parts(per_part)
        self.snap = Snapshot.from_parts(head, rest, self.snap.tree_oid, self.snap.stored_gen)

    @rule(trusted=st.binary(min_size=256, max_size=256))
    def unconfirmed(self, trusted: bytes) -> None:
        expected = [i for i, e in enumerate(self.ref.values()) if not (e[4] and trusted[int(e[3][:2], 16)])]
        assert self.snap.unconfirmed(trusted) == expected

    @rule(horizon=st.integers(-(2**63), 2**63 - 1))
    def split_recent(self, horizon: int) -> None:
        recs = b"".join(pack_record(*e) for e in self.ref.values())
        kept_names, kept, recent = without_recent(list(self.ref), recs, horizon)
        assert kept_names == [n for n, e in self.ref.items() if e[1] < horizon]
        assert recent == {n: e[3] for n, e in self.ref.items() if e[1] >= horizon}
        for i, n in enumerate(kept_names):
            assert record_mtime(kept, i) == self.ref[n][1] and record_oid(kept, i) == self.ref[n][3]

    @rule(data=st.data())
    def compare(self, data: st.DataObject) -> None:
        """A walk's files against the records: unchanged when the stat key matches."""
        files = []
        for name in data.draw(st.lists(names, unique=True, max_size=6)):
            e = self.ref.get(name)
            same = e is not None and data.draw(st.booleans())
            key = (e[0], e[1], e[2]) if same and e is not None else (1, 2, 3)
            files.append((name, "/x/" + name, key[0], key[1], key[2], 0o644, 1, False))
        old_n = len(self.ref)
        seen = bytearray(old_n)
        changed: list[tuple[str, str, int, int, int, int, int, bool]] = []
        self.snap.compare(files, old_n, seen, changed)
        order = list(self.ref)
        for f in files:
            e = self.ref.get(f[0])
            match = e is not None and (e[0], e[1], e[2]) == (f[2], f[3], f[4])
            assert (f in changed) != match
            if e is not None:
                assert seen[order.index(f[0])] == (1 if match else 2)
        assert seen.count(0) == old_n - sum(1 for f in files if f[0] in self.ref)

    @invariant()
    def same_as_reference(self) -> None:
        snap, ref = self.snap, self.ref
        assert snap.names == list(ref)
        assert len(snap) == len(ref) and len(snap.recs) == len(ref) * len(pack_record(0, 0, 0, "0" * 32, False))
        assert {n: snap.entry(n) for n in snap.names} == ref
        assert snap.pairs() == [(n, e[3]) for n, e in ref.items()]
        assert list(snap.sorted_pairs([])) == sorted((n, e[3]) for n, e in ref.items())
        assert snap.all_stored() == all(e[4] for e in ref.values())
        for i, e in enumerate(ref.values()):
            assert snap.oid_at(i) == e[3] and snap.mtime_at(i) == e[1] and snap.stored_at(i) == e[4]
            assert snap.fanout_at(i) == int(e[3][:2], 16)
            assert snap.key_at(i) == KEY.pack(e[0], e[1], e[2])


TestSnapshotModel = SnapshotModel.TestCase
TestSnapshotModel.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
