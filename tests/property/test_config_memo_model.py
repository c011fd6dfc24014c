"""The kept config files and merged configs (config.py) against reading every file each time,
over random sequences of config writes, deletions and environment changes."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labvault import config
from labvault.config import LEVELS, Config, ConfigFile, level_file

FILES = ["repo", "local", "global-a", "global-b"]
VALUES = ["s3://x/1", "s3://x/2", "/tmp/c", "gs://long/er/value"]

ops = st.lists(st.one_of(
    st.tuples(st.just("write"), st.sampled_from(FILES), st.sampled_from(["core", "cache", "labvault"]),
              st.sampled_from(VALUES)),
    st.tuples(st.just("delete"), st.sampled_from(FILES)),
    st.tuples(st.just("global"), st.sampled_from(["a", "b"])),
    st.tuples(st.just("cache_type"), st.sampled_from([None, "copy", "hardlink"])),
), min_size=1, max_size=10)


def _file(root: Path, name: str, section: str) -> Path:
    folder = root / ".dvc" if name in ("repo", "local") else root / name
    base = "labvault" if section == "labvault" else "config"
    if name == "local":
        return folder / ("labvault.local.conf" if base == "labvault" else "config.local")
    return folder / ("labvault.conf" if base == "labvault" else "config")


def _uncached(dvc_dir: Path) -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    for level in LEVELS:
        for section in ("core", "labvault"):
            for name, values in ConfigFile.load(level_file(level, dvc_dir, section)).sections.items():
                merged.setdefault(name, {}).update(values)
    if "LABVAULT_CACHE_TYPE" in os.environ:
        merged.setdefault("cache", {})["type"] = os.environ["LABVAULT_CACHE_TYPE"]
    return merged


def _write(path: Path, section: str, value: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    key = "jobs_note" if section == "labvault" else ("remote" if section == "core" else "dir")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(f"[{section}]\n    {key} = {value}\n")
    os.replace(tmp, path)  # as ConfigFile.save does


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=ops)
def test_kept_configs_match_fresh_reads(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
                                        sequence: list[tuple[object, ...]]) -> None:
    root = tmp_path_factory.mktemp("cfg")
    (root / ".dvc").mkdir()
    # keep files however recently they changed: each step waits for the clock to tick instead
    monkeypatch.setattr(config, "_RACY_NS", 0)
    monkeypatch.setenv("LABVAULT_SYSTEM_CONFIG_DIR", str(root / "system"))
    monkeypatch.setenv("LABVAULT_GLOBAL_CONFIG_DIR", str(root / "global-a"))
    monkeypatch.delenv("LABVAULT_CACHE_TYPE", raising=False)
    config.forget_parsed()
    dvc_dir = root / ".dvc"
    for op in sequence:
        time.sleep(0.02)  # past the file system's timestamp tick
        if op[0] == "write":
            _write(_file(root, str(op[1]), str(op[2])), str(op[2]), str(op[3]))
        elif op[0] == "delete":
            for section in ("core", "labvault"):
                _file(root, str(op[1]), section).unlink(missing_ok=True)
        elif op[0] == "global":
            monkeypatch.setenv("LABVAULT_GLOBAL_CONFIG_DIR", str(root / f"global-{op[1]}"))
        elif op[1] is None:
            monkeypatch.delenv("LABVAULT_CACHE_TYPE", raising=False)
        else:
            monkeypatch.setenv("LABVAULT_CACHE_TYPE", str(op[1]))
        got = Config.load(dvc_dir)
        assert {k: dict(v) for k, v in got.values.items() if v} == {k: v for k, v in _uncached(dvc_dir).items() if v}
        assert Config.load(dvc_dir).values == got.values  # the kept answer, asked again


def test_a_rewrite_right_after_a_read_is_seen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Same size, same second: the default racy window keeps the file from being remembered."""
    monkeypatch.setenv("LABVAULT_SYSTEM_CONFIG_DIR", str(tmp_path / "system"))
    monkeypatch.setenv("LABVAULT_GLOBAL_CONFIG_DIR", str(tmp_path / "global"))
    config.forget_parsed()
    path = tmp_path / ".dvc" / "config"
    path.parent.mkdir()
    for value in ("s3://bucket/aa", "s3://bucket/bb", "s3://bucket/cc"):
        with open(path, "w") as f:  # in place: same inode, same size
            f.write(f"[core]\n    remote = {value}\n")
        assert Config.load(path.parent).get("core", "remote") == value
