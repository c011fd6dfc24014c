"""``labvault catalog restore-db``: the catalog database back from a backup snapshot."""

from __future__ import annotations

import click

from labvault import api
from labvault.cli.catalog_commands import catalog
from labvault.cli.main import _state, emit_json, human_size


@catalog.command("restore-db")
@click.argument("snapshot")
@click.option("--to", "to", required=True, metavar="FILE|URL",
              help="A SQLite file (or sqlite:///PATH), or the postgresql:// URL of an empty database.")
@click.option("--force", is_flag=True, help="Replace the contents of an existing SQLite file (never needed for PostgreSQL).")
@click.option("--policy", "policy", metavar="NAME", help="The backup policy whose target holds SNAPSHOT.")
@click.option("--lab", "lab", metavar="FILE", help="Lab config file (default: LABVAULT_LAB, then the user's).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def restore_db(ctx: click.Context, snapshot: str, to: str, force: bool, policy: str | None, lab: str | None,
               as_json: bool) -> None:
    """Restore the catalog database held by SNAPSHOT (a policy with `catalog: true` backs it up).

    A SQLite copy is written to a temp file, checked (md5 and PRAGMA integrity_check), fsynced
    and renamed into place; an existing file is refused unless --force. A PostgreSQL dump is
    restored with pg_restore into an empty database only (the password comes from the URL and
    reaches pg_restore through PGPASSWORD).

    \b
    Example:
      labvault catalog restore-db latest --policy nightly --to /srv/labvault/catalog-restored.sqlite
      labvault catalog restore-db 20261203T1015 --to postgresql://lab@db/labvault_restored
    """
    r = api.catalog_restore_db(snapshot, to, policy=policy, force=force, lab=lab, progress=_state(ctx).progress)
    if as_json:
        emit_json({"snapshot": r.snapshot, "kind": r.kind, "to": r.to, "bytes": r.bytes, "replaced": r.replaced})
    else:
        click.echo(f"restored the {r.kind} catalog of {r.snapshot} ({human_size(r.bytes)}) to {r.to}"
                   + (" (replaced its contents)" if r.replaced else ""))
