"""The files ``backup schedule`` writes for a policy: a cron.d file, or a systemd service and timer.

A policy's ``schedule:`` is a cron expression (five fields) or one of cron's ``@`` names. For
systemd it becomes ``OnCalendar=`` lines with cron's meaning: every field is expanded to its
values (so steps, ranges and lists mean exactly what cron means), weekday 7 is Sunday like 0, and
when both day of month and weekday are restricted (neither field starts with ``*``) cron runs on
either, so the timer gets one ``OnCalendar=`` for each; otherwise both must match, as in one line. ``@weekly`` is Sunday midnight as in cron (systemd's ``weekly`` would be
Monday). Every file starts with ``MARK``: ``--uninstall`` removes only files that carry it.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from labvault.errors import ConfigError

MARK = "# Installed by `labvault backup schedule`"
_NAMES = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
          "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
_SYSTEMD_DAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
_FIELDS = (("minute", 0, 59, ()), ("hour", 0, 23, ()), ("day of month", 1, 31, ()), ("month", 1, 12, _MONTHS),
           ("weekday", 0, 7, _DAYS))


@dataclass(frozen=True)
class UnitFile:
    path: str  # relative to the install root ("etc/cron.d/labvault-daily")
    text: str


def _value(text: str, low: int, names: Sequence[str], what: str, expr: str) -> int:
    t = text.lower()
    if t in names:
        return list(names).index(t) + (1 if low == 1 else 0)
    if not t.isdigit():
        raise ConfigError(f"schedule {expr!r}: {text!r} is not a {what}", "see `man 5 crontab`")
    return int(t)


def expand(field: str, low: int, high: int, names: Sequence[str], what: str, expr: str) -> list[int]:
    out: set[int] = set()
    for part in field.split(","):
        rng, _, step_s = part.partition("/")
        step = int(step_s) if step_s.isdigit() and int(step_s) > 0 else (1 if not step_s else 0)
        if step == 0:
            raise ConfigError(f"schedule {expr!r}: bad step in {part!r}", "write */N with N >= 1")
        if rng in ("*", "?"):
            a, b = low, high
        elif "-" in rng:
            x, _, y = rng.partition("-")
            a, b = _value(x, low, names, what, expr), _value(y, low, names, what, expr)
        else:
            a = _value(rng, low, names, what, expr)
            b = high if step_s else a
        if not (low <= a <= high and low <= b <= high and a <= b):
            raise ConfigError(f"schedule {expr!r}: {part!r} is out of range for the {what} ({low}-{high})")
        out.update(range(a, b + 1, step))
    return sorted(out)


def cron_fields(expr: str) -> list[str]:
    fields = _NAMES.get(expr.strip(), expr).split()
    if len(fields) != 5:
        raise ConfigError(f"schedule {expr!r} is not a cron expression", "give five fields or @daily etc.")
    return fields


def on_calendar(expr: str) -> list[str]:
    """systemd ``OnCalendar=`` values that fire exactly when cron would run ``expr``."""
    fields = cron_fields(expr)
    vals = [expand(f, lo, hi, names, what, expr) for f, (what, lo, hi, names) in zip(fields, _FIELDS, strict=True)]
    minute, hour, dom, month, dow = vals
    days = sorted({d % 7 for d in dow})

    def join(xs: list[int], lo: int, hi: int, width: int) -> str:
        return "*" if xs == list(range(lo, hi + 1)) else ",".join(f"{x:0{width}d}" for x in xs)

    time_part = f"{join(hour, 0, 23, 2)}:{join(minute, 0, 59, 2)}:00"
    date = f"*-{join(month, 1, 12, 2)}"
    weekdays = "" if days == list(range(7)) else ",".join(_SYSTEMD_DAYS[d] for d in days) + " "
    both = f"{weekdays}{date}-{join(dom, 1, 31, 2)} {time_part}"
    if fields[2].startswith("*") or fields[4].startswith("*"):
        return [both]  # cron (vixie): a field starting with * means both must match
    by_dom = f"{date}-{join(dom, 1, 31, 2)} {time_part}"
    by_dow = f"{weekdays}{date}-* {time_part}"
    return [by_dom, by_dow]  # cron: either matches


def unit_name(policy: str) -> str:
    return f"labvault-backup-{policy}"


def cron_file(policy: str, schedule: str, user: str, command: list[str], env: dict[str, str]) -> UnitFile:
    cron_fields(schedule)
    name = "labvault-" + re.sub(r"[^A-Za-z0-9_-]", "_", policy)  # cron ignores names with dots
    envs = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(env.items()))
    text = (f"{MARK} for backup policy {policy}; remove with `labvault backup schedule --uninstall {policy}`\n"
            "SHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
            f"{schedule} {user} {envs} {shlex.join(command)}\n")
    return UnitFile(f"etc/cron.d/{name}", text)


def systemd_files(policy: str, schedule: str, folder: str, command: list[str], env: dict[str, str]
                  ) -> list[UnitFile]:
    name = unit_name(policy)
    envs = "".join(f"Environment={shlex.quote(f'{k}={v}')}\n" for k, v in sorted(env.items()))
    service = (f"{MARK} for backup policy {policy}\n[Unit]\nDescription=labvault backup run {policy}\n"
               "After=network-online.target\nWants=network-online.target\n\n"
               f"[Service]\nType=oneshot\n{envs}ExecStart={shlex.join(command)}\nNice=10\nIOSchedulingClass=idle\n")
    cal = "".join(f"OnCalendar={c}\n" for c in on_calendar(schedule))
    timer = (f"{MARK} for backup policy {policy}\n[Unit]\nDescription=Schedule of labvault backup policy {policy}\n\n"
             f"[Timer]\n{cal}Persistent=true\nUnit={name}.service\n\n[Install]\nWantedBy=timers.target\n")
    return [UnitFile(f"{folder}/{name}.service", service), UnitFile(f"{folder}/{name}.timer", timer)]
