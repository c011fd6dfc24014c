"""The ``labvault`` console script.

Before the command line's own imports (a tenth of a second with a cold cache) it lets a
reading command (status) start its read-ahead helper (``api.prefetch_for``), then runs the command.
"""

from __future__ import annotations

import sys


def _command(args: list[str]) -> str | None:
    """The command word: the first argument that is not an option (the top-level options are flags)."""
    for a in args:
        if a == "--":
            return None
        if not a.startswith("-"):
            return a
    return None


def main() -> None:
    args = sys.argv[1:]
    command = _command(args)
    if command is not None and not {"-c", "--cloud", "-h", "--help"} & set(args):
        from labvault.api.startup import prefetch_for

        prefetch_for(command)
    from labvault.cli.main import main as run

    run()


if __name__ == "__main__":
    main()
