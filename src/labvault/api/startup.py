"""Work a front end may start before it has parsed anything, to make the command itself faster."""

from __future__ import annotations

from labvault.workspace import prefetch

SCANNING_COMMANDS = ("status", "repro")


def prefetch_for(command: str, start_dir: str | None = None) -> None:
    """If ``command`` scans the workspace (status, repro), start a helper process listing the
    folders its last run scanned in the repository around ``start_dir`` (default: the current
    folder), before the command's own code is even imported; the scan takes its listings over.
    See ``labvault.workspace.prefetch``."""
    if command in SCANNING_COMMANDS:
        prefetch.start_early(command, start_dir)
