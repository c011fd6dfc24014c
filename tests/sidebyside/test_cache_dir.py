"""``cache dir``, side by side with dvc: shown, set from the root and from a sub-folder (relative
values written relative to ``.dvc/``), set and unset at the local level; after each step the same
config files and the same folder printed (a path inside each copy compared relative to it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sidebyside.harness import SideBySide

pytestmark = pytest.mark.interop


def _shown(sbs: SideBySide, cwd: str = "") -> None:
    lv, dvc = sbs.run_ok("cache", "dir", cwd=cwd)
    got = lv.stdout.strip().replace(str(sbs.lv_root), "<root>")
    want = dvc.stdout.strip().replace(str(sbs.dvc_root), "<root>")
    assert got == want


def _configs(sbs: SideBySide) -> None:
    for rel in (".dvc/config", ".dvc/config.local"):
        lv, dvc = ((root / rel).read_bytes() if (root / rel).exists() else b"" for root in sbs.roots)
        assert lv == dvc or not (lv.strip() or dvc.strip()), rel  # emptied: dvc leaves a newline


def test_cache_dir(sbs: SideBySide, tmp_path: Path) -> None:
    sbs.write({"sub/deeper/.keep": ""})
    _shown(sbs)
    steps: list[tuple[list[str], str]] = [
        (["../shared"], ""), (["../../shared2"], "sub"), (["--local", str(tmp_path / "abs")], "sub/deeper"),
        (["-u", "--local"], ""), (["inside-cache"], ""), (["-u"], "sub"),
    ]
    for args, cwd in steps:
        sbs.run_ok("cache", "dir", *args, cwd=cwd)
        _configs(sbs)
        _shown(sbs, cwd)
