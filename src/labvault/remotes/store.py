"""A remote holding objects in DVC's layout: ``files/md5/XX/YYYY...`` (3.x), ``XX/YYYY...`` (2.x).

What a remote holds is asked of the remote each time, never remembered: anyone may delete or replace
an object at any moment (another clone's ``gc -c``, a lifecycle rule, a person). ``sizes`` answers
with the size of every object found, so that a copy of the wrong size is seen too. How it asks:

* a folder: one ``stat`` per object (a system call, not a request; in parallel on ``jobs`` threads);
* an HTTP server, which cannot list: one ``HEAD`` per object, in parallel on ``jobs`` threads;
* object storage: per fan-out prefix (``files/md5/XX``) whichever costs fewer requests, a listing
  (one request per 1000 objects under the prefix) or one HEAD per object; or one listing of the
  whole ``files/md5/`` when that is cheaper still. The number of objects per prefix is estimated
  from the listing of the prefix holding the most of the objects asked about (whose answer is
  used, not thrown away). Up to 32 objects are simply asked about one by one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from labvault.remotes.base import Backend

Ref = tuple[str, bool]
PER_OBJECT_MAX = 32
LIST_PAGE = 1000
FANOUT = 256
_BATCH = 256  # objects asked about per task given to a worker thread


def key_of(oid: str, legacy: bool = False) -> str:
    return f"{oid[:2]}/{oid[2:]}" if legacy else f"files/md5/{oid[:2]}/{oid[2:]}"


def prefix_of(ref: Ref) -> str:
    """The fan-out folder an object lives in: ``files/md5/XX`` (or ``XX`` for 2.x objects)."""
    oid, legacy = ref
    return oid[:2] if legacy else f"files/md5/{oid[:2]}"


def ref_of(key: str) -> Ref | None:
    parts = key.split("/")
    if len(parts) == 4 and parts[0] == "files" and parts[1] == "md5" and len(parts[2]) == 2:
        return parts[2] + parts[3], False
    if len(parts) == 2 and len(parts[0]) == 2:
        return parts[0] + parts[1], True
    return None


def _pages(count: int) -> int:
    return max(1, -(-count // LIST_PAGE))


class RemoteStore:
    def __init__(self, name: str, backend: Backend, jobs: int) -> None:
        self.name = name
        self.backend = backend
        self.jobs = max(1, jobs)
        self.requests = 0
        self._count = threading.Lock()

    def _spent(self, n: int) -> None:
        with self._count:
            self.requests += n

    def sizes(self, refs: Iterable[Ref]) -> dict[Ref, int]:
        """The refs the remote holds, each with the size of the object stored under its name."""
        refs = list(dict.fromkeys(refs))
        if not refs:
            return {}
        if self.backend.cheap_lookups or not self.backend.listable or len(refs) <= PER_OBJECT_MAX:
            return self._ask(refs)
        by_prefix: dict[str, list[Ref]] = {}
        for ref in refs:
            by_prefix.setdefault(prefix_of(ref), []).append(ref)
        found: dict[Ref, int] = {}
        # Objects per prefix, per layout: estimated from the listing of the prefix most asked about.
        per_prefix: dict[bool, int] = {}
        for legacy in sorted({legacy for _, legacy in refs}):
            sample = max((p for p, g in by_prefix.items() if g[0][1] == legacy), key=lambda p: len(by_prefix[p]))
            listed, per_prefix[legacy] = self._list(sample, by_prefix.pop(sample))
            found.update(listed)
        to_list = [p for p, g in by_prefix.items() if _pages(per_prefix[g[0][1]]) < len(g)]
        to_ask = [r for p, g in by_prefix.items() if p not in to_list for r in g]
        if False in per_prefix:
            by_prefixes = sum(_pages(per_prefix[False]) for p in to_list if p.startswith("files/"))
            by_prefixes += sum(1 for r in to_ask if not r[1])
            if _pages(per_prefix[False] * FANOUT) < by_prefixes:
                wanted = [r for g in by_prefix.values() for r in g if not r[1]]
                found.update(self._list("files/md5", wanted)[0])
                to_list = [p for p in to_list if not p.startswith("files/")]
                to_ask = [r for r in to_ask if r[1]]
        tasks: list[Callable[[], dict[Ref, int]]] = [partial(self._found, p, by_prefix[p]) for p in to_list]
        tasks += [partial(self._ask_serially, to_ask[i : i + _BATCH]) for i in range(0, len(to_ask), _BATCH)]
        for part in self._parallel(tasks):
            found.update(part)
        return found

    def _found(self, prefix: str, refs: list[Ref]) -> dict[Ref, int]:
        return self._list(prefix, refs)[0]

    def _list(self, prefix: str, refs: list[Ref]) -> tuple[dict[Ref, int], int]:
        """(the ``refs`` found under ``prefix`` with their sizes, objects listed)."""
        wanted = set(refs)
        found: dict[Ref, int] = {}
        count = 0
        for key, size in self.backend.walk(prefix):
            count += 1
            ref = ref_of(key)
            if ref is not None and ref in wanted:
                found[ref] = size
        self._spent(_pages(count))
        return found, count

    def _ask_serially(self, refs: list[Ref]) -> dict[Ref, int]:
        found: dict[Ref, int] = {}
        for ref in refs:
            try:
                found[ref] = self.backend.size(key_of(*ref))
            except FileNotFoundError:
                pass
        self._spent(len(refs))
        return found

    def _ask(self, refs: list[Ref]) -> dict[Ref, int]:
        if len(refs) <= 1 or self.jobs == 1:
            return self._ask_serially(refs)
        size = max(1, min(_BATCH, -(-len(refs) // (self.jobs * 4))))
        tasks: list[Callable[[], dict[Ref, int]]] = [
            partial(self._ask_serially, refs[i : i + size]) for i in range(0, len(refs), size)
        ]
        found: dict[Ref, int] = {}
        for part in self._parallel(tasks):
            found.update(part)
        return found

    def _parallel(self, tasks: list[Callable[[], dict[Ref, int]]]) -> list[dict[Ref, int]]:
        if len(tasks) <= 1:
            return [t() for t in tasks]
        with ThreadPoolExecutor(max_workers=min(self.jobs, len(tasks))) as pool:
            return list(pool.map(lambda t: t(), tasks))
