"""``labvault`` command line. Each command parses its options, calls one api function, prints."""

from __future__ import annotations

import io
import json
import sys
from typing import Any

import click

from labvault import __version__
from labvault.api.jsonshape import to_json
from labvault.cli.progress import make_progress, stop
from labvault.errors import LabvaultError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class _Sink(io.TextIOBase):
    """Where ``-q`` sends what a command prints on stdout (its errors go to stderr, as always)."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return len(text)


class State:
    def __init__(self, quiet: bool, verbose: bool) -> None:
        self.quiet = False
        self.verbose = verbose
        self.progress = make_progress(quiet)
        self.stdout: Any = None  # the real stdout while -q silences it
        if quiet:
            self.turn_on("quiet")

    def turn_on(self, flag: str) -> None:
        """``-q``/``-v``, before or after the command (``labvault push -q``, as dvc takes them).
        ``-q``: no progress bars and nothing on stdout but what ``--json`` asks for; errors and
        warnings still go to stderr."""
        if flag == "verbose":
            self.verbose = True
        elif not self.quiet:
            stop(self.progress)
            self.quiet = True
            self.progress = make_progress(True)
            self.stdout = sys.stdout
            sys.stdout = _Sink()

    def close(self) -> None:
        """At the end of the command: progress bars stopped, stdout given back."""
        stop(self.progress)
        if self.stdout is not None:
            sys.stdout = self.stdout
            self.stdout = None


# every command that prints data takes --json
json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


def emit_json(value: Any) -> None:
    """``--json`` output: indented on a terminal, one compact line otherwise (as dvc prints it;
    the standard library's C encoder only serves compact output, about 3x faster on big lists)."""
    import sys

    ctx = click.get_current_context(silent=True)
    state = ctx.find_root().obj if ctx is not None else None
    out = state.stdout if isinstance(state, State) and state.stdout is not None else sys.stdout  # -q keeps --json
    indent = 2 if out.isatty() else None
    click.echo(json.dumps(to_json(value), indent=indent, ensure_ascii=False), file=out)


def human_size(n: int | None) -> str:
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


# Which module defines each command: a command line imports only the module it runs (the rest
# cost start-up time on every call). tests/unit/test_cli_lazy.py checks this against the modules.
COMMAND_MODULES = {
    **dict.fromkeys(
        ("add", "checkout", "commit", "config", "diff", "doctor", "init", "move", "remove", "status", "verify",
         "version"),
        "commands",
    ),
    **dict.fromkeys(("dag", "metrics", "params", "plots", "repro"), "pipeline_commands"),
    **dict.fromkeys(("fetch", "pull", "push", "remote"), "remote_commands"),
    **dict.fromkeys(("card", "names"), "project_commands"),
    **dict.fromkeys(("get", "import", "update", "get-url", "import-url"), "read_commands"),
    **dict.fromkeys(("install", "git-hook", "root", "check-ignore", "completion"), "setup_commands"),
    **dict.fromkeys(("cp", "ls"), "storage_commands"),
    "cache": "cache_commands",
    **dict.fromkeys(("stage", "freeze", "unfreeze"), "stage_commands"),
    "data": "data_commands",
    **dict.fromkeys(("list", "du"), "listing_commands"),
    "gc": "gc_commands",
    "catalog": "catalog_commands",
    "backup": "backup_commands",
    "checksums": "checksum_commands",
    "convert": "convert_commands",
    **dict.fromkeys(("lab", "tier", "where"), "lab_commands"),
    **dict.fromkeys(("promote", "demote"), "move_commands"),
    "monitor": "monitor_commands",
    **dict.fromkeys(("protect", "unprotect"), "protect_commands"),
    "access": "access_commands",
    **dict.fromkeys(("lifecycle", "cost"), "lifecycle_commands"),
    **dict.fromkeys(("serve", "token", "user"), "web_commands"),
}


def load_commands(names: list[str] | None = None) -> None:
    """Import the modules that define ``names`` (default: every command)."""
    import importlib

    for module in sorted({COMMAND_MODULES[n] for n in (names or COMMAND_MODULES) if n in COMMAND_MODULES}):
        importlib.import_module(f"labvault.cli.{module}")


def _turn_on(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        _state(ctx).turn_on(str(param.name).removeprefix("lv_"))


_AFTER_COMMAND = (("lv_quiet", "quiet", ("-q", "--quiet")), ("lv_verbose", "verbose", ("-v", "--verbose")))


def with_global_flags(cmd: click.Command) -> click.Command:
    """Let ``-q``/``-v`` follow the command too (``labvault repro -q``, as dvc users type them),
    unless the command has options of those names; a group's commands get them all. Hidden
    from each command's help: ``labvault --help`` lists them."""
    if getattr(cmd, "_lv_flags", False):
        return cmd
    cmd._lv_flags = True  # type: ignore[attr-defined]
    if isinstance(cmd, click.Group):
        for sub in cmd.commands.values():
            with_global_flags(sub)
        return cmd
    taken = {p.name for p in cmd.params} | {o for p in cmd.params for o in (*p.opts, *p.secondary_opts)}
    for key, name, opts in _AFTER_COMMAND:
        if name not in taken and not taken.intersection(opts):
            cmd.params.append(click.Option([key, *opts], is_flag=True, expose_value=False, hidden=True,
                                           callback=_turn_on))
    return cmd


class _LazyGroup(click.Group):
    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        load_commands([cmd_name])
        cmd = super().get_command(ctx, cmd_name)
        return with_global_flags(cmd) if cmd is not None else None

    def list_commands(self, ctx: click.Context) -> list[str]:
        load_commands()
        return super().list_commands(ctx)


@click.group(cls=_LazyGroup, context_settings=CONTEXT)
@click.option("-q", "--quiet", is_flag=True,
              help="Print only errors (and what --json asks for); no progress bars. `status -q` exits 1 when something changed.")
@click.option("-v", "--verbose", is_flag=True, help="Print more detail.")
@click.version_option(__version__, "-V", "--version", prog_name="labvault")
@click.pass_context
def cli(ctx: click.Context, quiet: bool, verbose: bool) -> None:
    """labvault: versioned datasets and models in DVC's formats, fast and safe.

    \b
    Example:
      git init && labvault init
      labvault add data/raw/dataset.csv data/images
      git add data && git commit -m "dataset v1"
      labvault status
    """
    ctx.obj = State(quiet, verbose)
    ctx.call_on_close(ctx.obj.close)


def _state(ctx: click.Context) -> State:
    obj: State = ctx.find_root().obj
    return obj


# The storage client libraries (and what they pull in) warn on stderr about their own settings,
# deprecations of their dependencies and unclosed sockets: noise to a user, whose errors reach
# them as one line anyway. Only those libraries' warnings, by category, are silenced; anything
# else (labvault's own, Python's) is shown.
STORAGE_LIBRARIES = (
    r"(boto3|botocore|aiobotocore|s3fs|s3transfer|gcsfs|google|adlfs|azure|fsspec|aiohttp|urllib3|"
    r"requests|dateutil)(\..*)?$"
)
STORAGE_NOISE = (DeprecationWarning, PendingDeprecationWarning, FutureWarning, UserWarning, ResourceWarning)


def quiet_storage_warnings() -> None:
    """Ignore the storage libraries' noise by category and module (the command line only: a
    library call leaves the caller's warning filters alone)."""
    import warnings

    for category in STORAGE_NOISE:
        warnings.filterwarnings("ignore", category=category, module=STORAGE_LIBRARIES)


def main(argv: list[str] | None = None) -> None:
    quiet_storage_warnings()
    try:
        rv = cli.main(args=argv, prog_name="labvault", standalone_mode=False)
        if isinstance(rv, int) and rv:
            sys.exit(rv)
    except LabvaultError as exc:
        click.echo(f"error: {exc.line()}", err=True)
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("error: interrupted; the repository is consistent, run the command again to finish", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        sys.exit(0)
    except (ConnectionError, TimeoutError) as exc:  # the network failed past the retries: one line
        from labvault.errors import RemoteError

        text = str(exc).strip().splitlines()
        unreachable = RemoteError(f"a remote could not be reached: {text[0] if text else type(exc).__name__}",
                                  "check the network and the remote's url and settings (`labvault remote list`)")
        click.echo(f"error: {unreachable.line()}", err=True)
        sys.exit(unreachable.exit_code)
    except PermissionError as exc:  # one a command did not expect: still one line, not a traceback
        from labvault.errors import from_os_error

        err = from_os_error(exc, "running the command")
        click.echo(f"error: {err.line()}", err=True)
        sys.exit(err.exit_code)
    sys.exit(0)


if __name__ == "__main__":
    main()
