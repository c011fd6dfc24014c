"""How the catalog commands print entries: tables for lists, a field list for one entry."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from labvault.cli.main import human_size

if TYPE_CHECKING:
    from labvault.api.catalog import CatalogEntry


def _metrics(e: CatalogEntry) -> str:
    return " ".join(f"{k}={v:g}" for k, v in e.metrics.items()) or "-"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for r in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


def print_entries(entries: Sequence[CatalogEntry]) -> None:
    if not entries:
        click.echo("Nothing found.")
        return
    kind = entries[0].kind
    if kind == "run":
        table(("EXPERIMENT", "RUN", "STAGE", "STATUS", "METRICS", "CREATED"),
               [(e.name, e.version, e.stage or "-", e.status or "-", _metrics(e), e.created) for e in entries])
    elif kind == "model":
        table(("NAME", "VERSION", "ARCHITECTURE", "METRICS", "LABELS", "CREATED"),
               [(e.name, e.version, e.architecture or "-", _metrics(e), " ".join((*e.aliases, *e.tags)) or "-",
                 e.created) for e in entries])
    else:
        table(("NAME", "VERSION", "SIZE", "FILES", "SAMPLES", "STORED", "CREATED"),
               [(e.name, e.version, human_size(e.size), str(e.nfiles if e.nfiles is not None else "-"),
                 str(e.nsamples if e.nsamples is not None else "-"),
                 ",".join(loc.remote for loc in e.locations) or "local", e.created) for e in entries])


def show_entry(e: CatalogEntry) -> None:
    click.echo(f"{e.kind} {e.ref}")
    fields: list[tuple[str, Any]] = [
        ("description", e.description), ("path", e.path), ("content hash", e.content_hash),
        ("size", human_size(e.size) if e.size is not None else None), ("files", e.nfiles),
        ("samples", e.nsamples), ("architecture", e.architecture), ("framework", e.framework),
        ("stage", e.stage), ("status", e.status), ("git revision", e.git_rev), ("started", e.started),
        ("ended", e.ended), ("created", e.created), ("tags", " ".join(e.tags)), ("aliases", " ".join(e.aliases)),
    ]
    for label, value in fields:
        if value not in (None, ""):
            click.echo(f"  {label + ':':14} {value}")
    if e.splits:
        click.echo("  splits:")
        for split, part in e.splits.items():
            click.echo(f"    {split}: {part.get('path') or '-'}  {part.get('content_hash')}  {human_size(part.get('size'))}")
    for title, mapping in (("metrics", e.metrics), ("params", e.params), ("card", e.card), ("meta", e.meta)):
        if mapping:
            click.echo(f"  {title}:")
            for k, v in mapping.items():
                click.echo(f"    {k}: {v if isinstance(v, str) else json.dumps(v)}")
    for title, refs in (("made from", e.inputs), ("used by", e.outputs)):
        if refs:
            click.echo(f"  {title}:")
            for r in refs:
                click.echo(f"    {r}")
    if e.locations:
        click.echo("  stored on:")
        for loc in e.locations:
            click.echo(f"    {loc.remote}  {loc.url}" + (f"  ({loc.tier})" if loc.tier else ""))
