"""Property tests of the streaming order: workers x ranks x epochs, disjoint and complete."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labvault.loaders.stream_plan import part_bounds, reader_order, shuffle_buffer, worker_skips

counts_st = st.lists(st.integers(0, 40), min_size=0, max_size=12)


@settings(max_examples=80, deadline=None)
@given(counts=counts_st, workers=st.integers(1, 4), world=st.integers(1, 4), epoch=st.integers(0, 3),
       seed=st.integers(0, 2**32 - 1), buffer=st.integers(0, 50), shuffle=st.booleans())
def test_every_sample_exactly_once_and_no_empty_reader(
        counts: list[int], workers: int, world: int, epoch: int, seed: int, buffer: int, shuffle: bool) -> None:
    readers = workers * world
    total = sum(counts)
    parts = []
    for rank in range(world):
        for w in range(workers):
            order = reader_order(counts, seed=seed, epoch=epoch, shuffle=shuffle, buffer=buffer,
                                 reader=rank * workers + w, readers=readers)
            lo, hi = part_bounds(total, rank * workers + w, readers)
            assert len(order) == hi - lo
            if total >= readers:
                assert len(order) > 0
            parts.append(order)
    lengths = [len(p) for p in parts]
    assert max(lengths) - min(lengths) <= 1
    every = np.concatenate(parts) if parts else np.zeros(0)
    assert sorted(every.tolist()) == list(range(total))


@settings(max_examples=50, deadline=None)
@given(counts=st.lists(st.integers(1, 30), min_size=2, max_size=8), seed=st.integers(0, 1000))
def test_epochs_differ_and_repeat(counts: list[int], seed: int) -> None:
    a0 = reader_order(counts, seed=seed, epoch=0, shuffle=True, buffer=8, reader=0, readers=1)
    again = reader_order(counts, seed=seed, epoch=0, shuffle=True, buffer=8, reader=0, readers=1)
    assert a0.tolist() == again.tolist()
    if sum(counts) > 20:
        orders = {tuple(reader_order(counts, seed=seed, epoch=e, shuffle=True, buffer=8, reader=0,
                                     readers=1).tolist()) for e in range(4)}
        assert len(orders) > 1


@given(part=st.lists(st.integers(0, 10**6), unique=True, max_size=60), buffer=st.integers(2, 20))
def test_shuffle_buffer_is_a_local_permutation(part: list[int], buffer: int) -> None:
    arr = np.asarray(part, dtype=np.int64)
    out = shuffle_buffer(arr, buffer, seed=1, epoch=0, reader=0)
    assert sorted(out.tolist()) == sorted(part)
    for k, value in enumerate(out.tolist()):  # never more than `buffer` samples ahead of the input
        assert part.index(value) < k + buffer


@given(part=st.lists(st.integers(0, 10**6), unique=True, min_size=1, max_size=60), buffer=st.integers(2, 20))
def test_shuffle_buffer_emits_before_it_is_full(part: list[int], buffer: int) -> None:
    # the k-th sample out was among the first 2(k+1) in: the first batch never waits for a full buffer
    out = shuffle_buffer(np.asarray(part, dtype=np.int64), buffer, seed=2, epoch=1, reader=3)
    for k, value in enumerate(out.tolist()):
        assert part.index(value) < 2 * (k + 1)


@given(lengths=st.lists(st.integers(0, 30), min_size=1, max_size=4), batch=st.integers(1, 8), data=st.data())
def test_worker_skips_match_a_round_robin_loader(lengths: list[int], batch: int, data: st.DataObject) -> None:
    # the batches a DataLoader hands out, worker by worker in turn
    seen = [0] * len(lengths)
    boundaries = [(0, list(seen))]
    total = 0
    while any(seen[w] < lengths[w] for w in range(len(lengths))):
        for w in range(len(lengths)):
            take = min(batch, lengths[w] - seen[w])
            if take > 0:
                seen[w] += take
                total += take
                boundaries.append((total, list(seen)))
    consumed, expect = data.draw(st.sampled_from(boundaries))
    assert worker_skips(consumed, lengths, batch) == expect


def test_worker_skips_refuses_a_count_inside_a_batch() -> None:
    with pytest.raises(ValueError):
        worker_skips(3, [10, 10], 4)
