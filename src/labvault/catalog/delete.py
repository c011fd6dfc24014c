"""Deleting versions or whole entities: ``plan`` says what goes, ``execute`` removes it.

``NAME@VERSION`` deletes one version; ``NAME`` deletes the entity with every version. Lineage
edges touching a deleted version go with it; the plan names the versions made from it.
"""

from __future__ import annotations

import sqlalchemy as sa

from labvault.catalog.refs import entity_id, entity_kind_of, kinds, parse_ref, resolve
from labvault.catalog.schema import aliases, edges, entities, metrics, params, tags, versions
from labvault.catalog.store import Catalog
from labvault.catalog.types import DeletePlan
from labvault.errors import UnknownNameError


def _plan(conn: sa.Connection, kind: str, ref: str) -> DeletePlan:
    vkind = kinds(kind)[1]
    ekind = entity_kind_of(vkind)
    name, version = parse_ref(ref)
    entity_ids: tuple[int, ...] = ()
    if version is None:
        eid = entity_id(conn, ekind, name)
        if eid is None:
            raise UnknownNameError(f"unknown {ekind} {name!r}", f"list them with `labvault catalog {ekind}s`")
        entity_ids = (eid,)
        ids = tuple(int(i) for i in conn.execute(
            sa.select(versions.c.id).where(versions.c.entity_id == eid).order_by(versions.c.seq)).scalars())
    else:
        ids = (resolve(conn, vkind, ref),)
    refs = tuple(f"{name}@{v}" for v in conn.execute(
        sa.select(versions.c.version).where(versions.c.id.in_(ids)).order_by(versions.c.seq)).scalars()) if ids else ()
    touching = sa.or_(edges.c.src_id.in_(ids), edges.c.dst_id.in_(ids))
    n_edges = int(conn.execute(sa.select(sa.func.count()).select_from(edges).where(touching)).scalar_one())
    made = sa.alias(entities, "made_entity")
    dependents = tuple(f"{k}:{n}@{v}" for k, n, v in conn.execute(
        sa.select(versions.c.kind, made.c.name, versions.c.version)
        .join(edges, edges.c.dst_id == versions.c.id).join(made, made.c.id == versions.c.entity_id)
        .where(edges.c.src_id.in_(ids), versions.c.id.not_in(ids)).order_by(made.c.name, versions.c.seq)
    ))
    return DeletePlan(kind=vkind if version is not None else ekind, refs=refs, version_ids=ids,
                      entity_ids=entity_ids, edges=n_edges, dependents=dependents)


def plan(cat: Catalog, kind: str, ref: str) -> DeletePlan:
    with cat.read() as conn:
        return _plan(conn, kind, ref)


def execute(cat: Catalog, planned: DeletePlan) -> DeletePlan:
    """Delete what ``planned`` lists, in one transaction."""
    ids = list(planned.version_ids)

    def run(conn: sa.Connection) -> None:
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            conn.execute(sa.delete(edges).where(sa.or_(edges.c.src_id.in_(chunk), edges.c.dst_id.in_(chunk))))
            for table in (metrics, params, tags, aliases):
                conn.execute(sa.delete(table).where(table.c.version_id.in_(chunk)))
            conn.execute(sa.delete(versions).where(versions.c.id.in_(chunk)))
        if planned.entity_ids:
            conn.execute(sa.delete(aliases).where(aliases.c.entity_id.in_(planned.entity_ids)))
            conn.execute(sa.delete(entities).where(entities.c.id.in_(planned.entity_ids)))

    cat.write(run)
    return planned
