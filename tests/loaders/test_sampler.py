"""BlockShuffleSampler: every index once per epoch across ranks, blocks kept whole, seeded order."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labvault.errors import UsageError
from labvault.loaders import BlockShuffleSampler


@settings(max_examples=200, deadline=None)
@given(n=st.integers(0, 500), block=st.integers(1, 64), world=st.integers(1, 8),
       seed=st.integers(0, 2**32), epochs=st.integers(1, 3))
def test_ranks_disjoint_and_complete_every_epoch(n: int, block: int, world: int, seed: int,
                                                 epochs: int) -> None:
    samplers = [BlockShuffleSampler(n, block_size=block, seed=seed, rank=r, world_size=world)
                for r in range(world)]
    for epoch in range(epochs):
        seen: list[int] = []
        for s in samplers:
            s.set_epoch(epoch)
            mine = list(s)
            assert len(mine) == len(s)
            seen.extend(mine)
        assert sorted(seen) == list(range(n))  # each index exactly once: disjoint and complete
        lengths = [len(s) for s in samplers]
        assert max(lengths) - min(lengths) <= 1


@settings(max_examples=200, deadline=None)
@given(n=st.integers(0, 500), block=st.integers(1, 64), world=st.integers(1, 8), seed=st.integers(0, 99))
def test_drop_last_equal_lengths_disjoint(n: int, block: int, world: int, seed: int) -> None:
    parts = [list(BlockShuffleSampler(n, block_size=block, seed=seed, rank=r, world_size=world,
                                      drop_last=True)) for r in range(world)]
    flat = [i for p in parts for i in p]
    assert {len(p) for p in parts} == {n // world}
    assert len(set(flat)) == len(flat) and set(flat) <= set(range(n))


@settings(max_examples=100, deadline=None)
@given(n=st.integers(1, 400), block=st.integers(1, 40), seed=st.integers(0, 99))
def test_blocks_are_visited_whole(n: int, block: int, seed: int) -> None:
    order = BlockShuffleSampler(n, block_size=block, seed=seed).epoch_order()
    # The order is a sequence of whole blocks: each run of block_size positions (the last shorter)
    # holds the indices of exactly one block.
    blocks = [order[i:i + block] for i in range(0, n, block)] if n % block == 0 else None
    ids = order // block
    changes = int(np.count_nonzero(np.diff(ids))) if n > 1 else 0
    assert changes == -(-n // block) - 1
    if blocks is not None:
        for b in blocks:
            assert len(set((b // block).tolist())) == 1


def test_seed_and_epoch_determine_the_order() -> None:
    a, b = BlockShuffleSampler(1000, block_size=10, seed=1), BlockShuffleSampler(1000, block_size=10, seed=1)
    assert list(a) == list(b)
    first = list(a)
    a.set_epoch(1)
    assert list(a) != first
    assert list(BlockShuffleSampler(1000, block_size=10, seed=2)) != first


def test_block_size_defaults_to_chunk_rows() -> None:
    class Chunked:
        chunk_rows = 25

        def __len__(self) -> int:
            return 100

    assert BlockShuffleSampler(Chunked()).block_size == 25
    assert BlockShuffleSampler(100).block_size == 1
    assert list(BlockShuffleSampler(5, shuffle=False)) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("kwargs", [{"rank": 2, "world_size": 2}, {"block_size": 0}, {"world_size": 0}])
def test_bad_arguments_refused(kwargs: dict[str, int]) -> None:
    with pytest.raises(UsageError):
        BlockShuffleSampler(10, **kwargs)
