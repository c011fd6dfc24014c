"""``labvault backup ...`` as a user runs it: JSON shapes, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.conftest import Runner


def _lab(tmp_path: Path, env: dict[str, str]) -> tuple[Path, Path]:
    src = tmp_path / "data"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("a")
    (src / "sub" / "b.bin").write_bytes(os.urandom(5000))
    lab = tmp_path / "lab.yaml"
    lab.write_text(f"""
tiers: {{hot: {{path: {tmp_path}}}}}
catalog_url: sqlite:///{tmp_path / 'catalog.sqlite'}
backups:
  - {{name: daily, sources: [{src}], target: {tmp_path / 'target'}, retention: {{keep_last: 1}}}}
""")
    env["LABVAULT_LAB"] = str(lab)
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    env.pop("LABVAULT_CATALOG_URL", None)
    return src, lab


def test_backup_commands_end_to_end(tmp_path: Path, lv: Runner, env: dict[str, str]) -> None:
    src, _lab_file = _lab(tmp_path, env)
    dry = json.loads(lv("backup", "run", "--dry-run", "--json").stdout)
    assert dry[0]["snapshot"] is None and dry[0]["objects_added"] == 2
    assert not (tmp_path / "target" / "snapshots").exists()
    first = json.loads(lv("backup", "run", "daily", "--json").stdout)[0]
    second = json.loads(lv("backup", "run", "--json").stdout)[0]
    assert (second["objects_added"], second["hashed_files"], second["cached_files"]) == (0, 0, 2)
    listed = json.loads(lv("backup", "list", "--json").stdout)
    assert [s["id"] for s in listed] == [first["snapshot"], second["snapshot"]]
    assert "daily" in lv("backup", "list").stdout
    out = tmp_path / "out"
    restored = json.loads(lv("backup", "restore", first["snapshot"][:20], "data/sub", "--to", str(out), "--verify",
                             "--json").stdout)
    assert restored["files"] == 1 and (out / "data" / "sub" / "b.bin").read_bytes() == (src / "sub" / "b.bin").read_bytes()
    check = json.loads(lv("backup", "check", "--read-data", "--json").stdout)
    assert check[0]["ok"] and check[0]["objects_read"] == 3
    drill = json.loads(lv("backup", "drill", "--json").stdout)
    assert drill["ok"] and drill["recorded"] and drill["sampled"] == 2
    plan = json.loads(lv("backup", "forget", "--dry-run", "--json").stdout)
    assert plan[0]["removed"] == [first["snapshot"]]
    assert len(json.loads(lv("backup", "list", "--json").stdout)) == 2
    lv("backup", "forget")
    pruned = json.loads(lv("backup", "prune", "--json").stdout)
    assert pruned[0]["deleted"] == 0 and pruned[0]["snapshots"] == 1

    # damage: check and drill exit 1 naming what is hurt
    obj = next(p for p in (tmp_path / "target" / "files" / "md5").glob("??/*") if p.stat().st_size == 5000)
    obj.unlink()
    proc = lv("backup", "check", check=False)
    assert proc.returncode == 1 and "missing object" in proc.stdout and "data/sub/b.bin" in proc.stdout
    assert lv("backup", "drill", check=False).returncode == 1


def test_bad_input_is_one_line(tmp_path: Path, lv: Runner, env: dict[str, str]) -> None:
    _lab(tmp_path, env)
    for args, code, text in [
        (("backup", "run", "weekly"), 2, "no backup policy named 'weekly'"),
        (("backup", "restore", "nope", "--to", str(tmp_path / "o")), 2, "no snapshot 'nope'"),
        (("backup", "check", "--read-data-subset", "4/3"), 2, "invalid subset 4/3"),
    ]:
        proc = lv(*args, check=False)
        assert proc.returncode == code, proc.stderr
        assert proc.stderr.startswith("error: ") and text in proc.stderr and proc.stderr.count("\n") == 1
        assert "Traceback" not in proc.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("tiers: {hot: {path: /x}}\nbackups:\n  - {name: d, sources: [rel], target: /t}\n")
    proc = lv("backup", "run", "--lab", str(bad), check=False)
    assert proc.returncode == 2 and "backups[0].sources[0]" in proc.stderr and proc.stderr.count("\n") == 1
