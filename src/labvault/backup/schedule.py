"""``backup schedule``: print, install or uninstall the files that run ``labvault backup run POLICY``.

Kinds: ``cron`` writes ``/etc/cron.d/labvault-<policy>`` (as the current user; dots in the name
become ``_`` because cron skips such files); ``systemd`` writes ``labvault-backup-<policy>.service``
and ``.timer`` under ``/etc/systemd/system``, or with ``user`` under
``~/.config/systemd/user``. ``root`` prefixes every path (a test or an image build installs into a
folder). Install is idempotent: a file already holding the same text is left alone, each file is
written atomically. Uninstall removes a file only when it starts with ``schedule_units.MARK`` (what
labvault wrote), and reports the others. Nothing else is touched: enabling the timer
(``systemctl daemon-reload; systemctl enable --now <name>.timer``) is left to the user, whose
command is in the result.
"""

from __future__ import annotations

import getpass
import os
import shutil
import sys
from dataclasses import dataclass

from labvault.backup.schedule_units import MARK, UnitFile, cron_file, systemd_files, unit_name
from labvault.errors import UsageError, from_os_error
from labvault.fsutil import atomic_write_bytes

KINDS = ("cron", "systemd")


@dataclass(frozen=True)
class ScheduleFile:
    policy: str
    path: str
    action: str  # print, written, unchanged, removed, absent, kept (not ours), would-write, would-remove
    text: str


def labvault_command() -> str:
    here = os.path.join(os.path.dirname(sys.executable), "labvault")
    return here if os.path.exists(here) else (shutil.which("labvault") or "labvault")


def files_for(policy: str, schedule: str, kind: str, user: bool, lab_file: str | None) -> list[UnitFile]:
    if kind not in KINDS:
        raise UsageError(f"unknown schedule kind {kind!r}", "use --kind cron or --kind systemd")
    command = [labvault_command(), "--quiet", "backup", "run", policy]
    env = {"LABVAULT_LAB": lab_file} if lab_file else {}
    if kind == "cron":
        if user:
            raise UsageError("--user works with --kind systemd (a user timer)",
                             "use --kind systemd --user, or install the cron.d file as root")
        return [cron_file(policy, schedule, getpass.getuser(), command, env)]
    folder = ".config/systemd/user" if user else "etc/systemd/system"
    return systemd_files(policy, schedule, folder, command, env)


def _where(root: str, rel: str, user: bool) -> str:
    base = root if root != "/" or not user else os.path.expanduser("~")
    return os.path.join(base, rel)


def apply(policy: str, files: list[UnitFile], action: str, root: str, user: bool, dry_run: bool
          ) -> list[ScheduleFile]:
    out = []
    for f in files:
        path = _where(root, f.path, user)
        try:
            out.append(_one(policy, path, f.text, action, dry_run))
        except OSError as exc:
            raise from_os_error(exc, "installing the schedule" if action == "install" else "removing the schedule") from exc
    return out


def _one(policy: str, path: str, text: str, action: str, dry_run: bool) -> ScheduleFile:
    if action == "print":
        return ScheduleFile(policy, path, "print", text)
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            current: str | None = fh.read()
    except FileNotFoundError:
        current = None
    if action == "install":
        if current == text:
            return ScheduleFile(policy, path, "unchanged", text)
        if current is not None and not current.startswith(MARK):
            raise UsageError(f"{path} exists and was not written by labvault", "remove or rename it first")
        if dry_run:
            return ScheduleFile(policy, path, "would-write", text)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        atomic_write_bytes(path, text.encode())
        os.chmod(path, 0o644)
        return ScheduleFile(policy, path, "written", text)
    if current is None:
        return ScheduleFile(policy, path, "absent", "")
    if not current.startswith(MARK):
        return ScheduleFile(policy, path, "kept (not written by labvault)", "")
    if dry_run:
        return ScheduleFile(policy, path, "would-remove", current)
    os.unlink(path)
    return ScheduleFile(policy, path, "removed", current)


def next_step(kind: str, policy: str, user: bool, action: str) -> str | None:
    if kind != "systemd" or action == "print":
        return None
    ctl = "systemctl --user" if user else "systemctl"
    if action == "install":
        return f"{ctl} daemon-reload && {ctl} enable --now {unit_name(policy)}.timer"
    return f"{ctl} disable --now {unit_name(policy)}.timer (before uninstalling), then {ctl} daemon-reload"
