"""Tags and aliases. A version keeps every tag it is given; an alias names one version and moves."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from labvault.catalog import queries
from labvault.catalog.refs import kinds, resolve
from labvault.catalog.schema import aliases, tags, versions
from labvault.catalog.store import Catalog, now
from labvault.catalog.types import Entry
from labvault.catalog.upsert import upsert
from labvault.errors import CatalogError


def _check(names: Iterable[str]) -> list[str]:
    out = [n.strip() for n in names]
    for n in out:
        if not n or "@" in n or any(c.isspace() for c in n):
            raise CatalogError(f"bad label {n!r}", "a tag or alias is one word without '@'")
    return out


def tag(cat: Catalog, kind: str, ref: str, names: Iterable[str]) -> Entry:
    labels = _check(names)

    def run(conn: sa.Connection) -> int:
        vid = resolve(conn, kinds(kind)[1], ref)
        from labvault.catalog.record import add_tags

        add_tags(conn, vid, labels)
        return vid

    return queries.entry(cat, cat.write(run))


def untag(cat: Catalog, kind: str, ref: str, names: Iterable[str]) -> Entry:
    labels = _check(names)

    def run(conn: sa.Connection) -> int:
        vid = resolve(conn, kinds(kind)[1], ref)
        conn.execute(sa.delete(tags).where(tags.c.version_id == vid, tags.c.tag.in_(labels)))
        return vid

    return queries.entry(cat, cat.write(run))


def alias(cat: Catalog, kind: str, ref: str, name: str) -> Entry:
    """Point alias ``name`` of the entity at version ``ref`` (moving it from any other version)."""
    (label,) = _check([name])

    def run(conn: sa.Connection) -> int:
        vid = resolve(conn, kinds(kind)[1], ref)
        eid = conn.execute(sa.select(versions.c.entity_id).where(versions.c.id == vid)).scalar_one()
        clash = conn.execute(sa.select(versions.c.id).where(
            versions.c.entity_id == eid, versions.c.version == label)).first()
        if clash is not None:
            raise CatalogError(f"{label!r} is already a version of {ref.split('@')[0]!r}",
                               "an alias must differ from every version name")
        upsert(conn, aliases, {"entity_id": eid, "alias": label, "version_id": vid, "updated_at": now()},
               ("entity_id", "alias"), ("version_id", "updated_at"))
        return vid

    return queries.entry(cat, cat.write(run))


def unalias(cat: Catalog, kind: str, name: str, label: str) -> None:
    def run(conn: sa.Connection) -> None:
        vid = resolve(conn, kinds(kind)[1], f"{name}@{label}")
        conn.execute(sa.delete(aliases).where(aliases.c.version_id == vid, aliases.c.alias == label))

    cat.write(run)
