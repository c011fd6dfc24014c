"""Plain object-storage commands, for every kind of storage: cp and ls."""

from __future__ import annotations

import click

from labvault import api
from labvault.cli.main import _state, cli, emit_json, human_size, json_option


@cli.command(name="cp")
@click.argument("src")
@click.argument("dst")
@click.option("-r", "--recursive", is_flag=True, help="Copy a folder or prefix with everything below it.")
@click.option("-j", "--jobs", type=click.IntRange(1, 256),
              help="Files copied at a time (default 16 with object storage, 4 between local folders).")
@json_option
@click.pass_context
def cp_cmd(ctx: click.Context, src: str, dst: str, recursive: bool, jobs: int | None, as_json: bool) -> None:
    """Copy files and folders between local paths and s3://, gs://, azure:// URLs, in any direction.

    A file copied onto an existing folder, a bucket, or a destination ending in '/' goes inside
    it. With -r, SRC/ (trailing '/') copies the folder's contents into DST; SRC without '/' goes
    inside DST when DST is an existing folder or ends in '/', else becomes DST. Local files appear
    only when complete (temp name, then rename); so do uploaded objects. Credentials come from the
    environment (AWS_PROFILE, GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_CONNECTION_STRING, ...).

    \b
    Example:
      labvault cp results/metrics.json s3://lab-bucket/runs/42/
      labvault cp -r data/images/ gs://lab-data/images/ --jobs 64
      labvault cp -r s3://lab-bucket/runs/42 ./runs/
      labvault cp -r s3://lab-bucket/models/ azure://archive/models/ --json
    """
    r = api.cp(src, dst, recursive=recursive, jobs=jobs, progress=_state(ctx).progress)
    if as_json:
        emit_json({"src": r.src, "dst": r.dst, "destination": r.destination, "files": r.files, "bytes": r.bytes,
                   "seconds": r.seconds, "failed": list(r.failed)})
    else:
        rate = f", {human_size(int(r.bytes / r.seconds))}/s" if r.seconds > 0 and r.bytes else ""
        what = f"{r.files} file" + ("" if r.files == 1 else "s")
        click.echo(f"copied {what} ({human_size(r.bytes)}) to {r.destination} in {r.seconds:.1f}s{rate}")
    for msg in r.failed[:20]:
        click.echo(f"failed: {msg}", err=True)
    if r.failed:
        more = " (first 20 shown)" if len(r.failed) > 20 else ""
        click.echo(f"error: {len(r.failed)} file(s) were not copied{more}: see the lines above; run the command again to retry",
                   err=True)
        ctx.exit(1)


@cli.command(name="ls")
@click.argument("url")
@click.option("-R", "--recursive", is_flag=True, help="List every file below URL, with its path and size.")
@json_option
def ls_cmd(url: str, recursive: bool, as_json: bool) -> None:
    """List a local folder, or a bucket or prefix in s3://, gs://, azure://: sizes and names.

    Folders (and prefixes) end with '/'.

    \b
    Example:
      labvault ls s3://lab-bucket/runs/
      labvault ls -R gs://lab-data/images --json
      labvault ls data/
    """
    entries = api.ls(url, recursive=recursive)
    if as_json:
        emit_json(entries)
        return
    for e in entries:
        size = "" if e.is_dir else human_size(e.size)
        click.echo(f"{size:>10}  {e.name}{'/' if e.is_dir else ''}")
