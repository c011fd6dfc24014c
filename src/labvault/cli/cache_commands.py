"""``labvault cache spill``: move a repo's unused, unread cache objects to a folder tier."""

from __future__ import annotations

import click

from labvault import api
from labvault.cli.lab_commands import catalog_option, lab_option
from labvault.cli.main import _state, cli, emit_json, human_size, json_option


@cli.group()
def cache() -> None:
    """The repo's cache: where it is, and its spill tier.

    \b
    Example:
      labvault cache dir /mnt/ssd0/shared-cache --local
      labvault cache spill --to cold --days 30 --all-commits --dry-run
    """


@cache.command("dir")
@click.argument("value", required=False)
@click.option("--local", "level", flag_value="local", help="In .dvc/config.local (not in git).")
@click.option("--repo", "level", flag_value="repo", default=True, help="In .dvc/config (the default).")
@click.option("--global", "level", flag_value="global", help="In the user's config file.")
@click.option("--system", "level", flag_value="system", help="In the machine's config file.")
@click.option("-u", "--unset", is_flag=True, help="Remove the setting (back to .dvc/cache).")
@json_option
def cache_dir(value: str | None, level: str, unset: bool, as_json: bool) -> None:
    """Show the cache folder, or set it (`cache.dir`), as `dvc cache dir`.

    A relative VALUE is taken from the current folder and written relative to the config file's
    folder, so that it names the same place wherever the file is read from. A lab's shared cache
    is best set per clone (--local): a cache.dir committed in .dvc/config comes with every clone.

    \b
    Example:
      labvault cache dir                                  # the cache in use
      labvault cache dir /mnt/ssd0/shared-cache --local   # share one cache between clones
      labvault cache dir -u --local
    """
    if value is not None and unset:
        raise click.UsageError("give VALUE or --unset, not both")
    path = api.cache_dir(value, level, unset)
    if as_json:
        emit_json({"dir": path})
    elif value is None and not unset:
        click.echo(path)


@cache.command("spill")
@click.option("--to", "to", metavar="TIER", help="Folder tier to spill to (default: the coldest folder tier).")
@click.option("--days", type=float, default=30.0, show_default=True,
              help="Objects read (or added) within this many days stay.")
@click.option("-T", "--all-tags", is_flag=True, help="Keep what every git tag uses.")
@click.option("-a", "--all-branches", is_flag=True, help="Keep what every branch uses.")
@click.option("-A", "--all-commits", is_flag=True, help="Keep what every commit uses.")
@click.option("-n", "--dry-run", is_flag=True, help="Show the plan; move nothing.")
@lab_option
@catalog_option
@json_option
@click.pass_context
def spill(ctx: click.Context, to: str | None, days: float, all_tags: bool, all_branches: bool, all_commits: bool,
          dry_run: bool, lab: str | None, catalog_url: str | None, as_json: bool) -> None:
    """Move cache objects that no kept revision uses and nobody read for DAYS to a tier.

    Kept revisions are the workspace plus the revisions chosen as for gc; an object's last read
    is the lab's access log, else its mtime in the cache. Each object is copied to
    TIER/files/md5/, read back and checked, recorded in the catalog, then deleted from the cache.
    The tier becomes a remote named after it (`dvc pull -r TIER` works); status, checkout and
    pull find spilled objects there and fetch them back on use.

    \b
    Example:
      labvault cache spill --to cold --days 30 --all-commits --dry-run
      labvault cache spill --to cold --days 30 --all-commits --json
    """
    r = api.cache_spill(to, days, all_tags, all_branches, all_commits, dry_run, lab=lab, catalog_url=catalog_url,
                        progress=_state(ctx).progress)
    if as_json:
        emit_json(r)
        return
    if r.rolled_back or r.finished:
        click.echo(f"interrupted spill: {r.rolled_back} rolled back, {r.finished} finished")
    verb = "would move" if dry_run else "moved"
    click.echo(f"{verb} {r.moved} objects ({human_size(r.moved_bytes)}) to tier {r.tier} ({r.tier_path}), "
               f"{r.manifests} folder manifests copied; kept {r.kept} in use, {r.recent} read within "
               f"{r.days:g} days, {r.legacy} of the 2.x layout; looked at {r.revisions} revision(s)")
    if not dry_run and r.moved:
        note = " (now the default remote)" if r.default_remote else ""
        click.echo(f"remote {r.remote}{note}: `dvc pull -r {r.remote}` reads the spilled objects")
