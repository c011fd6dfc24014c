"""Exporting the catalog as JSON (every field) or CSV (one row per version, metrics as columns)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from typing import Any

import sqlalchemy as sa

from labvault.catalog.queries import load_entries
from labvault.catalog.refs import kinds
from labvault.catalog.schema import versions
from labvault.catalog.store import Catalog
from labvault.catalog.types import Entry
from labvault.errors import CatalogError

FORMAT_VERSION = 1
CSV_COLUMNS = ("kind", "name", "version", "content_hash", "path", "size", "nfiles", "nsamples", "architecture",
               "framework", "status", "stage", "git_rev", "started", "ended", "created", "tags", "aliases",
               "locations", "inputs", "description")


def _entries(cat: Catalog, kind_words: list[str]) -> list[Entry]:
    vkinds = [kinds(k)[1] for k in kind_words] or ["dataset", "model", "run"]
    with cat.read() as conn:
        ids = [int(i) for i in conn.execute(
            sa.select(versions.c.id).where(versions.c.kind.in_(vkinds)).order_by(versions.c.id)).scalars()]
        return load_entries(conn, ids)


def export(cat: Catalog, fmt: str = "json", kind_words: list[str] | None = None) -> str:
    """The catalog (or the versions of some kinds) as JSON or CSV text."""
    if fmt not in ("json", "csv"):
        raise CatalogError(f"unknown export format {fmt!r}", "use json or csv")
    entries = _entries(cat, kind_words or [])
    if fmt == "json":
        doc: dict[str, Any] = {"format": "labvault-catalog", "format_version": FORMAT_VERSION,
                               "entries": [asdict(e) for e in entries]}
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    metric_keys = sorted({k for e in entries for k in e.metrics})
    param_keys = sorted({k for e in entries for k in e.params})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CSV_COLUMNS, *(f"metrics.{k}" for k in metric_keys), *(f"params.{k}" for k in param_keys)])
    for e in entries:
        base: dict[str, Any] = {
            **asdict(e), "tags": " ".join(e.tags), "aliases": " ".join(e.aliases),
            "locations": " ".join(f"{loc.remote}={loc.url}" for loc in e.locations), "inputs": " ".join(e.inputs),
        }
        writer.writerow([
            *("" if base[c] is None else base[c] for c in CSV_COLUMNS),
            *(e.metrics.get(k, "") for k in metric_keys),
            *("" if k not in e.params else (e.params[k] if isinstance(e.params[k], str) else json.dumps(e.params[k]))
              for k in param_keys),
        ])
    return out.getvalue()
