"""The lab's storage: ``lab init|scan``, ``tier list``, ``where``."""

from __future__ import annotations

import click

from labvault import api
from labvault.cli.main import cli, emit_json, human_size, json_option

lab_option = click.option("--lab", "lab", metavar="FILE",
                          help="Lab config file (default: LABVAULT_LAB, then ~/.config/labvault/lab.yaml, "
                               "then /etc/labvault/lab.yaml).")
catalog_option = click.option("--catalog", "catalog_url", metavar="URL",
                              help="Catalog database holding the lab's state (default: LABVAULT_CATALOG_URL, "
                                   "the lab config's catalog_url, else the user's SQLite catalog).")


@cli.group()
def lab() -> None:
    """The lab's storage: lay out the tiers and register what they hold.

    \b
    Example:
      labvault lab init --root /mnt
      labvault lab scan
      labvault tier list
    """


@lab.command("init")
@click.option("--root", required=True, metavar="DIR", help="Where the mounts are (/mnt in real life).")
@lab_option
@json_option
def lab_init(root: str, lab: str | None, as_json: bool) -> None:
    """Lay out nvme0/, ssd0/ and hdd0/ under DIR and write a lab config with hot, warm and cold tiers.

    \b
    DIR/nvme0/{datasets,experiments,cache}     the hot tier (NVMe)
    DIR/ssd0/{datasets,models,checkpoints}     the warm tier (SATA SSD/HDD)
    DIR/hdd0/{archive,backups,raw}             the cold tier

    The config goes to --lab FILE, else LABVAULT_LAB, else ~/.config/labvault/lab.yaml. Nothing is
    overwritten: folders and a config that exist are kept and reported.

    \b
    Example:
      labvault lab init --root /mnt
      labvault lab init --root /tmp/lab --lab /tmp/lab/lab.yaml
    """
    result = api.lab_init(root, lab)
    if as_json:
        emit_json(result)
        return
    for path in result.created:
        click.echo(f"created {path}")
    for path in result.existing:
        click.echo(f"exists  {path}")
    if result.config_written:
        click.echo(f"wrote lab config {result.config}")
    else:
        click.echo(f"lab config {result.config} exists: left as it is")


@lab.command("scan")
@click.option("--tier", "tiers", multiple=True, metavar="NAME", help="Scan only this tier (repeatable).")
@lab_option
@catalog_option
@json_option
def lab_scan(tiers: tuple[str, ...], lab: str | None, catalog_url: str | None, as_json: bool) -> None:
    """Register the datasets, models, experiments and checkpoints found in the tiers' areas.

    Each entry of a tier's datasets/, models/, experiments/, checkpoints/ and archive/ is a unit,
    named by the lab's naming conventions when it follows them (imagenet_v2_train.tar is dataset
    imagenet@v2, part train), else by its own name. Content is hashed once; a re-scan reads only
    files whose inode, size or mtime changed.

    \b
    Example:
      labvault lab scan
      labvault lab scan --tier hot --json
    """
    result = api.lab_scan(lab, catalog_url, list(tiers) or None)
    if as_json:
        emit_json(result)
        return
    for line in result.skipped:
        click.echo(f"skipped {line}", err=True)
    click.echo(f"{result.units} units: {result.new_units} new, {result.changed_units} changed, "
               f"{result.new_placements} new placements, {result.missing_placements} gone; "
               f"{result.hashed_files} files hashed ({human_size(result.hashed_bytes)}), "
               f"{result.cached_files} unchanged")


@cli.group()
def tier() -> None:
    """The lab's storage tiers.

    \b
    Example:
      labvault tier list
    """


@tier.command("list")
@lab_option
@catalog_option
@json_option
def tier_list(lab: str | None, catalog_url: str | None, as_json: bool) -> None:
    """Every tier, hottest first: used, free and capacity, objects and datasets, monthly cost.

    \b
    Example:
      labvault tier list
      labvault tier list --json
    """
    tiers = api.tier_list(lab, catalog_url)
    if as_json:
        emit_json(tiers)
        return
    click.echo(f"{'TIER':<10} {'USED':>10} {'FREE':>10} {'CAPACITY':>10} {'USE%':>6} {'OBJECTS':>8} "
               f"{'DATASETS':>8} {'$/MONTH':>9}  STATUS  WHERE")
    for t in tiers:
        pct = f"{t.percent:.1f}" if t.percent is not None else "-"
        click.echo(f"{t.name:<10} {human_size(t.used):>10} {human_size(t.free):>10} {human_size(t.capacity):>10} "
                   f"{pct:>6} {t.objects:>8} {t.datasets:>8} {t.monthly_cost:>9.2f}  {t.status:<7} {t.where}"
                   + (f" ({t.storage_class})" if t.storage_class else ""))


@cli.command("where")
@click.argument("target", metavar="NAME[@VERSION]|PATH")
@lab_option
@catalog_option
@json_option
def where(target: str, lab: str | None, catalog_url: str | None, as_json: bool) -> None:
    """Which tiers hold a dataset, model or experiment: real paths, size, copies, last access.

    A PATH may be a unit's path, a symlink left at a moved unit's old path, or a file inside a unit.

    \b
    Example:
      labvault where imagenet@v2
      labvault where /mnt/ssd0/datasets/coco_2017_val.zip --json
    """
    result = api.where(target, lab, catalog_url)
    if as_json:
        emit_json([{**_unit_json(u)} for u in result.units])
        return
    for u in result.units:
        ref = f"{u.name}@{u.version}" if u.version else u.name
        part = f" ({u.part})" if u.part else ""
        last = u.last_access.isoformat(sep=" ", timespec="seconds") if u.last_access else "never recorded"
        click.echo(f"{u.kind} {ref}{part}: {human_size(u.size)}, {u.nfiles} files, {u.copies} "
                   f"cop{'y' if u.copies == 1 else 'ies'}, last access {last}")
        for p in u.placements:
            click.echo(f"  {p.tier:<8} {p.state:<9} {p.location}")


def _unit_json(u: api.LabUnit) -> dict[str, object]:
    return {"kind": u.kind, "name": u.name, "version": u.version, "part": u.part,
            "content_hash": u.content_hash, "size": u.size, "nfiles": u.nfiles, "copies": u.copies,
            "created_at": u.created_at.isoformat(), "modified_at": u.modified_at.isoformat() if u.modified_at else None,
            "last_access": u.last_access.isoformat() if u.last_access else None,
            "placements": [{"tier": p.tier, "location": p.location, "state": p.state,
                            "verified_at": p.verified_at.isoformat() if p.verified_at else None}
                           for p in u.placements]}
