"""Commands that bring data of another repository here: get, import, update."""

from __future__ import annotations

import click

from labvault import api
from labvault.cli.main import _state, cli, emit_json, human_size, json_option

rev_option = click.option("--rev", help="Git revision of the source (commit, branch, tag); default: its HEAD.")
remote_option = click.option("-r", "--remote", help="The source's remote to download from (default: its core.remote).")
jobs_option = click.option("-j", "--jobs", type=click.IntRange(1, 256), help="Parallel downloads.")


@cli.command()
@click.argument("repo")
@click.argument("path")
@click.option("-o", "--out", help="Where to write it (default: its name, in the current folder).")
@rev_option
@remote_option
@jobs_option
@json_option
@click.pass_context
def get(ctx: click.Context, repo: str, path: str, out: str | None, rev: str | None, remote: str | None,
        jobs: int | None, as_json: bool) -> None:
    """Download a tracked file or folder of any repository (a folder or a git URL) at any revision.

    No repository is needed here. Every file is checked against its recorded md5; the result
    appears only when complete.

    \b
    Example:
      labvault get https://github.com/lab/project data/images -o images --rev v2
      labvault get ../project models/model.pt --rev HEAD~3
    """
    r = api.get(repo, path, out, rev, remote, jobs, progress=_state(ctx).progress)
    if as_json:
        emit_json(r)
        return
    click.echo(f"{r.path}: {r.files} file(s), {human_size(r.bytes)}" + (f" (commit {r.rev_lock[:10]})" if r.rev_lock else ""))


@cli.command("import")
@click.argument("repo")
@click.argument("path")
@click.option("-o", "--out", help="Where to put it in this repository (default: its name, here).")
@rev_option
@remote_option
@jobs_option
@json_option
@click.pass_context
def import_(ctx: click.Context, repo: str, path: str, out: str | None, rev: str | None, remote: str | None,
            jobs: int | None, as_json: bool) -> None:
    """Download a tracked file or folder of another repository and record its source in OUT.dvc.

    The .dvc file (`deps: repo: url, rev, rev_lock`, `frozen: true`) is the one dvc writes; `dvc
    update`/`dvc pull` understand it, and `labvault update` moves it to a newer revision.

    \b
    Example:
      labvault import https://github.com/lab/datasets images/cats -o data/cats --rev v3
      git add data/cats.dvc data/.gitignore
    """
    r = api.import_(repo, path, out, rev, remote, jobs, progress=_state(ctx).progress)
    if as_json:
        emit_json(r)
        return
    click.echo(f"imported {r.path} ({r.files} file(s), {human_size(r.bytes)}) from commit {r.rev_lock[:10]}; "
               f"track {r.pointer} with git")


@cli.command()
@click.argument("targets", nargs=-1)
@rev_option
@remote_option
@jobs_option
@json_option
@click.pass_context
def update(ctx: click.Context, targets: tuple[str, ...], rev: str | None, remote: str | None, jobs: int | None,
           as_json: bool) -> None:
    """Move imports to the newest commit of their revision (or of --rev): download what changed.

    Without TARGETS, every import of the repository. An output changed here is refused (exit 4).

    \b
    Example:
      labvault update data/cats.dvc
      labvault update data/cats.dvc --rev v4
    """
    results = api.update(list(targets), rev, remote, jobs, progress=_state(ctx).progress)
    if as_json:
        emit_json(results)
        return
    for r in results:
        what = f"updated ({r.files} file(s), {human_size(r.bytes)})" if r.changed else "unchanged"
        click.echo(f"{r.pointer}: {what} at commit {r.rev_lock[:10]}")
