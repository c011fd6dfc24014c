"""``protect`` and ``unprotect``: immutable raw data (and DVC's unprotect of linked outputs)."""

from __future__ import annotations

import click

from labvault import api
from labvault.cli.main import cli, emit_json, json_option

dry_run_option = click.option("-n", "--dry-run", is_flag=True, help="Check and show what would change; change nothing.")
lab_option = click.option("--lab", type=click.Path(dir_okay=False), help="The lab config file (default: LABVAULT_LAB, "
                                                                         "then the user's, then the system's).")


def _immutable(r: api.ProtectResult) -> str:
    if r.immutable:
        return "read-only, immutable flag set"
    if r.immutable is False:
        return f"read-only; immutable flag not set: {r.immutable_problem}"
    return "read-only"


@cli.command()
@click.argument("targets", nargs=-1, required=True)
@dry_run_option
@lab_option
@json_option
def protect(targets: tuple[str, ...], dry_run: bool, lab: str | None, as_json: bool) -> None:
    """Make raw data read-only: a tracked output (its .dvc file gets a marker every clone sees)
    or a lab dataset by NAME[@VERSION] or path.

    Every write bit goes (read bits stay as they were), and the immutable flag (chattr +i) is set
    where the file system and your privileges allow. `status` then flags the data when it changes,
    `add`/`commit` refuse new content for it unless --new-version, and `card check` wants a card.

    \b
    Example:
      labvault protect data/raw/reviews
      git add data/raw/reviews.dvc && git commit -m "raw reviews are read-only"
      labvault protect imagenet@v2 --dry-run
    """
    results = api.protect(list(targets), dry_run=dry_run, lab=lab)
    if as_json:
        emit_json(results)
        return
    for r in results:
        if dry_run:
            click.echo(f"would protect {r.path}" if r.changed else f"{r.path} is already protected")
        else:
            state = _immutable(r) if r.changed or r.files or r.dirs else "already protected"
            click.echo(f"protected {r.path} ({state})")


@cli.command()
@click.argument("targets", nargs=-1, required=True)
@dry_run_option
@lab_option
@json_option
def unprotect(targets: tuple[str, ...], dry_run: bool, lab: str | None, as_json: bool) -> None:
    """Lift the protection of `labvault protect` (immutable flag, then the owner's write bit,
    the .dvc marker, the catalog record) and, for tracked outputs, replace links into the cache by
    writable copies, to edit data in place safely.

    \b
    Example:
      labvault unprotect data/images
      labvault unprotect imagenet@v2 --dry-run
    """
    lifted: list[api.ProtectResult] = []
    copies: list[str] = []
    for t in targets:
        results = api.lift_protection([t], dry_run=dry_run, lab=lab)
        lifted += results
        if not dry_run and any(r.kind == "repo" for r in results):
            copies += api.unprotect([t])
    if as_json:
        emit_json({"dry_run": dry_run, "lifted": [r for r in lifted if r.changed], "copied": copies})
        return
    for r in lifted:
        if r.changed:
            click.echo(f"{'would lift' if dry_run else 'lifted'} the protection of {r.path}")
    if not dry_run and (copies or not any(r.changed for r in lifted)):
        click.echo(f"unprotected {len(copies)} file(s)")
