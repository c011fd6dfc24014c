"""Scheduled backups: the cron line or systemd timer that runs ``labvault backup run POLICY``::

    from labvault import api

    for r in api.backup_schedule(action="print", kind="systemd"):
        for f in r.files:
            print(f.path, f.text, sep="\\n")
    api.backup_schedule("daily", action="install", kind="cron")     # /etc/cron.d/labvault-daily
    api.backup_schedule("daily", action="uninstall", kind="cron")   # exactly what install wrote

``root`` prefixes every path (install into a folder); the format is in docs/design.md
("Backup schedule").
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from labvault.backup.schedule import ScheduleFile, apply, files_for, next_step
from labvault.errors import ConfigError, UsageError
from labvault.tiers import load as _load

PathLike = str | os.PathLike[str]

__all__ = ["ScheduleFile", "ScheduleResult", "backup_schedule"]

ACTIONS = ("print", "install", "uninstall")


@dataclass(frozen=True)
class ScheduleResult:
    policy: str
    schedule: str
    kind: str
    files: tuple[ScheduleFile, ...]
    next_step: str | None

    def to_json(self) -> dict[str, Any]:
        return {"policy": self.policy, "schedule": self.schedule, "kind": self.kind, "next_step": self.next_step,
                "files": [{"path": f.path, "action": f.action, "text": f.text} for f in self.files]}


def backup_schedule(policy: str | None = None, action: str = "print", kind: str = "cron", user: bool = False,
                    root: PathLike = "/", dry_run: bool = False, lab: PathLike | None = None) -> list[ScheduleResult]:
    """Print, install or uninstall the schedule of ``policy`` (default: every policy with a ``schedule:``)."""
    if action not in ACTIONS:
        raise UsageError(f"unknown action {action!r}", "use print, install or uninstall")
    config = _load.load_lab(lab)
    if policy is not None:
        chosen = [config.backup(policy)]
        if chosen[0].schedule is None:
            raise ConfigError(f"backup policy {policy!r} has no schedule", "add `schedule: '0 2 * * *'` (or @daily)")
    else:
        chosen = [p for p in config.backups if p.schedule is not None]
        if not chosen:
            raise ConfigError(f"no backup policy of {config.source or 'the lab config'} has a schedule",
                              "add `schedule: '0 2 * * *'` (or @daily) to a policy")
    lab_file = os.path.abspath(config.source) if config.source else None
    out = []
    for p in chosen:
        assert p.schedule is not None
        files = files_for(p.name, p.schedule, kind, user, lab_file)
        done = apply(p.name, files, action, os.fspath(root), user, dry_run)
        out.append(ScheduleResult(p.name, p.schedule, kind, tuple(done), next_step(kind, p.name, user, action)))
    return out
