"""Commands for remotes and transfers: remote add/modify/remove/rename/list/default, push, fetch,
pull (and ``status --cloud`` lives in commands.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from labvault import api
from labvault.cli.main import _state, cli, emit_json, human_size, json_option

if TYPE_CHECKING:
    from labvault.remotes.transfer import TransferResult



F = TypeVar("F", bound=Callable[..., Any])


def level_options(f: F) -> F:
    f = click.option("--system", "level", flag_value="system", help="Use the machine's config file.")(f)
    f = click.option("--global", "level", flag_value="global", help="Use the user's config file.")(f)
    f = click.option("--local", "level", flag_value="local", help="Use .dvc/config.local (not in git).")(f)
    return f


def transfer_options(f: F) -> F:
    f = click.option("-A", "--all-commits", is_flag=True, help="Also every commit's data.")(f)
    f = click.option("-a", "--all-branches", is_flag=True, help="Also every branch's data.")(f)
    f = click.option("-T", "--all-tags", is_flag=True, help="Also every tag's data.")(f)
    f = click.option("-j", "--jobs", type=click.IntRange(1, 256), help="Parallel transfers.")(f)
    f = click.option("-r", "--remote", help="Remote name (default: core.remote).")(f)
    return f


@cli.group()
def remote() -> None:
    """Manage remotes: where data is pushed to and pulled from.

    \b
    Example:
      labvault remote add -d local /mnt/ssd0/labvault-storage
      labvault remote add s3remote s3://my-bucket/store
      labvault remote modify s3remote region us-west-2
      labvault remote list
    """


@remote.command("add")
@click.argument("name")
@click.argument("url")
@click.option("-d", "--default", "default", is_flag=True, help="Make it the default remote.")
@click.option("-f", "--force", is_flag=True, help="Replace a remote of the same name.")
@level_options
def remote_add(name: str, url: str, default: bool, force: bool, level: str | None) -> None:
    """Add a remote: a folder, NFS mount, s3://, gs:// or azure:// url, or an http(s):// url
    (dvc's HTTP remote: push, pull, fetch and status -c; no listing, so not gc -c).

    \b
    Example:
      labvault remote add -d local /mnt/ssd0/labvault-storage
      labvault remote add gcs gs://my-bucket/store
      labvault remote add azure azure://mycontainer/path
      labvault remote add web https://data.example.org/dvc-store
      labvault remote modify --local web auth basic   # then user and password, also --local
    """
    info = api.remote_add(name, url, default, level or "repo", force)
    click.echo(f"added remote {info.name} -> {info.url}" + (" (default)" if default else ""))


@remote.command("modify")
@click.argument("name")
@click.argument("option")
@click.argument("value", required=False)
@click.option("-u", "--unset", is_flag=True, help="Remove the option.")
@level_options
def remote_modify(name: str, option: str, value: str | None, unset: bool, level: str | None) -> None:
    """Set an option of a remote (region, profile, endpointurl, credentialpath, connection_string, jobs,
    type...).

    A folder remote with `type hardlink,copy` shares its read-only objects with the cache by hard
    links on the same disk instead of copying them (faster pull; the remote is then no independent
    copy of those objects: see docs/design.md, Remotes).

    \b
    Example:
      labvault remote modify s3remote region us-west-2
      labvault remote modify s3remote endpointurl http://127.0.0.1:9000
      labvault remote modify --local s3remote profile lab
      labvault remote modify local type hardlink,copy
    """
    api.remote_modify(name, option, value, level, unset)


@remote.command("remove")
@click.argument("name")
@level_options
def remote_remove(name: str, level: str | None) -> None:
    """Remove a remote from the config (its data stays where it is).

    \b
    Example:
      labvault remote remove old-nas
    """
    api.remote_remove(name, level)


@remote.command("rename")
@click.argument("old")
@click.argument("new")
@level_options
def remote_rename(old: str, new: str, level: str | None) -> None:
    """Rename a remote.

    \b
    Example:
      labvault remote rename s3remote archive
    """
    api.remote_rename(old, new, level)


@remote.command("list")
@json_option
def remote_list(as_json: bool) -> None:
    """List remotes.

    \b
    Example:
      labvault remote list --json
    """
    items = api.remote_list()
    if as_json:
        emit_json(items)
        return
    for r in items:
        click.echo(f"{r.name}\t{r.url}" + ("\t(default)" if r.default else ""))


@remote.command("default")
@click.argument("name", required=False)
@click.option("-u", "--unset", is_flag=True, help="Clear the default.")
@level_options
def remote_default(name: str | None, unset: bool, level: str | None) -> None:
    """Show or set the default remote.

    \b
    Example:
      labvault remote default local
      labvault remote default
    """
    got = api.remote_default(name, level or "repo", unset)
    if name is None and not unset:
        if got is None:
            raise click.ClickException("no default remote")
        click.echo(got)


def _report(verb: str, r: TransferResult, as_json: bool) -> int:
    if as_json:
        emit_json(
            {
                "transferred": len(r.transferred), "bytes": r.transferred_bytes, "skipped": r.skipped,
                "missing_local": r.missing_local, "missing_remote": r.missing_remote, "corrupt": r.corrupt,
                "failed": r.failed, "replaced": r.replaced, "leftovers_removed": r.leftovers_removed,
            }
        )
    else:
        click.echo(f"{len(r.transferred)} objects {verb} ({human_size(r.transferred_bytes)}), {r.skipped} already there")
        if r.replaced:
            click.echo(f"{len(r.replaced)} of them replaced a remote copy of the wrong size")
    for oid in r.replaced[:20]:
        click.echo(f"warning: the remote's copy of {oid} had another size than the cache's; sent again", err=True)
    for oid in r.corrupt:
        click.echo(f"error: object {oid} from the remote is corrupt (its content does not match its name); rejected", err=True)
    for oid in r.missing_remote[:20]:
        click.echo(f"missing on the remote: {oid}", err=True)
    for oid in r.missing_local[:20]:
        click.echo(f"missing in the cache, not pushed: {oid}", err=True)
    for msg in r.failed[:20]:
        click.echo(f"failed: {msg}", err=True)
    if not r.ok:
        click.echo(f"error: {verb} incomplete: run the command again to finish", err=True)
        return 1
    return 0


@cli.command()
@click.argument("targets", nargs=-1)
@transfer_options
@json_option
@click.pass_context
def push(ctx: click.Context, targets: tuple[str, ...], remote: str | None, jobs: int | None, all_tags: bool,
         all_branches: bool, all_commits: bool, as_json: bool) -> None:
    """Upload tracked data the remote lacks.

    \b
    Example:
      labvault push
      labvault push data/images.dvc -r s3remote --jobs 32
      labvault push --all-tags
    """
    revs = api.Revisions(all_tags, all_branches, all_commits)
    r = api.push(list(targets), remote, jobs, revs, progress=_state(ctx).progress)
    ctx.exit(_report("pushed", r, as_json))


@cli.command()
@click.argument("targets", nargs=-1)
@transfer_options
@json_option
@click.pass_context
def fetch(ctx: click.Context, targets: tuple[str, ...], remote: str | None, jobs: int | None, all_tags: bool,
          all_branches: bool, all_commits: bool, as_json: bool) -> None:
    """Download tracked data into the cache (verified), without touching the workspace.

    Imports recorded without their data (import-url --no-download) come from their
    sources, only while a source holds the checksum the import records; `labvault
    checkout` then places them, offline.

    \b
    Example:
      labvault fetch
      labvault fetch --all-tags -r s3remote
    """
    revs = api.Revisions(all_tags, all_branches, all_commits)
    r = api.fetch(list(targets), remote, jobs, revs, progress=_state(ctx).progress)
    ctx.exit(_report("fetched", r, as_json))


@cli.command()
@click.argument("targets", nargs=-1)
@transfer_options
@click.option("-f", "--force", is_flag=True, help="Overwrite workspace data that is not in the cache.")
@json_option
@click.pass_context
def pull(ctx: click.Context, targets: tuple[str, ...], remote: str | None, jobs: int | None, all_tags: bool,
         all_branches: bool, all_commits: bool, force: bool, as_json: bool) -> None:
    """Fetch tracked data and check it out into the workspace.

    Imports recorded without their data (import-url --no-download) come from their
    sources, only while a source holds the checksum the import records.

    \b
    Example:
      git clone https://example.org/lab/project.git && cd project && labvault pull
    """
    revs = api.Revisions(all_tags, all_branches, all_commits)
    r = api.pull(list(targets), remote, jobs, revs, force, progress=_state(ctx).progress)
    code = _report("fetched", r.fetched, as_json)
    c = r.checkout
    if not as_json:
        click.echo(f"{len(c.added)} added, {len(c.modified)} modified, {len(c.deleted)} deleted in the workspace")
    if c.failed:
        click.echo(f"error: {len(c.failed)} file(s) could not be checked out", err=True)
        code = 1
    ctx.exit(code)
