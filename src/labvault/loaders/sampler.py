"""``BlockShuffleSampler``: a random order that still reads the file almost sequentially.

A fully random permutation makes every sample of an HDF5 batch land in another chunk, so each
batch decompresses ``batch_size`` chunks to use one row of each. This sampler cuts ``[0, n)`` into
blocks of ``block_size`` consecutive indices (by default the dataset's chunk rows, so a block is
one chunk), visits the blocks in a random order and the indices of each block in a random order:
consecutive batches then share chunks, which HDF5's chunk cache serves from memory.

Epochs and seeds: the order of epoch ``e`` is a pure function of ``(seed, e, n, block_size)``
(numpy's PCG64 seeded with ``[seed, e]``), so every rank computes the same order without talking
to the others. Call ``set_epoch(e)`` at the start of each epoch, as with DistributedSampler.

Ranks (``rank`` of ``world_size``): the epoch's order is cut into ``world_size`` consecutive parts
whose lengths differ by at most one; rank ``r`` takes part ``r``. With ``drop_last=False`` every
index appears exactly once per epoch across all ranks (no padding and no duplicates, unlike
DistributedSampler), and ranks may get one sample more than others. With ``drop_last=True`` each
rank takes ``n // world_size`` indices (equal lengths, as collective training loops need), and
the ``n % world_size`` indices at the end of the epoch's order (different ones every epoch) are
not visited that epoch. DataLoader workers need nothing from the sampler: the DataLoader hands the
sampler's batches to its workers in turn.
"""

from __future__ import annotations

from collections.abc import Iterator, Sized

import numpy as np
import numpy.typing as npt

from labvault.errors import UsageError


class BlockShuffleSampler:
    """Indices of ``data`` (a length, or a sized dataset, ideally with ``chunk_rows``) per epoch."""

    def __init__(
        self,
        data: int | Sized,
        *,
        block_size: int | None = None,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        drop_last: bool = False,
        shuffle: bool = True,
    ) -> None:
        length = data if isinstance(data, int) else len(data)
        if block_size is None:
            chunk_rows = getattr(data, "chunk_rows", None)
            block_size = int(chunk_rows) if chunk_rows else 1
        if length < 0:
            raise UsageError(f"a dataset length cannot be negative ({length})")
        if block_size < 1:
            raise UsageError(f"block_size must be at least 1, not {block_size}")
        if world_size < 1 or not 0 <= rank < world_size:
            raise UsageError(f"rank {rank} is not in [0, world_size={world_size})",
                             "give 0 <= rank < world_size")
        self.length = length
        self.block_size = block_size
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.drop_last = drop_last
        self.shuffle = shuffle
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Use the order of ``epoch`` from the next iteration on."""
        self.epoch = epoch

    def epoch_order(self, epoch: int | None = None) -> npt.NDArray[np.int64]:
        """The whole epoch's order, over all ranks (the same on every rank)."""
        e = self.epoch if epoch is None else epoch
        n, b = self.length, self.block_size
        order = np.arange(n, dtype=np.int64)
        if not self.shuffle or n == 0:
            return order
        rng = np.random.default_rng([self.seed & 0xFFFFFFFFFFFFFFFF, e & 0xFFFFFFFFFFFFFFFF])
        n_blocks = -(-n // b)
        parts: list[npt.NDArray[np.int64]] = []
        for block in rng.permutation(n_blocks):
            lo = int(block) * b
            part = order[lo:min(lo + b, n)].copy()
            rng.shuffle(part)
            parts.append(part)
        return np.concatenate(parts)

    def _bounds(self) -> tuple[int, int]:
        n, w, r = self.length, self.world_size, self.rank
        if self.drop_last:
            per = n // w
            return r * per, (r + 1) * per
        return r * n // w, (r + 1) * n // w

    def indices(self, epoch: int | None = None) -> npt.NDArray[np.int64]:
        """This rank's indices for ``epoch`` (default: the current one), in order."""
        lo, hi = self._bounds()
        return self.epoch_order(epoch)[lo:hi]

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        lo, hi = self._bounds()
        return hi - lo
