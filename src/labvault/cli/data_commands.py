"""`labvault data status`: tracked data against git's HEAD, the pointers and the workspace."""

from __future__ import annotations

import click

from labvault import api
from labvault.cli.main import cli, emit_json, json_option

_HINTS = {
    "Not in cache": ('use "labvault fetch <file>..." to download files',),
    "Not in remote": ('use "labvault push <file>..." to upload files',),
    "Committed changes": ("git commit the .dvc files and dvc.lock to record them in the repo",),
    "Uncommitted changes": ('use "labvault commit <file>..." to record them',
                            'use "labvault checkout <file>..." to discard them'),
    "Untracked files": ('use "git add <file>..." or "labvault add <file>..." to track them',),
    "Unchanged files": (),
}
_PAD = " " * 8


@cli.group()
def data() -> None:
    """Tracked data in three places: git's HEAD, the pointers, the workspace.

    \b
    Example:
      labvault data status
      labvault data status --granular --json
    """


@data.command("status")
@click.argument("targets", nargs=-1)
@click.option("--granular", is_flag=True, help="Also the files inside folder outputs.")
@click.option("--unchanged", is_flag=True, help="Also list what did not change.")
@click.option("--untracked-files", is_flag=True, help="Also list files neither git nor labvault tracks.")
@click.option("--not-in-remote", is_flag=True, help="Also list recorded data the remote lacks (each output's own "
              "remote, else -r or the default).")
@click.option("-r", "--remote", metavar="NAME",
              help="With --not-in-remote: the remote to look at (default: the default remote).")
@click.option("--no-remote-refresh", is_flag=True, hidden=True,
              help="Accepted as dvc's; labvault asks the remote every time.")
@json_option
def data_status(targets: tuple[str, ...], granular: bool, unchanged: bool, untracked_files: bool, not_in_remote: bool, remote: str | None,
                no_remote_refresh: bool, as_json: bool) -> None:
    """What the pointers (.dvc files, dvc.lock) record that git's HEAD does not (committed
    changes: commit them to git), what the workspace holds that the pointers do not record
    (uncommitted changes: `labvault commit` records them, `checkout` undoes them), and recorded
    objects the cache lacks; as `dvc data status`. Folder outputs end in `/`. TARGETS (paths)
    limit every list to those paths and what lies below them. Exit 0.

    \b
    Example:
      labvault data status
      labvault data status --granular --unchanged
      labvault data status --json        # dvc's keys: not_in_cache, committed, uncommitted, ...
      labvault data status --not-in-remote --granular   # what is not backed up on the remote
      labvault data status data/raw --granular          # only what lies under data/raw
    """
    st = api.data_status(granular, unchanged, untracked_files, not_in_remote=not_in_remote, remote=remote,
                         targets=list(targets) or None)
    if as_json:
        emit_json(st.to_json())
        return
    sections: list[tuple[str, list[str]]] = [("Not in cache", list(st.not_in_cache)),
                                             ("Not in remote", list(st.not_in_remote))]
    for label, changes in (("Committed changes", st.committed), ("Uncommitted changes", st.uncommitted)):
        items = [f"{state}: {p}" for state, paths in (("added", changes.added), ("deleted", changes.deleted),
                                                       ("modified", changes.modified)) for p in paths]
        items += [f"renamed: {a} -> {b}" for a, b in changes.renamed]
        sections.append((label, items))
    sections += [("Untracked files", list(st.untracked or ())), ("Unchanged files", list(st.unchanged or ()))]
    shown = [(label, items) for label, items in sections if items]
    if not shown:
        click.echo("No changes in an empty git repo." if st.git_empty else "No changes.")
    for i, (label, items) in enumerate(shown):
        if i:
            click.echo()
        click.echo(f"{label}:")
        for hint in _HINTS[label]:
            click.echo(f"  ({hint})")
        for item in items:
            click.echo(_PAD + item)
    if st.git_dirty:
        other = "other " if shown else ""
        click.echo(f'(there are {other}changes not tracked by labvault, use "git status" to see)')
