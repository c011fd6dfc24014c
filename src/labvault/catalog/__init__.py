"""The catalog: what data and models exist, which version, where, made from what, how good.

Glossary:
    entity     a named thing: a dataset, a model or an experiment (``kind`` + ``name``, unique)
    version    one state of an entity (``name@version``); the versions of an experiment are its runs
    ref        ``NAME``, ``NAME@VERSION`` or ``NAME@ALIAS`` (no ``@``: the latest version)
    tag        a label on a version; a version keeps every tag it was given
    alias      a label that names exactly one version of an entity (``production``); it moves
    edge       lineage: ``src -> dst`` means dst was made from src (data -> run -> model)
    location   a remote (name, url, later a storage tier) that holds a content hash
    filter     the search language: ``metrics.accuracy > 0.9 and tag = production``

The database is SQLite (one file, the default) or PostgreSQL (shared by a lab); the schema is
created and upgraded by the Alembic migrations in ``labvault.catalog.migrations``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from labvault.catalog.store import Catalog, default_url, open_catalog
    from labvault.catalog.types import (
        DeletePlan,
        Entry,
        ExperimentInfo,
        Lineage,
        LineageEdge,
        LineageNode,
        Location,
        NewVersion,
    )

# Loaded on first use: the journal and event modules, which every capturing command uses, must
# not pull in SQLAlchemy through this package.
_FROM = {"Catalog": "store", "default_url": "store", "open_catalog": "store"}


def __getattr__(name: str) -> Any:
    if name in _FROM or name in __all__:
        import importlib

        return getattr(importlib.import_module(f"labvault.catalog.{_FROM.get(name, 'types')}"), name)
    raise AttributeError(name)


__all__ = [
    "Catalog",
    "DeletePlan",
    "Entry",
    "ExperimentInfo",
    "Lineage",
    "LineageEdge",
    "LineageNode",
    "Location",
    "NewVersion",
    "default_url",
    "open_catalog",
]
