"""``repro --dry --allow-missing`` in a fresh clone (no data, no cache), side by side: a missing
dependency is no change unless what produces it (a ``.dvc`` file or a stage) now records another
hash for it than the stage's ``dvc.lock`` entry. The hash is compared with its kind: a ``.dvc`` file
written by dvc 2 (no ``hash: md5``: the legacy md5) never equals a dvc 3 lock entry's, even with the
same digits, so dvc runs the stage; a producing stage that never ran records nothing, which equals
nothing either. A frozen stage is held to the same rule for its outputs."""

from __future__ import annotations

import re

import pytest

from tests.sidebyside.gen import W_PY
from tests.sidebyside.harness import SideBySide, dvc_ran, parse_json

pytestmark = pytest.mark.interop

HELLO_MD5 = "b1946ac92492d2347c6235b4d2611184"  # md5 of b"hello\n"
USE = """\
  use:
    cmd: python w.py out.txt -- data.txt
    deps:
      - data.txt
    outs:
      - out.txt
"""
LOCK = f"""\
schema: '2.0'
stages:
  use:
    cmd: python w.py out.txt -- data.txt
    deps:
    - path: data.txt
      hash: md5
      md5: {HELLO_MD5}
      size: 6
    outs:
    - path: out.txt
      hash: md5
      md5: 0f7c4c4f4f1e1bbbd5a4f4b2b4c6e7a1
      size: 42
"""
LEGACY_POINTER = f"outs:\n- md5: {HELLO_MD5}\n  path: data.txt\n"
POINTER = f"outs:\n- md5: {HELLO_MD5}\n  size: 6\n  hash: md5\n  path: data.txt\n"
FRESH = "  fresh:\n    cmd: python w.py fresh.txt -- w.py\n    deps:\n      - w.py\n    outs:\n      - fresh.txt\n"
MAKE = "  make:\n    cmd: python w.py data.txt\n    outs:\n      - data.txt\n"

CASES = {
    # producer, files: the stage `use` must run (dvc: "modified") or not
    "dvc2-pointer": ({"data.txt.dvc": LEGACY_POINTER, "dvc.yaml": "stages:\n" + USE}, ["use"]),
    "dvc3-pointer": ({"data.txt.dvc": POINTER, "dvc.yaml": "stages:\n" + USE}, []),
    "stage-never-ran": ({"dvc.yaml": "stages:\n" + MAKE + USE}, ["use"]),
    "never-ran-reading-a-file": ({"dvc.yaml": "stages:\n" + USE + FRESH}, ["fresh"]),
    # a frozen stage whose output is not in the cache: missing data is no change for it either
    "frozen-output-not-in-cache": ({"dvc.yaml": "stages:\n" + USE + "    frozen: true\n"}, []),
}
_FAILED = re.compile(r"failed to reproduce '([^']+)'")


def _dvc_would_run(stdout: str, stderr: str) -> list[str]:
    """The stages dvc's dry run names: each `Running stage`, then the one its run-cache lookup
    fails on (dvc hashes a stage's deps there, and this one's is missing)."""
    return dvc_ran(stdout) + _FAILED.findall(stderr)


@pytest.mark.parametrize("case", sorted(CASES))
def test_dry_allow_missing_compares_upstream_hash_kinds(sbs: SideBySide, case: str) -> None:
    files, expected = CASES[case]
    sbs.write({"w.py": W_PY, "dvc.lock": LOCK, **files}).git_commit("clone without data")
    lv, dvc = sbs.run("repro", "--dry", "--allow-missing",
                      lv_args=["repro", "--dry", "--allow-missing", "--json"])
    assert lv.returncode == 0, lv.stderr
    lv_would = [r["address"] for r in parse_json(lv) if r["action"] == "would-run"]
    assert lv_would == _dvc_would_run(dvc.stdout, dvc.stderr) == expected
