"""Names for versions: ``NAME``, ``NAME@VERSION``, ``NAME@ALIAS``, and finding the row they mean."""

from __future__ import annotations

import sqlalchemy as sa

from labvault.catalog.schema import aliases, entities, versions
from labvault.errors import CatalogError, UnknownNameError

# What a user types -> (entity kind, version kind). An experiment's versions are its runs.
KIND_WORDS = {
    "dataset": ("dataset", "dataset"),
    "datasets": ("dataset", "dataset"),
    "model": ("model", "model"),
    "models": ("model", "model"),
    "run": ("experiment", "run"),
    "runs": ("experiment", "run"),
    "experiment": ("experiment", "run"),
    "experiments": ("experiment", "run"),
}


def kinds(word: str) -> tuple[str, str]:
    """``"models"`` -> ``("model", "model")``; ``"run"`` -> ``("experiment", "run")``."""
    try:
        return KIND_WORDS[word.lower()]
    except KeyError:
        raise CatalogError(
            f"unknown catalog kind {word!r}", "use dataset, model, experiment or run"
        ) from None


def entity_kind_of(version_kind: str) -> str:
    return "experiment" if version_kind == "run" else version_kind


def parse_ref(ref: str) -> tuple[str, str | None]:
    """``"sentiment@v1.0"`` -> ``("sentiment", "v1.0")``; ``"sentiment"`` -> ``("sentiment", None)``."""
    text = ref.strip()
    name, sep, version = text.rpartition("@")
    if not sep:
        name, version = text, ""
    if not name or (sep and not version):
        raise CatalogError(f"bad reference {ref!r}", "write NAME, NAME@VERSION or NAME@ALIAS")
    return name, (version or None)


def entity_id(conn: sa.Connection, entity_kind: str, name: str) -> int | None:
    row = conn.execute(
        sa.select(entities.c.id).where(entities.c.kind == entity_kind, entities.c.name == name)
    ).first()
    return int(row[0]) if row else None


def resolve(conn: sa.Connection, version_kind: str, ref: str) -> int:
    """The id of the version ``ref`` names; a CatalogError saying what exists when there is none."""
    name, version = parse_ref(ref)
    ekind = entity_kind_of(version_kind)
    eid = entity_id(conn, ekind, name)
    if eid is None:
        plural = "runs" if version_kind == "run" else f"{ekind}s"
        raise UnknownNameError(f"unknown {ekind} {name!r}", f"list them with `labvault catalog {plural}`")
    if version is None:
        row = conn.execute(
            sa.select(versions.c.id).where(versions.c.entity_id == eid).order_by(versions.c.seq.desc()).limit(1)
        ).first()
        if row is None:
            raise UnknownNameError(f"{ekind} {name!r} has no versions yet")
        return int(row[0])
    row = conn.execute(
        sa.select(versions.c.id).where(versions.c.entity_id == eid, versions.c.version == version)
    ).first()
    if row is None:
        row = conn.execute(
            sa.select(aliases.c.version_id).where(aliases.c.entity_id == eid, aliases.c.alias == version)
        ).first()
    if row is None:
        known = conn.execute(
            sa.select(versions.c.version).where(versions.c.entity_id == eid).order_by(versions.c.seq.desc()).limit(8)
        ).scalars().all()
        raise UnknownNameError(
            f"{ekind} {name!r} has no version or alias {version!r}",
            f"latest versions: {', '.join(known) or 'none'}",
        )
    return int(row[0])
