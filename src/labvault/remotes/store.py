"""A remote holding objects in DVC's layout: ``files/md5/XX/YYYY...`` (3.x), ``XX/YYYY...`` (2.x)."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from labvault.remotes.base import Backend

Ref = tuple[str, bool]
PER_OBJECT_MAX = 32
LIST_PAGE = 1000


def key_of(oid: str, legacy: bool = False) -> str:
    return f"{oid[:2]}/{oid[2:]}" if legacy else f"files/md5/{oid[:2]}/{oid[2:]}"


def ref_of(key: str) -> Ref | None:
    parts = key.split("/")
    if len(parts) == 4 and parts[0] == "files" and parts[1] == "md5" and len(parts[2]) == 2:
        return parts[2] + parts[3], False
    if len(parts) == 2 and len(parts[0]) == 2:
        return parts[0] + parts[1], True
    return None


class RemoteStore:
    def __init__(self, name: str, backend: Backend, jobs: int) -> None:
        self.name = name
        self.backend = backend
        self.jobs = max(1, jobs)
        self.requests = 0

    def existing(self, refs: Iterable[Ref]) -> set[Ref]:
        """Which of ``refs`` the remote holds, by listing or by asking per object, whichever
        costs fewer requests (the remote's size is estimated from one fan-out folder)."""
        refs = list(dict.fromkeys(refs))
        if not refs:
            return set()
        if len(refs) > PER_OBJECT_MAX:
            sample = list(self.backend.walk("files/md5/00"))
            self.requests += 1
            estimated = max(1, len(sample)) * 256
            if estimated / LIST_PAGE < len(refs):
                return self._by_listing(refs)
        return self._by_asking(refs)

    def _by_listing(self, refs: list[Ref]) -> set[Ref]:
        wanted = set(refs)
        found: set[Ref] = set()
        prefixes = ["files/md5"] if any(not legacy for _, legacy in refs) else []
        if any(legacy for _, legacy in refs):
            prefixes += sorted({oid[:2] for oid, legacy in refs if legacy})
        for prefix in prefixes:
            count = 0
            for key, _size in self.backend.walk(prefix):
                count += 1
                ref = ref_of(key)
                if ref is not None and ref in wanted:
                    found.add(ref)
            self.requests += 1 + count // LIST_PAGE
        return found

    def _by_asking(self, refs: list[Ref]) -> set[Ref]:
        def ask(ref: Ref) -> bool:
            return self.backend.exists(key_of(*ref))

        self.requests += len(refs)
        if len(refs) == 1:
            return {refs[0]} if ask(refs[0]) else set()
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            return {r for r, ok in zip(refs, pool.map(ask, refs), strict=True) if ok}
