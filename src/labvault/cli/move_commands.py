"""Moving lab units by hand: ``promote`` and ``demote``."""

from __future__ import annotations

import click

from labvault import api
from labvault.cli.lab_commands import catalog_option, lab_option
from labvault.cli.main import _state, cli, emit_json, human_size, json_option

dry_run_option = click.option("--dry-run", is_flag=True, help="Say what would move; change nothing.")
allow_early_option = click.option("--allow-early", is_flag=True,
                                  help="Move even before the source tier's minimum storage duration (pays the fee).")


def _split(target: str) -> tuple[str, str | None]:
    name, _, version = target.partition("@")
    return name, version or None


def report_moves(report: api.MoveReport, as_json: bool) -> int:
    """Print a move report; returns the exit code (that of the first failure, else 0)."""
    if as_json:
        emit_json(report)
    else:
        for line in report.recovered:
            click.echo(f"recovered {line}", err=True)
        for o in report.outcomes:
            size = human_size(o.bytes)
            if o.status in ("moved", "copied", "would move"):
                note = f" ({o.detail})" if o.detail and o.status == "copied" else ""
                click.echo(f"{o.status} {o.ref} {o.src_tier} -> {o.dst_tier}: {o.src_location} -> {o.dst_location}, "
                           f"{size}{note}")
            elif o.status == "skipped":
                click.echo(f"skipped {o.ref}: {o.detail}")
            else:
                click.echo(f"error: {o.ref}: {o.detail}", err=True)
    return next((o.exit_code for o in report.outcomes if o.status == "failed"), 0)


@cli.command("promote")
@click.argument("target", metavar="NAME[@VERSION]")
@click.option("--to", "to", metavar="TIER", help="Target tier (default: the lab's promotion tier, else the hottest).")
@click.option("--wait", is_flag=True, help="From an archive class: wait for the restore, then promote.")
@click.option("--timeout", type=click.FloatRange(min=0), metavar="SECONDS",
              help="With --wait: give up after this long (exit 10); default no limit.")
@allow_early_option
@dry_run_option
@lab_option
@catalog_option
@json_option
@click.pass_context
def promote(ctx: click.Context, target: str, to: str | None, wait: bool, timeout: float | None, allow_early: bool,
            dry_run: bool, lab: str | None, catalog_url: str | None, as_json: bool) -> int:
    """Move a dataset, model or experiment (all its parts) up to a hotter tier.

    The unit is copied, the copy verified against its content hash, the catalog switched, and
    only then the old copy deleted; a symlink is left at the old path unless the lab config says
    symlink_old_path: false. Interrupted moves of earlier commands are finished or rolled back
    first. The promotion counts as an access. From a bucket tier in an archive class (S3 GLACIER,
    DEEP_ARCHIVE) the restore is requested and the command exits 9 saying when it should be
    ready; with --wait it polls until every object can be read, then promotes.

    \b
    Example:
      labvault promote imagenet@v2
      labvault promote coco --to warm --dry-run
      labvault promote old_scans@v1 --wait --timeout 86400
    """
    name, version = _split(target)
    if timeout is not None and not wait:
        raise click.UsageError("--timeout needs --wait")
    report = api.promote(name, version, to, lab, catalog_url, progress=_state(ctx).progress, dry_run=dry_run,
                         allow_early=allow_early, wait=wait, timeout=timeout)
    return report_moves(report, as_json)


@cli.command("demote")
@click.argument("target", metavar="NAME[@VERSION]")
@click.option("--to", "to", metavar="TIER", required=True, help="Target tier (colder than where it is).")
@allow_early_option
@dry_run_option
@lab_option
@catalog_option
@json_option
@click.pass_context
def demote(ctx: click.Context, target: str, to: str, allow_early: bool, dry_run: bool, lab: str | None,
           catalog_url: str | None, as_json: bool) -> int:
    """Move a dataset, model or experiment (all its parts) down to a colder tier.

    Same safety as promote: journaled, copied, verified, switched, then the source deleted (a
    symlink left at the old path by default). A target tier without room for the whole unit stops
    the move with one line; nothing is half-moved. To a bucket tier (s3://, gs://, azure://) the
    files go as objects in the tier's storage class plus a manifest; nothing is left at the old
    path (`labvault where OLD_PATH` says where it went).

    \b
    Example:
      labvault demote imagenet@v1 --to cold
      labvault demote old_logs --to warm --json
    """
    name, version = _split(target)
    report = api.demote(name, to, version, lab, catalog_url, progress=_state(ctx).progress, dry_run=dry_run,
                        allow_early=allow_early)
    return report_moves(report, as_json)
