"""``labvault gc``: delete the cache objects the kept revisions do not use, after asking."""

from __future__ import annotations

import click

from labvault import api
from labvault.cli.main import _state, cli, emit_json, human_size, json_option
from labvault.errors import UsageError


def _confirm_gc(plan: api.GcResult, spilled: bool) -> None:
    """Ask before gc deletes anything (exit 1 on no); refuse without a terminal to ask on."""
    import sys

    what = f"{plan.removed} cache objects ({human_size(plan.removed_bytes)})"
    if spilled and plan.spilled_removed:
        what += f" and {len(plan.spilled_removed)} spilled objects"
    if plan.remote_removed:
        what += (f" and {len(plan.remote_removed)} objects ({human_size(plan.remote_removed_bytes)}) "
                 f"on remote {plan.remote}")
    for other in plan.bound_remotes:
        if other.removed:
            what += f" and {len(other.removed)} objects ({human_size(other.removed_bytes)}) on remote {other.remote}"
    if (plan.removed == 0 and not (spilled and plan.spilled_removed) and not plan.remote_removed
            and not any(o.removed for o in plan.bound_remotes)):
        return
    if not sys.stdin.isatty():
        raise UsageError(f"gc would delete {what} and there is no terminal to confirm on",
                         "pass -f/--force to delete without asking, or -n/--dry-run to see the plan")
    click.echo(f"gc will delete {what} that the kept revisions do not use; those never pushed to a remote "
               "are lost for good.", err=True)
    if not click.confirm("Delete them?", default=False, err=True):
        click.echo("nothing deleted", err=True)
        raise SystemExit(1)


@cli.command()
@click.option("-w", "--workspace", is_flag=True, help="Keep what the workspace uses (always on).")
@click.option("-T", "--all-tags", is_flag=True, help="Also keep what every git tag uses.")
@click.option("-a", "--all-branches", is_flag=True, help="Also keep what every branch uses.")
@click.option("-A", "--all-commits", is_flag=True, help="Also keep what every commit uses.")
@click.option("--rev", default=None, metavar="COMMIT", help="Also keep what this commit uses.")
@click.option("-n", "--num", type=int, default=None, metavar="N",
              help="Also keep what the last N commits use, along first parents from --rev and, with -a, from "
                   "each branch tip.")
@click.option("--date", default=None, metavar="YYYY-MM-DD", help="Also keep what every commit since this day uses.")
@click.option("--not-in-remote", is_flag=True,
              help="Keep only what the remote (-r, default: the default remote) lacks: objects it holds leave the "
                   "cache even when used, as with dvc (pull brings them back).")
@click.option("--dry-run", "--dry", "dry_run", is_flag=True, help="Show the plan; delete nothing.")
@click.option("-f", "--force", is_flag=True, help="Delete without asking for confirmation.")
@click.option("--spilled", is_flag=True,
              help="Also delete the spilled copies (on the spill tiers) of objects the kept revisions do not use.")
@click.option("-c", "--cloud", is_flag=True,
              help="Also delete from the remote the objects the kept revisions do not use, as `dvc gc -c`.")
@click.option("-r", "--remote", default=None, metavar="NAME", help="The remote for --cloud (default: the default remote).")
@click.option("-j", "--jobs", type=int, default=None, help="Parallel requests for --cloud.")
@json_option
@click.pass_context
def gc(
    ctx: click.Context, workspace: bool, all_tags: bool, all_branches: bool, all_commits: bool, rev: str | None,
    num: int | None, date: str | None, not_in_remote: bool, dry_run: bool, force: bool, spilled: bool, cloud: bool,
    remote: str | None, jobs: int | None, as_json: bool,
) -> None:
    """Delete cache objects that nothing in use needs.

    Asks before deleting (the plan's count and size), unless -f; without a terminal to ask on,
    it refuses and deletes nothing. An object only the cache holds (never pushed) is gone for good.

    Spilled objects (`labvault cache spill`) are never touched unless --spilled: then those the
    kept revisions do not use are forgotten too, and their tier files deleted when no other
    cache spilled the same object. Spilled objects are unused by the revisions the spill kept:
    give gc at least the same revision flags.

    With -c/--cloud, the remote's objects that the kept revisions do not use are deleted too
    (other clones' revisions that this repository does not know included, as dvc does), and
    so are those of every remote that kept outputs are bound to (`remote:` in a .dvc file or
    dvc.yaml), as dvc cleans them; each remote keeps every object the kept revisions use.
    Every folder the kept revisions use is read first (from the remote when the cache lacks
    it); when one is on neither, nothing is deleted.

    \b
    Example:
      labvault gc --dry-run           # what would go
      labvault gc --all-tags          # keep every tagged version
      labvault gc --rev main -n 10    # keep the last 10 commits of main
      labvault gc --not-in-remote -f  # free the cache of everything the remote holds
      labvault gc --all-commits --spilled --dry-run
      labvault gc -w -f               # in a script: no question asked
      labvault gc -w -c -r backup --dry   # what the remote `backup` would lose
    """
    def run(dry: bool) -> api.GcResult:
        return api.gc(all_tags, all_branches, all_commits, dry, progress=_state(ctx).progress, spilled=spilled,
                      cloud=cloud, remote=remote, jobs=jobs, rev=rev, num=num, date=date, not_in_remote=not_in_remote)

    if not dry_run and not force:
        _confirm_gc(run(True), spilled)
    result = run(dry_run)
    if as_json:
        emit_json(result)
        return
    verb = "would remove" if dry_run else "removed"
    click.echo(
        f"{verb} {result.removed} objects ({human_size(result.removed_bytes)}), kept {result.kept}, "
        f"looked at {result.revisions} revision(s)"
    )
    if spilled:
        click.echo(f"{verb} {len(result.spilled_removed)} spilled objects from the spill tiers")
    if result.remote is not None:
        click.echo(f"{verb} {len(result.remote_removed)} objects ({human_size(result.remote_removed_bytes)}) from "
                   f"remote {result.remote}, kept {result.remote_kept}")
    for other in result.bound_remotes:
        click.echo(f"{verb} {len(other.removed)} objects ({human_size(other.removed_bytes)}) from "
                   f"remote {other.remote} (outputs are bound to it), kept {other.kept}")
    for oid in result.missing_manifests:
        click.echo(f"warning: manifest {oid} is not in the cache; its files could not be marked as used", err=True)
