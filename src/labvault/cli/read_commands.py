"""Commands that bring data here from another repository or a URL: get, import, update, get-url,
import-url."""

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
@click.option("--no-exec", is_flag=True, help="Only write the .dvc file (the source is not read); `update` imports it.")
@click.option("--no-download", is_flag=True,
              help="Write the .dvc file with the locked commit, download nothing; `fetch`/`pull` bring the data.")
@json_option
@click.pass_context
def import_(ctx: click.Context, repo: str, path: str, out: str | None, rev: str | None, remote: str | None,
            jobs: int | None, no_exec: bool, no_download: bool, as_json: bool) -> None:
    """Download a tracked file or folder of another repository and record its source in OUT.dvc.

    The .dvc file (`deps: repo: url, rev, rev_lock`, `frozen: true`) is the one dvc writes; `dvc
    update`/`dvc pull` understand it, and `labvault update` moves it to a newer revision.

    \b
    Example:
      labvault import https://github.com/lab/datasets images/cats -o data/cats --rev v3
      git add data/cats.dvc data/.gitignore
      labvault import --no-download ../datasets images/dogs   # record now, `pull` later
    """
    r = api.import_(repo, path, out, rev, remote, jobs, progress=_state(ctx).progress, no_exec=no_exec,
                    no_download=no_download)
    if as_json:
        emit_json(r)
        return
    if r.oid is None:
        if r.rev_lock:
            click.echo(f"recorded {r.path} at commit {r.rev_lock[:10]} in {r.pointer} "
                       f"(not downloaded: `labvault pull {r.pointer}` downloads it)")
        else:
            click.echo(f"recorded {r.path} in {r.pointer} (not downloaded: `labvault update {r.pointer}` imports it)")
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

    Imports of a URL (`import-url`) are downloaded again when the source's checksum (md5 of a
    local file, ETag of an object) changed. Without TARGETS, every import of the repository; a
    URL import reading a local path outside the repository must be named. An output changed
    here is refused (exit 4).

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
        click.echo(f"{r.pointer}: {what}" + (f" at commit {r.rev_lock[:10]}" if r.rev_lock else ""))


def _fs_config(values: tuple[str, ...]) -> dict[str, str]:
    config = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--fs-config")
        config[name.strip()] = value
    return config


fs_config_option = click.option(
    "--fs-config", "fs_config", multiple=True, metavar="NAME=VALUE",
    help="A storage option for the source (endpointurl, region, profile, ...); repeatable. Recorded in the .dvc file.",
)


@cli.command("import-url")
@click.argument("url")
@click.argument("out", required=False)
@click.option("-f", "--force", is_flag=True, help="Replace an existing output and .dvc file (content not in the cache is never replaced).")
@click.option("--no-exec", is_flag=True, help="Only write the .dvc file (no checksum, the source not read); "
                                               "`labvault update` downloads it.")
@click.option("--no-download", is_flag=True, help="Write the .dvc file with the source's checksum, download nothing; "
                                                   "`labvault update` downloads it.")
@click.option("--to-remote", is_flag=True, help="Send the data straight to a remote (not the cache, not the "
                                                 "workspace) and write the .dvc file, as dvc; `pull` brings it later.")
@click.option("-r", "--remote", metavar="NAME", help="With --to-remote: the remote (default: the default remote).")
@jobs_option
@fs_config_option
@json_option
@click.pass_context
def import_url(ctx: click.Context, url: str, out: str | None, force: bool, no_exec: bool, no_download: bool,
               jobs: int | None, fs_config: tuple[str, ...], to_remote: bool, remote: str | None,
               as_json: bool) -> None:
    """Download a file or folder from a local path or an s3://, gs://, azure:// URL (or one file
    from an http(s):// URL), store it in the cache and record its source in OUT.dvc, as
    `dvc import-url`.

    The .dvc file records the source's checksum (md5 of a local file, the storage's ETag of an
    object, for an http(s) URL what dvc records: the ETag, else a token of the headers) and
    `frozen: true`; `labvault update` downloads it again when the source changed, and
    `dvc update` reads it too. OUT defaults to the source's name (inside OUT when OUT is a folder).

    \b
    Example:
      labvault import-url s3://lab-raw/2024/scans data/scans
      labvault import-url /mnt/nfs/shared/labels.csv data/
      labvault import-url s3://bucket/x.csv --fs-config endpointurl=http://minio:9000
      labvault import-url --no-exec s3://lab-raw/2025/scans data/scans   # later: labvault update
      labvault import-url https://example.org/datasets/iris.csv data/
      labvault import-url --to-remote s3://raw/2025 data/raw   # straight to the remote; pull later
      git add data/scans.dvc data/.gitignore
    """
    r = api.import_url(url, out, force, _fs_config(fs_config), jobs, no_exec=no_exec, no_download=no_download,
                       progress=_state(ctx).progress, to_remote=to_remote, remote=remote)
    if as_json:
        emit_json(r)
        return
    if r.oid is None:
        click.echo(f"recorded {r.source} -> {r.path} in {r.pointer} (not downloaded: `labvault update "
                   f"{r.pointer}` downloads it); track {r.pointer} with git")
        return
    where = " to the remote (`labvault pull` brings it here)" if to_remote else ""
    click.echo(f"imported {r.path} ({r.files} file(s), {human_size(r.bytes)}) from {r.source}{where}; "
               f"track {r.pointer} with git")


@cli.command("get-url")
@click.argument("url")
@click.argument("out", required=False)
@jobs_option
@fs_config_option
@json_option
@click.pass_context
def get_url(ctx: click.Context, url: str, out: str | None, jobs: int | None, fs_config: tuple[str, ...],
            as_json: bool) -> None:
    """Download a file or folder from a local path or an s3://, gs://, azure:// URL (or one file
    from an http(s):// URL), as `dvc get-url`: nothing is tracked. No repository is needed. The
    result appears only when complete.

    \b
    Example:
      labvault get-url s3://lab-raw/2024/labels.csv
      labvault get-url gs://lab-models/bert/ models/
      labvault get-url https://example.org/datasets/iris.csv
    """
    r = api.download_url(url, out, _fs_config(fs_config), jobs, progress=_state(ctx).progress)
    if as_json:
        emit_json(r)
        return
    click.echo(f"{r.path}: {r.files} file(s), {human_size(r.bytes)}")
