"""``backup schedule``: cron.d files and systemd units installed into a temporary root, idempotent
installs, uninstall of exactly what was written, cron's meaning kept in systemd's ``OnCalendar``
(checked against a brute-force cron matcher, and by ``systemd-analyze`` when it is there)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labvault import api
from labvault.backup.schedule_units import MARK, expand, on_calendar
from labvault.errors import ConfigError, UsageError
from tests.conftest import Runner

ANALYZE = shutil.which("systemd-analyze")


def _lab(tmp_path: Path, schedule: str = "0 2 * * *") -> Path:
    lab = tmp_path / "lab.yaml"
    lab.write_text(f"""
tiers: {{hot: {{path: {tmp_path}}}}}
backups:
  - {{name: daily, sources: [{tmp_path}/data], target: {tmp_path}/t, schedule: "{schedule}"}}
  - {{name: v1.weekly, sources: [{tmp_path}/data], target: {tmp_path}/t, schedule: "@weekly"}}
  - {{name: manual, sources: [{tmp_path}/data], target: {tmp_path}/t}}
""")
    return lab


def test_cron_install_is_idempotent_and_uninstall_removes_exactly_it(tmp_path: Path) -> None:
    lab, root = _lab(tmp_path), tmp_path / "root"
    dry = api.backup_schedule(action="install", root=root, dry_run=True, lab=lab)
    assert [f.action for r in dry for f in r.files] == ["would-write", "would-write"] and not root.exists()
    first = api.backup_schedule(action="install", root=root, lab=lab)
    assert [r.policy for r in first] == ["daily", "v1.weekly"]  # `manual` has no schedule
    daily = root / "etc/cron.d/labvault-daily"
    text = daily.read_text()
    assert text.startswith(MARK) and f"LABVAULT_LAB={lab}" in text
    line = text.splitlines()[-1].split()
    assert line[:6] == ["0", "2", "*", "*", "*", os.environ.get("USER", line[5])]
    assert line[-4:] == ["backup", "run", "daily"][-4:] or line[-3:] == ["backup", "run", "daily"]
    assert (root / "etc/cron.d/labvault-v1_weekly").read_text().splitlines()[-1].startswith("@weekly ")
    again = api.backup_schedule(action="install", root=root, lab=lab)
    assert [f.action for r in again for f in r.files] == ["unchanged", "unchanged"]
    other = root / "etc/cron.d/someone-else"
    other.write_text("* * * * * root true\n")
    gone = api.backup_schedule("daily", action="uninstall", root=root, lab=lab)
    assert [f.action for f in gone[0].files] == ["removed"] and not daily.exists()
    assert sorted(os.listdir(root / "etc/cron.d")) == ["labvault-v1_weekly", "someone-else"]
    assert api.backup_schedule("daily", action="uninstall", root=root, lab=lab)[0].files[0].action == "absent"


def test_a_file_labvault_did_not_write_is_never_touched(tmp_path: Path) -> None:
    lab, root = _lab(tmp_path), tmp_path / "root"
    mine = root / "etc/cron.d/labvault-daily"
    mine.parent.mkdir(parents=True)
    mine.write_text("0 1 * * * root my own job\n")
    with pytest.raises(UsageError, match="not written by labvault"):
        api.backup_schedule("daily", action="install", root=root, lab=lab)
    assert api.backup_schedule("daily", action="uninstall", root=root, lab=lab)[0].files[0].action.startswith("kept")
    assert mine.read_text() == "0 1 * * * root my own job\n"


def test_systemd_units_install_and_verify(tmp_path: Path) -> None:
    lab, root = _lab(tmp_path, "*/15 8-18 * * mon-fri"), tmp_path / "root"
    res = api.backup_schedule("daily", action="install", kind="systemd", root=root, lab=lab)
    unit_dir = root / "etc/systemd/system"
    assert sorted(os.listdir(unit_dir)) == ["labvault-backup-daily.service", "labvault-backup-daily.timer"]
    timer = (unit_dir / "labvault-backup-daily.timer").read_text()
    assert "OnCalendar=Mon,Tue,Wed,Thu,Fri *-*-* 08,09,10,11,12,13,14,15,16,17,18:00,15,30,45:00" in timer
    assert res[0].next_step and "enable --now labvault-backup-daily.timer" in res[0].next_step
    if ANALYZE is None:
        assert os.environ.get("CI") != "true", "systemd-analyze is missing"
        return
    proc = subprocess.run([ANALYZE, "verify", str(unit_dir / "labvault-backup-daily.timer"),
                           str(unit_dir / "labvault-backup-daily.service")], capture_output=True, text=True)
    problems = [ln for ln in proc.stderr.splitlines() if "labvault-backup-daily" in ln]
    assert problems == [], proc.stderr
    user = api.backup_schedule("daily", action="install", kind="systemd", user=True, root=root, lab=lab)
    assert user[0].files[0].path.startswith(str(root / ".config/systemd/user"))
    api.backup_schedule("daily", action="uninstall", kind="systemd", root=root, lab=lab)
    assert os.listdir(unit_dir) == []


def test_schedule_errors(tmp_path: Path) -> None:
    lab = _lab(tmp_path)
    with pytest.raises(ConfigError, match="has no schedule"):
        api.backup_schedule("manual", lab=lab)
    with pytest.raises(UsageError, match="--user works with --kind systemd"):
        api.backup_schedule("daily", kind="cron", user=True, lab=lab)


def test_cli_print_and_json(tmp_path: Path, lv: Runner) -> None:
    lab = _lab(tmp_path)
    out = lv("backup", "schedule", "--print", "daily", "--kind", "systemd", "--lab", str(lab)).stdout
    assert "# etc/systemd/system/labvault-backup-daily.timer" not in out and "OnCalendar=*-*-* 02:00:00" in out
    data = json.loads(lv("backup", "schedule", "--lab", str(lab), "--root", str(tmp_path / "r"), "--install",
                         "--json").stdout)
    assert [d["files"][0]["action"] for d in data] == ["written", "written"]
    bad = lv("backup", "schedule", "manual", "--lab", str(lab), check=False)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "has no schedule" in bad.stderr


# --- cron's meaning in systemd's OnCalendar ------------------------------------------------------------

def cron_matches(expr: str, t: dt.datetime) -> bool:
    """The obvious matcher (vixie cron's rules), written independently of on_calendar."""
    m, h, dom, mon, dow = expr.split()
    f = [expand(m, 0, 59, (), "m", expr), expand(h, 0, 23, (), "h", expr), expand(dom, 1, 31, (), "d", expr),
         expand(mon, 1, 12, (), "M", expr), [d % 7 for d in expand(dow, 0, 7, (), "w", expr)]]
    wd = (t.weekday() + 1) % 7  # Python: Monday 0; cron: Sunday 0
    if dom.startswith("*") or dow.startswith("*"):
        day_ok = t.day in f[2] and wd in f[4]
    else:
        day_ok = t.day in f[2] or wd in f[4]
    return t.minute in f[0] and t.hour in f[1] and t.month in f[3] and day_ok


def systemd_matches(spec: str, t: dt.datetime) -> bool:
    """A reader of the OnCalendar subset on_calendar writes: [DAYS] *-MON-DOM HOUR:MIN:00."""
    parts = spec.split()
    days = None
    if len(parts) == 3:
        days = parts[0].split(",")
        parts = parts[1:]
    _y, mon, dom = parts[0].split("-")
    hour, minute, _s = parts[1].split(":")

    def ok(field: str, v: int) -> bool:
        return field == "*" or v in {int(x) for x in field.split(",")}

    names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    return ((days is None or names[t.weekday()] in days) and ok(mon, t.month) and ok(dom, t.day)
            and ok(hour, t.hour) and ok(minute, t.minute))


fields = st.tuples(
    st.sampled_from(["*", "0", "*/15", "5,35", "10-20/5"]),
    st.sampled_from(["*", "2", "8-18", "*/6", "0,12"]),
    st.sampled_from(["*", "1", "15", "1-7", "*/10"]),
    st.sampled_from(["*", "1", "6-8", "*/3"]),
    st.sampled_from(["*", "0", "7", "1-5", "6,0", "*/2"]),
).map(" ".join)


@settings(max_examples=80, deadline=None)
@given(expr=fields, start=st.integers(0, 365 * 24))
def test_on_calendar_fires_exactly_when_cron_would(expr: str, start: int) -> None:
    specs = on_calendar(expr)
    t0 = dt.datetime(2027, 1, 1) + dt.timedelta(hours=start)
    for minute in range(0, 3 * 24 * 60, 7):
        t = t0 + dt.timedelta(minutes=minute)
        assert cron_matches(expr, t) == any(systemd_matches(s, t) for s in specs), (expr, t, specs)


@pytest.mark.skipif(ANALYZE is None and os.environ.get("CI") != "true", reason="systemd-analyze is not installed")
@pytest.mark.parametrize("expr", ["0 2 * * *", "*/15 8-18 * * mon-fri", "30 4 1,15 * 5", "@weekly", "@hourly"])
def test_systemd_accepts_every_on_calendar(expr: str) -> None:
    for spec in on_calendar(expr):
        proc = subprocess.run([ANALYZE or "systemd-analyze", "calendar", spec], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
