"""``RemoteStore.sizes`` picks, per fan-out prefix, a listing or one question per object (or one listing
of everything) to spend fewer requests; whatever it picks, the answer must be the one the obvious
way gives: ``stat`` each object asked about. Run on a real folder remote, once as a folder (one stat
per object) and once treated as object storage (the listing strategies), against a model built by
stat-ing every key directly. Also the rules for a killed push's temp files."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from labvault.remotes.leftovers import host_tag, is_stale, remove_stale, tmp_name
from labvault.remotes.local import LocalBackend
from labvault.remotes.store import RemoteStore, key_of

HEXD = "0123456789abcdef"
# Few distinct prefixes, so that some hold many of the objects asked about (listed) and some few (asked).
oids = st.builds(
    lambda p, rest, d: p + rest + (".dir" if d else ""),
    st.sampled_from(["00", "0a", "7f", "ff", "c3"]),
    st.text(HEXD, min_size=30, max_size=30),
    st.booleans(),
)
refs = st.tuples(oids, st.booleans())


def _model(root: Path, asked: set[tuple[str, bool]]) -> dict[tuple[str, bool], int]:
    out = {}
    for ref in asked:
        p = root / key_of(*ref)
        if p.is_file():
            out[ref] = p.stat().st_size
    return out


@settings(max_examples=60, deadline=None)
@given(
    stored=st.dictionaries(refs, st.integers(0, 40), max_size=120),
    extra=st.lists(refs, max_size=60),
    cheap=st.booleans(),
    jobs=st.integers(1, 4),
)
def test_sizes_match_a_stat_of_each_object(
    stored: dict[tuple[str, bool], int], extra: list[tuple[str, bool]], cheap: bool, jobs: int
) -> None:
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        for ref, size in stored.items():
            p = root / key_of(*ref)
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(b"x" * size)
        # A temp file under an object's name prefix is never an object.
        (root / "files" / "md5" / "00").mkdir(parents=True, exist_ok=True)
        (root / "files" / "md5" / "00" / f".{'1' * 30}.1-abcdef.lvtmp").write_bytes(b"partial")
        asked = set(list(stored)[::2]) | set(extra)
        backend = LocalBackend(str(root))
        backend.cheap_lookups = cheap
        store = RemoteStore("r", backend, jobs)
        assert store.sizes(asked) == _model(root, asked)
        assert store.sizes([]) == {}


def test_stale_temp_files(tmp_path: Path) -> None:
    now = time.time()
    here_live = Path(tmp_name(str(tmp_path / ("a" * 30))))  # this process: alive
    here_live.write_bytes(b"1")
    dead_pid = 2**22 + 12345  # above pid_max's usual ceiling: no such process
    here_dead = tmp_path / f".{'b' * 30}.{dead_pid}-{host_tag()}{'00' * 4}.lvtmp"
    here_dead.write_bytes(b"2")
    other = "00000000" if host_tag() != "00000000" else "11111111"
    foreign = tmp_path / f".{'c' * 30}.{dead_pid}-{other}{'00' * 4}.lvtmp"
    foreign.write_bytes(b"3")
    old_style = tmp_path / f".{'d' * 30}.{dead_pid}-0a1b2c3d.lvtmp"  # no host: judged by age
    old_style.write_bytes(b"4")
    not_temp = tmp_path / ("e" * 30)
    not_temp.write_bytes(b"5")

    def stale(p: Path, at: float) -> bool:
        return is_stale(p.name, os.lstat(p), at)

    assert not stale(here_live, now + 10**6)
    assert stale(here_dead, now)
    assert not stale(foreign, now) and not stale(old_style, now)
    assert stale(foreign, now + 7200) and stale(old_style, now + 7200)
    assert not stale(not_temp, now + 10**6)

    assert remove_stale(str(tmp_path), now) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in (here_live, foreign, old_style, not_temp))
    assert remove_stale(str(tmp_path), now + 7200) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([here_live.name, not_temp.name])
    assert remove_stale(str(tmp_path / "missing"), now) == 0
