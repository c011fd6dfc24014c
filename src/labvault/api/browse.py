"""Pages of the catalog for the dashboard and its JSON API: never an unbounded list::

    from labvault import api

    page = api.browse("datasets", name_prefix="sentiment", limit=50)
    more = api.browse("datasets", name_prefix="sentiment", limit=50, after=page.next)

``next`` is an opaque cursor (URL-safe base64 of a small JSON object: ``{"c": created, "i": id}``
for versions, ``{"l": id}`` for a version's lineage refs, ``{"o": offset}`` for the short lists
paged in memory); None on the last page. A limit is capped at ``MAX_LIMIT``.

Entries come bounded (``BoundedEntry``): at most ``LINK_CAP`` refs in ``inputs`` and in
``outputs``, with ``inputs_total`` and ``outputs_total``; ``lineage_refs`` pages a side whole::

    from labvault.api.browse import browse_entry, lineage_refs

    entry = browse_entry("dataset", "sentiment@v2")  # entry.outputs_total: how many in all
    refs = lineage_refs("dataset", "sentiment@v2", "outputs", limit=100)  # refs.next: the next page
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar, cast

from labvault.api.access_control import Access, within
from labvault.api.catalog import catalog_open
from labvault.catalog import browse as _browse
from labvault.catalog import links as _links
from labvault.catalog import neighbourhood as _neighbourhood
from labvault.catalog import queries as _queries
from labvault.catalog.neighbourhood import Neighbourhood
from labvault.catalog.types import BoundedEntry, Entry
from labvault.errors import UsageError

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
LINK_CAP = _links.LINK_CAP
SIDES = _links.SIDES

__all__ = ["DEFAULT_LIMIT", "LINK_CAP", "MAX_DEPTH", "MAX_LIMIT", "MAX_NODES", "SIDES", "BoundedEntry",
           "Neighbourhood", "Page", "browse", "browse_entry", "lineage_neighbourhood", "lineage_refs", "page_of",
           "visible_to"]


@dataclass(frozen=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    next: str | None


def _encode(value: dict[str, Any]) -> str:
    raw = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, keys: set[str]) -> dict[str, Any]:
    bad = UsageError(f"invalid cursor {cursor[:40]!r}", "pass the `next` value of the previous page unchanged")
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad from None
    if not isinstance(value, dict) or set(value) != keys:
        raise bad
    return value


def capped(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if limit < 1:
        raise UsageError(f"limit must be at least 1, not {limit}", f"pass a limit from 1 to {MAX_LIMIT}")
    return min(limit, MAX_LIMIT)


def _version_key(cursor: str) -> _browse.PageKey:
    value = _decode(cursor, {"c", "i"})
    try:
        return _browse.PageKey(datetime.fromisoformat(str(value["c"])), int(value["i"]))
    except (TypeError, ValueError):
        raise UsageError("invalid cursor", "pass the `next` value of the previous page unchanged") from None


def browse(
    kind: str, *, name: str | None = None, name_prefix: str | None = None, tag: str | None = None, where: str | None = None,
    all_versions: bool = False, limit: int | None = None, after: str | None = None,
    reader: Access | None = None, catalog_url: str | None = None,
) -> Page[Entry]:
    """One page of ``kind`` (datasets, models or runs), newest first: the latest version of each
    name unless ``all_versions`` (``name``: only that name; ``name_prefix``: names starting so). With ``reader`` (``api.access_for``), versions whose path lies
    under a protected path are shown only when the reader may read it."""
    f = _browse.VersionFilter(
        kind, name, name_prefix, tag, where, latest=not all_versions,
        hidden=reader.protected if reader is not None else (),
        allowed=reader.read if reader is not None else (),
    )
    entries, key = _browse.page(catalog_open(catalog_url), f, capped(limit),
                                _version_key(after) if after else None)
    nxt = _encode({"c": key.created.isoformat(), "i": key.id}) if key is not None else None
    return Page(tuple(entries), nxt)


def browse_entry(kind: str, ref: str, *, catalog_url: str | None = None) -> BoundedEntry:
    """The version ``ref`` names (as ``api.catalog_get``), bounded as ``browse``'s entries are."""
    return cast(BoundedEntry, _queries.get(catalog_open(catalog_url), kind, ref, link_cap=LINK_CAP))


def lineage_refs(kind: str, ref: str, side: str, *, limit: int | None = None, after: str | None = None,
                 catalog_url: str | None = None) -> Page[str]:
    """One page of the ``inputs`` or ``outputs`` (``side``) of the version ``ref`` names, refs as
    an entry holds them (``KIND:NAME@VERSION``), in the order of the other version's id; the
    first ``LINK_CAP`` of them are the ones a bounded entry carries."""
    if side not in SIDES:
        raise UsageError(f"unknown lineage side {side!r}", "use inputs or outputs")
    start = _decode(after, {"l"})["l"] if after else None
    if start is not None and (not isinstance(start, int) or isinstance(start, bool)):
        raise UsageError("invalid cursor", "pass the `next` value of the previous page unchanged")
    refs, last = _links.side_page(catalog_open(catalog_url), kind, ref, side, capped(limit), start)
    return Page(tuple(refs), _encode({"l": last}) if last is not None else None)


def page_of(items: Sequence[T], limit: int | None = None, after: str | None = None) -> Page[T]:
    """A page of a list already in memory (a lab's tiers, backups, grants: short lists)."""
    offset = _decode(after, {"o"})["o"] if after else 0
    start = offset if isinstance(offset, int) else -1
    if start < 0:
        raise UsageError("invalid cursor", "pass the `next` value of the previous page unchanged")
    n = capped(limit)
    end = start + n
    return Page(tuple(items[start:end]), _encode({"o": end}) if end < len(items) else None)


MAX_DEPTH = _neighbourhood.DEPTH_MAX
MAX_NODES = _neighbourhood.NODES_MAX


def lineage_neighbourhood(
    kind: str, ref: str, *, direction: str = "both", depth: int = 2, max_nodes: int = 500,
    catalog_url: str | None = None,
) -> Neighbourhood:
    """The lineage around ``ref`` at most ``depth`` steps away (capped at ``MAX_DEPTH``) and at most
    ``max_nodes`` nodes (capped at ``MAX_NODES``), the nearest kept, with the edges between them
    (a walk one level at a time that stops at the cap: ``labvault.catalog.neighbourhood``)."""
    if depth < 1 or max_nodes < 1:
        raise UsageError("depth and max_nodes must be at least 1", f"e.g. depth=2, max_nodes={MAX_NODES // 4}")
    return _neighbourhood.neighbourhood(catalog_open(catalog_url), kind, ref, direction=direction,
                                        depth=min(depth, MAX_DEPTH), max_nodes=min(max_nodes, MAX_NODES))


def visible_to(reader: Access | None, path: str | None) -> bool:
    """The rule ``browse`` applies in SQL, for one path: hidden when under a protected path that
    ``reader`` has no grant to read."""
    if reader is None or path is None or not any(within(path, p) for p in reader.protected):
        return True
    return any(within(path, r) for r in reader.read + reader.write)
