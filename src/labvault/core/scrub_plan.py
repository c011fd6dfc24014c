"""Which objects a scrubbing run reads: a slice ``N/T`` or a budget, never a random pick.

* ``--slice N/T``: the items whose key hashes (first 32 bits of the md5 of the key's UTF-8
  bytes) to ``N-1`` modulo ``T``. The T slices are disjoint and cover every item, so T runs
  (1/T .. T/T, e.g. the day of the year modulo T, plus one) read everything once.
* ``--budget 500GB`` / ``--budget 2h``: the items verified least recently (never verified first,
  then the oldest, ties by key) until the bytes, or the seconds, are spent; at least one item per
  run. Each run starts where the last one stopped, so runs repeat the rotation with no state other
  than the per-item verification times in the catalog.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from labvault.errors import UsageError

T = TypeVar("T")

_SIZE_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3,
               "t": 1000**4, "tb": 1000**4, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}
_TIME_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Budget:
    """At most ``bytes`` read, or reading stops once ``seconds`` have passed (one of them)."""

    bytes: int | None = None
    seconds: float | None = None


def parse_slice(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
        raise UsageError(f"invalid slice {text!r}", "give N/T with 1 <= N <= T, e.g. --slice 3/7")
    return int(m.group(1)), int(m.group(2))


def parse_budget(text: str) -> Budget:
    """``500GB``, ``2GiB``, ``1000000`` (bytes) or ``90s``, ``30m``, ``2h``, ``1d`` (seconds)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", text)
    if m:
        number, unit = float(m.group(1)), m.group(2).lower()
        if unit in _TIME_UNITS and number > 0:
            return Budget(seconds=number * _TIME_UNITS[unit])
        if unit in _SIZE_UNITS and number >= 1:
            return Budget(bytes=int(number * _SIZE_UNITS[unit]))
    raise UsageError(f"invalid budget {text!r}", "give bytes (500GB, 2GiB) or a time (90s, 30m, 2h)")


def slot(key: str, total: int) -> int:
    """The 0-based slice of ``key`` among ``total``."""
    return int(hashlib.md5(key.encode("utf-8", "surrogateescape"), usedforsecurity=False).hexdigest()[:8], 16) % total


def in_slice(keys: Sequence[str], n: int, total: int) -> list[str]:
    return [k for k in keys if slot(k, total) == n - 1]


def by_age(keys: Sequence[str], verified: Mapping[str, datetime]) -> list[str]:
    """``keys`` in scrubbing order: never verified first (by key), then the oldest verification."""
    never = sorted(k for k in keys if k not in verified)
    seen = sorted((k for k in keys if k in verified), key=lambda k: (verified[k], k))
    return never + seen


def within_bytes(ordered: Sequence[str], sizes: Mapping[str, int], limit: int) -> list[str]:
    """The longest prefix of ``ordered`` whose sizes add up to at most ``limit`` (one item at least)."""
    out: list[str] = []
    spent = 0
    for k in ordered:
        size = sizes.get(k, 0)
        if out and spent + size > limit:
            break
        out.append(k)
        spent += size
    return out
