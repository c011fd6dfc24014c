"""``StreamingDataset``: iterate a tracked folder or a shard folder straight from a remote.

Each reader (a DataLoader worker of a rank; the process itself without DataLoader workers)
computes its samples for the epoch (``loaders/stream_plan.py``), then reads the units holding
them in that order through a bounded local cache (``loaders/stream_cache.py``), with up to
``readahead`` downloads in flight (one at the start, one more per unit read, so the first
unit arrives at full bandwidth) on threads that belong to the iterator: they are shut down
(waited for, queued downloads cancelled) when the iteration ends, is closed, or fails. Samples
are ``(key, bytes)``: the relpath of a file of a tracked folder, or a shard record's key; a
``transform`` is applied to each.

``state_dict()`` / ``load_state_dict()`` resume mid-epoch: the order of an epoch is a pure
function of the seed, the epoch and the reader layout, so a resumed iteration recomputes it,
skips the samples already consumed without reading them, and yields exactly the rest.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from labvault.errors import LoaderError, UsageError
from labvault.loaders.optional import register_iterable_dataset, worker_info
from labvault.loaders.shards import read_records
from labvault.loaders.stream_cache import ShardCache
from labvault.loaders.stream_plan import offsets_of, part_bounds, reader_order, worker_skips
from labvault.loaders.stream_source import Source, Unit, resolve_source

Sample = tuple[str, bytes]
DEFAULT_CACHE_BYTES = 2 << 30


class StreamingDataset:
    """Samples of ``source`` (``NAME@VERSION`` of a repo, or a shard folder URL), streamed."""

    def __init__(
        self,
        source: str,
        *,
        repo: str | os.PathLike[str] | None = None,
        remote: str | None = None,
        remote_options: Mapping[str, str] | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
        readahead: int = 4,
        shuffle: bool = True,
        shuffle_buffer: int = 1000,
        seed: int = 0,
        rank: int | None = None,
        world_size: int | None = None,
        transform: Callable[[Sample], Any] | None = None,
    ) -> None:
        if readahead < 1 or cache_bytes < 1 or shuffle_buffer < 0:
            raise UsageError("readahead and cache_bytes must be positive, shuffle_buffer not negative")
        if (rank is None) != (world_size is None):
            raise UsageError("pass both rank and world_size, or neither")
        if world_size is not None and (world_size < 1 or not 0 <= (rank or 0) < world_size):
            raise UsageError(f"rank {rank} is not in [0, world_size={world_size})")
        self.source: Source = resolve_source(source, repo=repo, remote=remote, options=remote_options)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else Path(tempfile.gettempdir()) / "labvault-stream"
        self.cache_bytes = cache_bytes
        self.readahead = readahead
        self.shuffle = shuffle
        self.shuffle_buffer = shuffle_buffer
        self.seed = seed
        self._rank, self._world = rank, world_size
        self.transform = transform
        self.epoch = 0
        self._resume: tuple[int, int] | None = None  # (samples of this rank consumed, batch size)
        self._yielded = 0
        self._cache: ShardCache | None = None
        counts = [u.samples for u in self.source.units]
        self._counts = counts
        self._offsets = offsets_of(counts)
        big = max(self.source.units, key=lambda u: u.size, default=None)
        if big is not None and big.size > cache_bytes:
            raise LoaderError(f"{big.name} of {self.source.describe} is {big.size} bytes, more than cache_bytes={cache_bytes}",
                              "raise cache_bytes, or write smaller shards (convert --shard-size)")
        register_iterable_dataset(type(self))

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_cache"] = None
        return state

    @property
    def num_samples(self) -> int:
        return int(self._offsets[-1])

    def ranks(self) -> tuple[int, int]:
        """``(rank, world_size)``: as given, else torch.distributed's when initialised, else (0, 1)."""
        if self._rank is not None and self._world is not None:
            return self._rank, self._world
        dist = sys.modules.get("torch.distributed")
        if dist is not None and dist.is_available() and dist.is_initialized():
            return int(dist.get_rank()), int(dist.get_world_size())
        return 0, 1

    def set_epoch(self, epoch: int) -> None:
        """Use the order of ``epoch`` from the next iteration on (and forget a pending resume)."""
        self.epoch = epoch
        self._resume = None
        self._yielded = 0

    def state_dict(self, consumed: int | None = None) -> dict[str, Any]:
        """Where this rank is in the epoch. ``consumed`` is the number of samples the training loop
        received from a DataLoader (whose workers the dataset object in the main process does not
        see); without it, the samples this object yielded itself."""
        return {"version": 1, "epoch": self.epoch, "seed": self.seed,
                "consumed": self._yielded if consumed is None else consumed}

    def load_state_dict(self, state: Mapping[str, Any], batch_size: int = 1) -> None:
        """Resume at ``state``: the next iteration yields the rest of its epoch. ``batch_size`` is
        the DataLoader's (how the consumed samples were spread over its workers)."""
        if state.get("version") != 1 or state.get("seed") != self.seed:
            raise UsageError("this state is not from a StreamingDataset with the same seed")
        self.epoch = int(state["epoch"])
        self._resume = (int(state["consumed"]), batch_size)
        self._yielded = int(state["consumed"])

    def _my_order(self) -> npt.NDArray[np.int64]:
        worker, workers = worker_info()
        rank, world = self.ranks()
        readers = workers * world
        first = rank * workers
        order = reader_order(self._counts, seed=self.seed, epoch=self.epoch, shuffle=self.shuffle,
                             buffer=self.shuffle_buffer, reader=first + worker, readers=readers)
        if self._resume is not None:
            consumed, batch = self._resume
            lengths = [(lambda b: b[1] - b[0])(part_bounds(self.num_samples, first + w, readers))
                       for w in range(workers)]
            try:
                skip = worker_skips(consumed, lengths, batch)[worker] if workers > 1 else consumed
            except ValueError as exc:
                raise UsageError(f"cannot resume: {exc}") from None
            order = order[skip:]
        return order

    def _open_cache(self) -> ShardCache:
        if self._cache is None or not self._cache.dir.name.startswith(f"{os.getpid()}-"):
            _, workers = worker_info()
            self._cache = ShardCache(self.cache_dir, max(1, self.cache_bytes // workers))
        return self._cache

    def __iter__(self) -> Iterator[Any]:
        order = self._my_order()
        resumed = self._resume is not None
        self._resume = None
        if not resumed:
            self._yielded = 0
        for sample in self._samples(order):
            self._yielded += 1
            yield self.transform(sample) if self.transform is not None else sample

    def __len__(self) -> int:
        """Samples of this reader in an epoch (all of them with one reader)."""
        worker, workers = worker_info()
        rank, world = self.ranks()
        lo, hi = part_bounds(self.num_samples, rank * workers + worker, workers * world)
        return hi - lo

    def _samples(self, order: npt.NDArray[np.int64]) -> Iterator[Sample]:
        if len(order) == 0:
            return
        units = np.searchsorted(self._offsets, order, side="right") - 1
        needed: list[int] = list(dict.fromkeys(units.tolist()))  # in first-use order
        wanted = set(order.tolist())
        held: dict[int, Sample] = {}
        cache = self._open_cache()
        backend = self.source.open_backend() if any(u.local is None for u in self.source.units) else None
        pool = ThreadPoolExecutor(max_workers=self.readahead, thread_name_prefix="labvault-stream")
        inflight: deque[tuple[int, Future[str]]] = deque()
        nxt = loaded = 0
        try:
            def fill() -> None:
                # one download at first, one more for each unit loaded, up to `readahead`: the
                # first unit does not share the bandwidth with the read-ahead behind it
                nonlocal nxt
                while nxt < len(needed) and len(inflight) < min(self.readahead, 1 + loaded):
                    u = needed[nxt]
                    unit = self.source.units[u]
                    if unit.local is not None:
                        fut: Future[str] = Future()
                        fut.set_result(unit.local)
                    else:
                        assert backend is not None
                        if not cache.try_reserve(unit.md5, unit.size, self._where(unit)):
                            return
                        fut = pool.submit(cache.fetch, backend, unit.key, unit.md5, unit.size, self._where(unit))
                    inflight.append((u, fut))
                    nxt += 1

            for g in order.tolist():
                while g not in held:
                    fill()
                    if not inflight:
                        raise LoaderError(f"no room in the stream cache for {self.source.describe}",
                                          "raise cache_bytes")
                    u, fut = inflight.popleft()
                    unit = self.source.units[u]
                    path = fut.result()
                    try:
                        self._load(u, path, wanted, held)
                    finally:
                        if unit.local is None:
                            cache.release(unit.md5)
                    loaded += 1
                    fill()
                yield held.pop(g)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            for u, _ in inflight:
                if self.source.units[u].local is None:
                    cache.release(self.source.units[u].md5)
            if backend is not None:
                backend.close()

    def _where(self, unit: Unit) -> str:
        return f"{unit.name} of {self.source.describe}"

    def _load(self, u: int, path: str, wanted: set[int], held: dict[int, Sample]) -> None:
        unit = self.source.units[u]
        base = int(self._offsets[u])
        if self.source.kind == "files":
            if base in wanted:
                with open(path, "rb") as f:
                    held[base] = (unit.name, f.read())
            return
        count = 0
        for i, record in enumerate(read_records(path, self._where(unit))):
            count += 1
            if base + i in wanted:
                held[base + i] = record
        if count != unit.samples:
            raise LoaderError(f"{self._where(unit)} holds {count} records, its index says {unit.samples}",
                              "re-create the shards")
