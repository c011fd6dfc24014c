"""Which samples a reader of a ``StreamingDataset`` yields in an epoch, and in what order.

Pure functions of ``(unit sample counts, seed, epoch, reader, readers, buffer)``, so every rank
and DataLoader worker computes its share without talking to the others, and a resumed run
computes the same order again.

* Units (shards, or the files of a tracked folder) are put in an epoch order: a permutation
  drawn from PCG64 seeded with ``[seed, epoch]`` (or kept in index order without shuffling).
* The samples of the units, in that order, form the epoch's sequence of ``N`` global sample ids
  (``offsets[u] + i``). It is cut into ``readers`` consecutive parts whose lengths differ by at
  most one; reader ``rank * num_workers + worker`` takes its part. Every sample is thus yielded
  exactly once per epoch across all readers, and no reader is empty while ``N >= readers``,
  whatever the number of units (a unit on a boundary is read by the two readers sharing it).
* A reader passes its part through a shuffle buffer of ``buffer`` samples that starts empty and
  grows (PCG64 seeded with ``[seed, epoch, reader]``): before each emission it takes in up to
  two more samples, never holding more than ``buffer`` (so it grows by one per emission until
  full, then takes one per emission); it then emits a uniformly drawn slot (the last slot moves
  into it). At the end the rest leaves in a random order. So the first sample is out after two
  have been read (not after a full buffer), the early samples are shuffled over a smaller
  window, and from the ``buffer``-th emission on the window is the whole buffer. ``buffer <= 1``
  keeps the order. The emitted sample is always one of the next ``buffer`` samples of the part,
  so memory stays bounded by the buffer plus one unit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]


def offsets_of(counts: Sequence[int]) -> IntArray:
    """Global id of each unit's first sample; one more entry holding the total."""
    out = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(np.asarray(counts, dtype=np.int64), out=out[1:])
    return out


def unit_order(n_units: int, *, seed: int, epoch: int, shuffle: bool) -> IntArray:
    if not shuffle:
        return np.arange(n_units, dtype=np.int64)
    rng = np.random.Generator(np.random.PCG64([seed, epoch]))
    return rng.permutation(n_units).astype(np.int64)


def part_bounds(total: int, reader: int, readers: int) -> tuple[int, int]:
    """``[start, end)`` of ``reader``'s part of a sequence of ``total`` samples."""
    base, extra = divmod(total, readers)
    start = reader * base + min(reader, extra)
    return start, start + base + (1 if reader < extra else 0)


def reader_part(counts: Sequence[int], order: IntArray, reader: int, readers: int) -> IntArray:
    """The global sample ids of ``reader``'s part, in epoch order (before the shuffle buffer)."""
    offsets = offsets_of(counts)
    start, end = part_bounds(int(offsets[-1]), reader, readers)
    pieces: list[IntArray] = []
    pos = 0
    for u in order:
        c = int(counts[u])
        lo, hi = max(start, pos), min(end, pos + c)
        if lo < hi:
            first = int(offsets[u]) + lo - pos
            pieces.append(np.arange(first, first + hi - lo, dtype=np.int64))
        pos += c
        if pos >= end:
            break
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)


def shuffle_buffer(part: IntArray, buffer: int, *, seed: int, epoch: int, reader: int) -> IntArray:
    """The order a growing shuffle buffer of at most ``buffer`` slots emits ``part`` in."""
    n = len(part)
    if buffer <= 1 or n <= 1:
        return part.copy()
    size = min(buffer, n)
    rng = np.random.Generator(np.random.PCG64([seed, epoch, reader]))
    draws = rng.random(n).tolist()
    src = part.tolist()
    buf: list[int] = []
    out: list[int] = []
    taken = 0
    while taken < n:
        grow = min(2, size - len(buf), n - taken)
        buf.extend(src[taken:taken + grow])
        taken += grow
        j = int(draws[len(out)] * len(buf))
        out.append(buf[j])
        buf[j] = buf[-1]
        buf.pop()
    rest = np.asarray(buf, dtype=np.int64)[rng.permutation(len(buf))]
    return np.concatenate([np.asarray(out, dtype=np.int64), rest])


def reader_order(counts: Sequence[int], *, seed: int, epoch: int, shuffle: bool, buffer: int,
                 reader: int, readers: int) -> IntArray:
    """Everything above: the global sample ids ``reader`` yields in ``epoch``, in order."""
    order = unit_order(len(counts), seed=seed, epoch=epoch, shuffle=shuffle)
    part = reader_part(counts, order, reader, readers)
    if not shuffle:
        return part
    return shuffle_buffer(part, buffer, seed=seed, epoch=epoch, reader=reader)


def worker_skips(consumed: int, lengths: Sequence[int], batch_size: int) -> list[int]:
    """How many samples each DataLoader worker had yielded when the training loop had received
    ``consumed`` samples of this rank.

    A DataLoader over an iterable dataset takes whole batches of ``batch_size`` from its workers
    in turn (worker 0, 1, ..., skipping workers that are done); ``lengths`` are the workers'
    sample counts for the epoch. ``consumed`` must fall on a batch boundary of that sequence.
    """
    done = [0] * len(lengths)
    left = consumed
    while left > 0:
        progressed = False
        for w, length in enumerate(lengths):
            if left <= 0:
                break
            take = min(batch_size, length - done[w])
            if take <= 0:
                continue
            if take > left:
                raise ValueError(f"{consumed} samples is not a whole number of batches of {batch_size}")
            done[w] += take
            left -= take
            progressed = True
        if not progressed:
            raise ValueError(f"{consumed} samples is more than the epoch holds ({sum(lengths)})")
    return done
