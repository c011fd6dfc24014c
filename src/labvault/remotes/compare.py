"""Which objects the cache and a remote each hold, and at what size: what ``push`` must send and
what ``status --cloud`` reports.

Both sides are looked at every time (see ``store.py`` for what asking a remote costs; the cache
costs one ``stat`` per object). An object is in sync only when the remote holds it *with the
cache's size*: a remote copy of another size was overwritten or damaged, and is sent again. A copy
of the right size but other bytes is not seen here (that needs the content: ``verify`` of a remote
is a separate, reading job).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass

from labvault.core.odb import ObjectStore
from labvault.remotes.store import RemoteStore

Ref = tuple[str, bool]


def local_sizes(odb: ObjectStore, refs: Iterable[Ref]) -> dict[Ref, int]:
    """The refs the cache holds, with the size of each object."""
    out: dict[Ref, int] = {}
    for ref in refs:
        try:
            st = os.stat(odb.oid_path(*ref))
        except (FileNotFoundError, NotADirectoryError):
            continue
        if stat.S_ISREG(st.st_mode):
            out[ref] = st.st_size
    return out


@dataclass(frozen=True)
class Comparison:
    refs: frozenset[Ref]
    local: dict[Ref, int]  # in the cache, with sizes
    remote: dict[Ref, int]  # on the remote, with the sizes stored there

    @property
    def to_send(self) -> list[Ref]:
        """In the cache, and absent from the remote or there with another size (sorted)."""
        return sorted(r for r, size in self.local.items() if self.remote.get(r) != size)

    @property
    def wrong_size(self) -> list[Ref]:
        """On both sides, with different sizes: the remote's copy is not the object (sorted)."""
        return sorted(r for r, size in self.local.items() if r in self.remote and self.remote[r] != size)

    @property
    def only_remote(self) -> list[Ref]:
        return sorted(r for r in self.remote if r not in self.local)

    def nowhere(self, optional: set[Ref]) -> list[Ref]:
        """Neither side holds them (``optional`` refs excepted)."""
        return sorted(r for r in self.refs if r not in self.local and r not in self.remote and r not in optional)


def compare(odb: ObjectStore, remote: RemoteStore, refs: Iterable[Ref]) -> Comparison:
    refs = frozenset(refs)
    return Comparison(refs, local_sizes(odb, refs), remote.sizes(refs))


@dataclass(frozen=True)
class CloudDiff:
    to_push: list[str]  # only in the cache, or on the remote with the wrong size
    to_pull: list[str]  # only on the remote
    lost: list[str]  # in neither
    wrong_size: list[str]  # on the remote with another size than the cache's (also in to_push)


def cloud_status(odb: ObjectStore, remote: RemoteStore, refs: set[Ref], optional: set[Ref] | None = None) -> CloudDiff:
    c = compare(odb, remote, refs)
    return CloudDiff(
        to_push=[r[0] for r in c.to_send],
        to_pull=[r[0] for r in c.only_remote],
        lost=[r[0] for r in c.nowhere(optional or set())],
        wrong_size=[r[0] for r in c.wrong_size],
    )
