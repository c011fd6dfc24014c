"""What a repository holds: ``list`` (this repository's tracked outputs, or, given a URL, the
files and outputs of any repository, as ``dvc list``) and ``du`` (disk usage, as ``dvc du``)."""

from __future__ import annotations

import click

from labvault import api
from labvault.cli.main import cli, emit_json, human_size, json_option
from labvault.errors import UsageError

rev_option = click.option("--rev", help="Git revision (commit, branch, tag); default: the workspace of a local "
                                        "repository, else HEAD.")
remote_option = click.option("--remote", help="The repository's remote to read folder manifests from "
                                              "(default: its core.remote).")


def dvc_size(value: int) -> str:
    """A size as ``dvc list --size`` and ``dvc du`` print it: bytes below 1024, else three
    significant digits in units of 1024 (``3.91k``, ``2.38M``, ``120M``)."""
    if value < 1024:
        return f"{value:.0f}"
    num = float(value)
    for unit in ("", "k", "M", "G", "T", "P", "E", "Z"):
        if abs(num) < 999.5:
            if abs(num) < 99.95:
                return f"{num:1.2f}{unit}" if abs(num) < 9.995 else f"{num:2.1f}{unit}"
            return f"{num:3.0f}{unit}"
        num /= 1024
    return f"{num:3.1f}Y"


def table(rows: list[list[str]], right_first: bool) -> None:
    """Columns two spaces apart, each as wide as its widest cell; the first right-aligned when
    asked (sizes); no trailing spaces."""
    if not rows:
        return
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        cells = [c.rjust(w) if i == 0 and right_first else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))]
        click.echo("  ".join(cells).rstrip())


def _cells(size: int | None, isdir: bool, md5: str | None, name: str, with_size: bool, with_hash: bool) -> list[str]:
    row = []
    if with_size:
        row.append("" if size is None or (isdir and size <= 0) else dvc_size(size))
    if with_hash:
        row.append(md5 or "-")
    row.append(name)
    return row


@cli.command(name="list")
@click.argument("url", required=False)
@click.argument("path", required=False)
@click.option("-R", "--recursive", is_flag=True, help="Every file below PATH, not only its entries.")
@click.option("-T", "--tree", "as_tree", is_flag=True, help="Draw PATH and everything below it as a tree.")
@click.option("-L", "--level", type=click.IntRange(0), metavar="DEPTH", help="Descend at most DEPTH levels.")
@click.option("--dvc-only", is_flag=True, help="Only tracked outputs (and the folders holding them).")
@click.option("--size", "with_size", is_flag=True, help="Show sizes.")
@click.option("--show-hash", "with_hash", is_flag=True, help="Show each output's md5.")
@rev_option
@remote_option
@json_option
def list_cmd(url: str | None, path: str | None, recursive: bool, as_tree: bool, level: int | None, dvc_only: bool,
             with_size: bool, with_hash: bool, rev: str | None, remote: str | None, as_json: bool) -> None:
    """List what a repository holds: with URL (a folder or a git URL), its files and tracked
    outputs at PATH, as `dvc list URL PATH`; without, this repository's tracked outputs with
    their recorded hashes, sizes and file counts.

    Tracked folders are listed from their manifests (read from the cache or the remote); nothing
    is checked out. Without --rev, a local repository is listed as its workspace holds it.

    \b
    Example:
      labvault list https://github.com/lab/registry data --rev v2
      labvault list . models -R --size --show-hash
      labvault list . --tree -L 2 --dvc-only
      labvault list                    # this repository's outputs, hashes and sizes
    """
    if url is None:
        if path or recursive or as_tree or level is not None or dvc_only or with_size or with_hash or rev or remote:
            raise UsageError("these options list a repository: give its URL (`.` for this one)",
                             "e.g. `labvault list . data -R`")
        _list_outputs(as_json)
        return
    if as_tree and as_json:
        raise UsageError("--tree and --json cannot be used together", "drop one of them")
    if as_tree:
        rows = api.list_tree(url, path, rev=rev, dvc_only=dvc_only, level=level, remote=remote)
        table([_cells(r.entry.size, r.entry.isdir, r.entry.md5, _branch(r) + r.entry.path, with_size, with_hash)
               for r in rows], right_first=with_size)
        return
    entries = api.list_repo(url, path, rev=rev, recursive=recursive, dvc_only=dvc_only, level=level, remote=remote)
    if as_json:
        emit_json(entries)
    elif with_size or with_hash:
        table([_cells(e.size, e.isdir, e.md5, e.path, with_size, with_hash) for e in entries], right_first=with_size)
    else:
        for e in entries:
            click.echo(e.path)


def _branch(row: api.TreeRow) -> str:
    """The tree drawing in front of a row's name: a line for each open folder above, then its branch."""
    if row.depth == 0:
        return ""
    above = "".join("    " if last else "│   " for last in row.last[:-1])
    return above + ("└── " if row.last[-1] else "├── ")


def _list_outputs(as_json: bool) -> None:
    items = api.list_outputs()
    if as_json:
        emit_json(items)
        return
    if not items:
        click.echo("No tracked outputs.")
        return
    width = max(len(i.path) for i in items)
    click.echo(f"{'path'.ljust(width)}  {'size':>10}  {'files':>7}  {'hash':<36}  cache  recorded in")
    for i in items:
        files = str(i.nfiles) if i.nfiles is not None else "1"
        where = f"{i.pointer} ({i.stage})" if i.stage else i.pointer
        click.echo(
            f"{i.path.ljust(width)}  {human_size(i.size):>10}  {files:>7}  {(i.oid or '-'):<36}  "
            f"{'yes' if i.in_cache else 'no':<5}  {where}"
        )


@cli.command()
@click.argument("url")
@click.argument("path", required=False)
@click.option("-s", "--summarize", is_flag=True, help="Only the total.")
@rev_option
@remote_option
@json_option
def du(url: str, path: str | None, summarize: bool, rev: str | None, remote: str | None, as_json: bool) -> None:
    """Disk usage of a repository's files and tracked outputs (URL: a folder or a git URL), as
    `dvc du`: each entry of PATH with the bytes below it, then PATH's total.

    Tracked folders count the size their .dvc file or dvc.lock records; .dvc files, dvc.yaml,
    dvc.lock and .dvcignore are not counted.

    \b
    Example:
      labvault du . data
      labvault du https://github.com/lab/registry --rev v2 -s
    """
    rows = api.disk_usage(url, path, rev=rev, summarize=summarize, remote=remote)
    if as_json:
        emit_json(rows)
        return
    table([[dvc_size(r.size), r.path] for r in rows], right_first=False)
