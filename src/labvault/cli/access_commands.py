"""``access grant|revoke|show|check``: who may read or write which data (POSIX ACLs, recorded in
the catalog)."""

from __future__ import annotations

import click

from labvault import api
from labvault.cli.main import cli, emit_json, json_option

dry_run_option = click.option("-n", "--dry-run", is_flag=True, help="Check and show what would change; change nothing.")
lab_option = click.option("--lab", type=click.Path(dir_okay=False), help="The lab config file (default: LABVAULT_LAB, "
                                                                         "then the user's, then the system's).")
PERMISSION = click.Choice(["read", "write"])


@cli.group()
def access() -> None:
    """Who may read or write data: POSIX ACLs (setfacl), with default entries on folders so new
    files inherit them, recorded in the catalog. PRINCIPAL is USER, GROUP, user:USER or group:GROUP.

    \b
    Example:
      labvault access grant group:ml read /mnt/ssd0/datasets/imagenet_v2
      labvault access grant alice write data/processed
      labvault access show data --json
      labvault access check
    """


def _print(results: list[api.GrantResult], dry_run: bool, as_json: bool) -> None:
    if as_json:
        from labvault.api.jsonshape import grant_results_json

        emit_json(grant_results_json(results))
        return
    for r in results:
        now = r.after or "no access"
        if not r.changed:
            click.echo(f"{r.principal} already has {now} on {r.path}")
        else:
            click.echo(f"{'would give' if dry_run else 'gave'} {r.principal} {now} on {r.path} "
                       f"(was {r.before or 'no access'})")


@access.command("grant")
@click.argument("principal")
@click.argument("permission", type=PERMISSION)
@click.argument("targets", nargs=-1, required=True)
@dry_run_option
@lab_option
@json_option
def grant(principal: str, permission: str, targets: tuple[str, ...], dry_run: bool, lab: str | None,
          as_json: bool) -> None:
    """Give PRINCIPAL read (or write, which includes read) on files and folders of a repository
    or the lab's folders, or on lab datasets by NAME[@VERSION]. Protected data cannot be granted
    write.

    \b
    Example:
      labvault access grant group:vision read imagenet@v2
      labvault access grant alice write data/processed --dry-run
    """
    _print(api.access_grant(principal, permission, list(targets), dry_run=dry_run, lab=lab), dry_run, as_json)


@access.command("revoke")
@click.argument("principal")
@click.argument("permission", type=PERMISSION)
@click.argument("targets", nargs=-1, required=True)
@dry_run_option
@lab_option
@json_option
def revoke(principal: str, permission: str, targets: tuple[str, ...], dry_run: bool, lab: str | None,
           as_json: bool) -> None:
    """Take PERMISSION away: revoking write leaves read; revoking read removes every entry.

    \b
    Example:
      labvault access revoke alice write data/processed
      labvault access revoke group:vision read imagenet@v2
    """
    _print(api.access_revoke(principal, permission, list(targets), dry_run=dry_run, lab=lab), dry_run, as_json)


@access.command("show")
@click.argument("targets", nargs=-1)
@lab_option
@json_option
def show(targets: tuple[str, ...], lab: str | None, as_json: bool) -> None:
    """The recorded grants on TARGETS (every grant when none is given).

    \b
    Example:
      labvault access show
      labvault access show data/processed --json
    """
    rows = api.access_show(list(targets), lab=lab)
    if as_json:
        from labvault.api.jsonshape import grants_json

        emit_json(grants_json(rows))
        return
    if not rows:
        click.echo("No grants recorded.")
    for g in rows:
        click.echo(f"{g.path}  {g.principal_kind}:{g.principal}  {g.permission}  ({g.at:%Y-%m-%d %H:%M} by {g.by})")


@access.command("check")
@click.argument("targets", nargs=-1)
@lab_option
@json_option
@click.pass_context
def check(ctx: click.Context, targets: tuple[str, ...], lab: str | None, as_json: bool) -> None:
    """Audit data against the records: world-writable files, a group that differs from the
    folder's, missing or unrecorded ACL entries, writable protected data. One line per problem;
    exit 1 when there is any.

    \b
    Example:
      labvault access check
      labvault access check data --json
    """
    report = api.access_check(list(targets), lab=lab)
    if as_json:
        emit_json({"ok": report.ok, "roots": report.roots, "checked": report.checked, "problems": report.problems})
    else:
        for p in report.problems[:200]:
            click.echo(p.line())
        if len(report.problems) > 200:
            click.echo(f"... and {len(report.problems) - 200} more problems")
        if report.ok:
            click.echo(f"{report.checked} files and folders under {len(report.roots)} root(s) checked: no problems.")
    if not report.ok:
        if not as_json:
            click.echo(f"error: {len(report.problems)} access problem(s): see the lines above", err=True)
        ctx.exit(1)
