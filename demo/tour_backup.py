"""The tour's backup part: a policy in the lab config, two snapshots, a restore, a drill.

The project's ``data/`` folder is backed up with labvault's own engine to a folder target inside the
demo folder; one file changes between the two runs, so the second run stores one object (and its
manifest) and reads nothing else. The first snapshot is then restored and compared byte for byte
with what ``data/`` held when it was taken, and a drill restores a random sample and records the
outcome in the catalog.

State: reads ``tour.state["lab"]`` (a lab config another part of the tour wrote, if any) and sets
``tour.state["backup_snapshots"]``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from tourkit import Tour, compare, md5_file

SOURCE = "data"
POLICY = "demo"
TARGET = "backup-target"


@contextmanager
def backup_env(tour: Tour) -> Iterator[Path]:
    """The lab config with the demo's backup policy, named by LABVAULT_LAB while the part runs; the
    backup stat cache goes to a folder of the demo, not the user's ~/.cache."""
    lab = Path(tour.state.get("lab") or tour.root / "lab.yaml")
    saved = {k: tour.env.get(k) for k in ("LABVAULT_LAB", "XDG_CACHE_HOME")}
    tour.env["LABVAULT_LAB"] = str(lab)
    tour.env["XDG_CACHE_HOME"] = str(tour.root / ".backup-cache")
    try:
        yield lab
    finally:
        for k, v in saved.items():
            if v is None:
                tour.env.pop(k, None)
            else:
                tour.env[k] = v


def write_policy(tour: Tour, lab: Path) -> dict[str, Any]:
    """Add the demo policy to ``lab`` (a minimal lab config when no other part wrote one)."""
    config: dict[str, Any] = yaml.safe_load(lab.read_text()) if lab.exists() else {}
    config.setdefault("tiers", {"hot": {"path": str(tour.root)}})
    policy = {"name": POLICY, "sources": [str(tour.root / SOURCE)], "target": str(tour.root / TARGET),
              "retention": {"keep_daily": 7, "keep_weekly": 4}}
    config["backups"] = [p for p in config.get("backups", []) if p.get("name") != POLICY] + [policy]
    lab.write_text(yaml.safe_dump(config, sort_keys=False))
    exclude = tour.root / ".git" / "info" / "exclude"  # keep git status quiet about the backup's files
    if exclude.parent.is_dir():
        with exclude.open("a") as f:
            f.write(f"/{TARGET}/\n/.backup-cache/\n/{lab.name}\n")
    return policy


def step_first_backup(tour: Tour) -> None:
    with tour.section("Back up the lab: a policy in the lab config, the first snapshot"), backup_env(tour) as lab:
        write_policy(tour, lab)
        tour.say(f"{lab.name} (LABVAULT_LAB) now holds a backup policy: {SOURCE}/ to the folder {TARGET}/")
        tour.run(["cat", str(lab)], display=f"cat {lab.name}")
        before = tour.snapshot(SOURCE)
        first = tour.labvault_json("backup", "run", POLICY)[0]
        tour.check(first["snapshot"] is not None, "backup run made a snapshot")
        tour.check(first["files"] == len(before), f"the snapshot holds the {len(before)} files of {SOURCE}/")
        tour.check(first["hashed_files"] == len(before), "the first run read every file")
        tour.state["backup_snapshots"] = [first["snapshot"]]
        tour.state["backup_before"] = before
        tour.found(f"snapshot {first['snapshot']}: {first['files']} files, {first['bytes']:,} bytes; "
                   f"{first['objects_added']} objects ({first['bytes_added']:,} bytes) stored on the target")


def step_second_backup(tour: Tour) -> None:
    with tour.section("Change one file and back up again: only the change is stored"), backup_env(tour):
        before: dict[str, str] = tour.state["backup_before"]
        victim = sorted(p for p in before if p.startswith("data/images/"))[0]
        path = tour.path(victim)
        tour.state["backup_changed"] = (victim, path.read_bytes())
        tmp = path.with_name(path.name + ".new")  # a new file renamed over: never an edit through a cache link
        tmp.write_bytes(path.read_bytes()[::-1] + b"edited")
        os.replace(tmp, path)
        tour.say(f"{victim} changed; everything else is as it was")
        second = tour.labvault_json("backup", "run", POLICY)[0]
        tour.check(second["hashed_files"] == 1, "only the changed file was read (the stat cache vouched for the rest)")
        tour.check(second["objects_added"] == 2, "two objects stored: the changed file and the new file list")
        small = path.stat().st_size + 64 * 1024
        tour.check(second["bytes_added"] < small, f"bytes added ({second['bytes_added']:,}) are about the one file")
        tour.state["backup_snapshots"].append(second["snapshot"])
        tour.labvault("backup", "list")
        listed = tour.labvault_json("backup", "list")
        tour.check([s["id"] for s in listed] == tour.state["backup_snapshots"], "backup list shows both snapshots")
        tour.found(f"second snapshot: {second['cached_files']} files vouched for by the stat cache, "
                   f"{second['bytes_added']:,} bytes added (the first run stored {second['bytes']:,} bytes of data)")


def step_restore_and_drill(tour: Tour) -> None:
    with tour.section("Restore the first snapshot (verified), then a drill"), backup_env(tour):
        first = tour.state["backup_snapshots"][0]
        out = tour.root.parent / f"{tour.root.name}-restored"
        tour.state["extra_dirs"].append(out)
        done = tour.labvault_json("backup", "restore", first[:20], "--to", str(out), "--verify")
        before: dict[str, str] = tour.state["backup_before"]
        tour.check(done["files"] == len(before), "restore wrote every file of the snapshot")
        got = {str(p.relative_to(out).as_posix()): md5_file(p) for p in (out / SOURCE).rglob("*") if p.is_file()}
        problems = compare(before, got)
        tour.check(not problems, f"the restored files equal {SOURCE}/ as it was, byte for byte ({problems[:5]})")
        victim, _ = tour.state["backup_changed"]
        tour.check(md5_file(tour.path(victim)) != got[victim], f"{victim} came back as it was before the change")
        drill = tour.labvault_json("backup", "drill", "--policy", POLICY, "--sample", "10")
        tour.check(drill["ok"] and drill["sampled"] == 10, "the drill restored 10 sampled files, all intact")
        tour.check(drill["recorded"], "the drill's outcome is recorded in the catalog")
        victim, original = tour.state["backup_changed"]
        tmp = tour.path(victim + ".orig")
        tmp.write_bytes(original)
        os.replace(tmp, tour.path(victim))  # the project's data as the rest of the tour knows it
        tour.found(f"{len(got)} files restored from {first} into {out.name}/ and read back (--verify); "
                   "the drill compared every sampled byte with the recorded md5")


STEPS: list[Callable[[Tour], None]] = [step_first_backup, step_second_backup, step_restore_and_drill]
