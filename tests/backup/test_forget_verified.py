"""Nothing is removed until a newer verified snapshot holds the same data: ``keep_verified.guard``
against its definition over random histories, and labvault's own engine end to end."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from labvault.backup.engine import OwnEngine
from labvault.backup.keep_verified import UNVERIFIED, guard
from labvault.backup.retention import Policy, Snapshot, plan_retention

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[Snapshot], set[str], Policy]:
    n = draw(st.integers(0, 30))
    gaps = draw(st.lists(st.integers(1, 60 * 72), min_size=n, max_size=n))
    hosts = draw(st.lists(st.sampled_from(["a", "b"]), min_size=n, max_size=n))
    snaps, t = [], T0
    for i, (gap, host) in enumerate(zip(gaps, hosts, strict=True)):
        t += dt.timedelta(minutes=gap)
        snaps.append(Snapshot(f"s{i:03d}", t, host, ("/data",)))
    verified = {s.id for s in snaps if draw(st.booleans())} if draw(st.booleans()) else set()
    policy = Policy(last=draw(st.integers(0, 3)), daily=draw(st.integers(0, 3)), weekly=draw(st.integers(0, 2)))
    return snaps, verified, policy


@settings(max_examples=300, deadline=None)
@given(histories())
def test_guard_matches_its_definition(h: tuple[list[Snapshot], set[str], Policy]) -> None:
    snaps, verified, policy = h
    for group in plan_retention(snaps, policy):
        before = {d.snapshot.id: d.keep for d in group.decisions}
        after = guard(group.decisions, verified)
        assert [d.snapshot.id for d in after] == [d.snapshot.id for d in group.decisions]
        kept = {d.snapshot.id for d in after if d.keep}
        times = {d.snapshot.id: d.snapshot.time for d in after}
        for d in after:
            newer_ok = any(k in verified and times[k] > times[d.snapshot.id] for k in kept)
            if before[d.snapshot.id]:  # retention keeps it: the guard never removes
                assert d.keep and d.reasons and UNVERIFIED not in d.reasons
            elif d.keep:  # kept only by the guard: says why, and nothing newer kept is verified
                assert d.reasons == (UNVERIFIED,) and not newer_ok
            else:  # removed: a newer kept snapshot of its group is verified
                assert newer_ok


def test_own_engine_forget_keeps_until_a_newer_one_is_verified(tmp_path: Path) -> None:
    src = tmp_path / "data"
    src.mkdir()
    engine = OwnEngine(str(tmp_path / "target"), cache_dir=tmp_path / "cache", jobs=1)
    rng = random.Random(7)
    ids = []
    for i in range(6):
        (src / f"f{rng.randrange(3)}").write_bytes(f"v{i}".encode())
        ids.append(engine.run("p", [str(src)]).snapshot or "")
    policy = {"p": Policy(last=1)}
    assert engine.forget(policy).removed == ()  # nothing verified: everything stays
    assert engine.drill(ids[2]).ok  # verifies ids[2]: ids[0], ids[1] may go, ids[3], ids[4] wait
    result = engine.forget(policy)
    assert set(result.removed) == {ids[0], ids[1]}
    reasons = {i.id: i.reasons for i in result.items}
    assert reasons[ids[3]] == (UNVERIFIED,) and reasons[ids[2]] == (UNVERIFIED,) and reasons[ids[5]] == ("last snapshot",)
    assert not (tmp_path / "target" / "verified" / f"{ids[0]}.json").exists()
    assert engine.check(read_data=True).ok  # a full read-data check verifies every snapshot
    assert set(engine.forget(policy).removed) == {ids[2], ids[3], ids[4]}
    assert [s.id for s in engine.list()] == [ids[5]]
