"""``.dvc`` files byte for byte as dvc writes them, for names that YAML 1.1 and 1.2 read apart
(``09``, ``1e5`` are numbers to dvc's reader: they must be quoted; ``yes``, ``on`` are not booleans
to it: dvc leaves them plain) and for names long enough that dvc folds the line."""

from __future__ import annotations

import pytest

from tests.sidebyside.harness import SideBySide

pytestmark = pytest.mark.interop

NAMES = ["09", "1e5", "0o17", "yes", "on", "NO", "1:20", "null", "2024-01-01", "plain.csv",
         "a folder with spaces/" + "n" * 90 + ".txt", "x" * 75]


def test_add_writes_dvc_s_bytes(sbs: SideBySide) -> None:
    sbs.write({name: f"{name}\n" for name in NAMES})
    sbs.run_ok("add", *NAMES)
    for name in NAMES:
        lv, dvc = sbs.read(name + ".dvc")
        assert lv == dvc, f"{name}.dvc\nlabvault:\n{lv.decode()}\ndvc:\n{dvc.decode()}"
    lv, dvc = sbs.read(".gitignore")
    assert lv == dvc
    sbs.run_ok("status")  # each reads the other's: the paths are what they were
    lv, dvc = sbs.run("status", "--json")
    assert lv.returncode == dvc.returncode == 0
