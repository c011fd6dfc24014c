"""Work a front end may start before it has parsed anything, to make the command itself faster."""

from __future__ import annotations

# Commands whose helper may start before the command runs: readers only. A writer's helper
# (repro) starts once the repo lock is held: what is listed before then would be dropped.
EARLY_COMMANDS = ("status",)


def prefetch_for(command: str, start_dir: str | None = None) -> None:
    """Opt in to read-ahead for ``command``: if it is ``status``, start a helper process (a
    fresh interpreter, see ``labvault.workspace.prefetch``) listing the folders its last run
    scanned in the repository around ``start_dir`` (default: the current folder), before the
    command's own code is even imported; the scan takes its listings over. The paths it scans
    are remembered for the next run when the process exits."""
    if command in EARLY_COMMANDS:
        from labvault.workspace import prefetch  # here: every other command starts without it

        prefetch.start_early(command, start_dir)
