"""``labvault checksums write|check``: md5sum-compatible checksum files."""

from __future__ import annotations

import os

import click

from labvault import api
from labvault.cli.main import _state, cli, emit_json, json_option


def _helpers(processes: int | None) -> int:
    """Helper processes for small cached files: as asked, else one per core this process may use."""
    if processes is not None:
        return processes
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


_PROCESSES = click.option(
    "-p", "--processes", type=click.IntRange(1, 64),
    help="Processes hashing small files already in the page cache (default: one per core; 1: only this one).")


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


@cli.group(name="checksums")
def checksums_group() -> None:
    """Checksum files that `md5sum -c` accepts (and files `md5sum` wrote).

    \b
    Example:
      labvault checksums write data/raw -o data/raw.md5
      labvault checksums check data/raw.md5
      md5sum -c data/raw.md5
    """


@checksums_group.command(name="write")
@click.argument("paths", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the checksum file here (default: print it).")
@click.option("-j", "--jobs", type=click.IntRange(1, 256), help="Files hashed at a time (default: LABVAULT_JOBS or 4 per core).")
@_PROCESSES
@json_option
@click.pass_context
def write_cmd(ctx: click.Context, paths: tuple[str, ...], output: str | None, jobs: int | None, processes: int | None,
              as_json: bool) -> None:
    """md5 of every file named (folders: every file below, sorted), in md5sum's text format.

    Names are written as given, relative to the current folder; `md5sum -c` and `labvault
    checksums check` resolve them against the current folder, so check from the same place.
    The output file is written atomically and is left out when it lies inside a listed folder.

    \b
    Example:
      labvault checksums write data/raw -o data/raw.md5
      labvault checksums write model.pt config.yaml > SUMS.md5
    """
    r = api.checksums_write(list(paths), output=output, jobs=jobs, progress=_state(ctx).progress,
                            helpers=_helpers(processes))
    if as_json:
        emit_json({"output": r.output, "files": len(r.entries), "bytes": r.bytes,
                   "entries": [{"name": e.name, "md5": e.md5} for e in r.entries]})
    elif output is None:
        click.echo(r.text, nl=False)
    elif not _state(ctx).quiet:
        click.echo(f"wrote {output}: {_plural(len(r.entries), 'file', 'files')}", err=True)


@checksums_group.command(name="check")
@click.argument("file", type=click.Path(dir_okay=True))
@click.option("--quiet", "quiet", is_flag=True, help="Do not print a line for each file that is OK.")
@click.option("--strict", is_flag=True, help="Exit 1 when a line is improperly formatted.")
@click.option("-j", "--jobs", type=click.IntRange(1, 256), help="Files hashed at a time (default: LABVAULT_JOBS or 4 per core).")
@_PROCESSES
@json_option
@click.pass_context
def check_cmd(ctx: click.Context, file: str, quiet: bool, strict: bool, jobs: int | None, processes: int | None,
              as_json: bool) -> None:
    """Re-read every file FILE lists and compare its md5, as `md5sum -c FILE` does.

    Prints `NAME: OK`, `NAME: FAILED` (content differs) or `NAME: FAILED open or read`, then
    md5sum's WARNING lines on stderr; exit 1 when any file failed. Relative names resolve
    against the current folder, as with md5sum.

    \b
    Example:
      labvault checksums check data/raw.md5
      labvault checksums check SUMS.md5 --quiet || echo "corrupt or missing files"
    """
    from labvault.core.checksum_format import display_name

    r = api.checksums_check(file, jobs=jobs, strict=strict, progress=_state(ctx).progress,
                            helpers=_helpers(processes))
    if as_json:
        emit_json({"file": r.file, "ok": r.ok, "checked": r.checked, "passed": r.passed, "failed": list(r.failed),
                   "unreadable": list(r.unreadable), "improper_lines": list(r.improper_lines), "bytes": r.bytes,
                   "entries": [{"name": e.name, "md5": e.md5, "status": e.status, "error": e.error}
                               for e in r.entries]})
    else:
        out: list[str] = []  # result lines, encoded together (names are file-system bytes)
        words = {"ok": ": OK\n", "failed": ": FAILED\n", "unreadable": ": FAILED open or read\n"}
        for e in r.entries:
            if e.status == "ok" and quiet:
                continue
            if e.status == "unreadable":
                if out:
                    click.echo(os.fsencode("".join(out)), nl=False)
                    out = []
                click.echo(f"{display_name(e.name)}: {e.error}", err=True)
            out.append(display_name(e.name) + words[e.status])
        if out:
            click.echo(os.fsencode("".join(out)), nl=False)
    n = len(r.improper_lines)
    if n:
        click.echo(f"WARNING: {n} {'line is' if n == 1 else 'lines are'} improperly formatted", err=True)
    n = len(r.unreadable)
    if n:
        click.echo(f"WARNING: {n} listed {'file' if n == 1 else 'files'} could not be read", err=True)
    n = len(r.failed)
    if n:
        click.echo(f"WARNING: {n} computed {'checksum' if n == 1 else 'checksums'} did NOT match", err=True)
    if not r.ok:
        ctx.exit(1)
