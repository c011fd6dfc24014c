"""``list`` side by side with ``dvc list --dvc-only``: outputs of .dvc files and of pipeline stages
(folder and file outputs, nested, in a second dvc.yaml, one kept out of the cache, one never run),
each with the hash and size dvc shows for it."""

from __future__ import annotations

import json
import posixpath
from typing import Any

import pytest

from tests.sidebyside.harness import SideBySide, parse_json

pytestmark = pytest.mark.interop

PIPELINE = """\
stages:
  make:
    cmd: python -c "import os; os.makedirs('out/tree/sub', exist_ok=True); [open(p, 'w').write(p) for p in ('out/tree/a.txt', 'out/tree/sub/b.txt', 'out/single.txt', 'm.json')]"
    outs:
    - out/tree
    - out/single.txt
    metrics:
    - m.json:
        cache: false
  never:
    cmd: python -c "open('never.txt', 'w').write('n')"
    deps:
    - missing-input.txt
    outs:
    - never.txt
"""

NESTED = """\
stages:
  inner:
    cmd: python -c "open('inner.bin', 'wb').write(bytes(300))"
    outs:
    - inner.bin
"""


def _dvc_entry(sbs: SideBySide, path: str) -> dict[str, Any]:
    parent, name = posixpath.split(path)
    listing = parse_json(sbs.dvc("list", ".", *([parent] if parent else []), "--dvc-only", "--json"))
    found = [e for e in listing if e["path"] == name]
    assert len(found) == 1, f"dvc list shows no {path}: {listing}"
    return dict(found[0])


@pytest.mark.slow
def test_list_shows_pipeline_outputs_as_dvc_does(tmp_path: Any) -> None:
    sbs = SideBySide(tmp_path)
    sbs.write({"dvc.yaml": PIPELINE, "sub/dvc.yaml": NESTED, "data/raw/a.csv": "x,y\n1,2\n",
               "images/1.txt": "one", "images/2/3.txt": "three"})
    sbs.run_ok("add", "data/raw/a.csv")
    sbs.run_ok("add", "images")
    sbs.run_ok("repro", "make", lv_args=["repro", "make"])
    sbs.run_ok("repro", "sub/dvc.yaml:inner", lv_args=["repro", "sub/dvc.yaml:inner"])
    sbs.git_commit("outputs")

    ours = {e["path"]: e for e in parse_json(sbs.lv("list", "--json"))}
    assert sorted(ours) == ["data/raw/a.csv", "images", "never.txt", "out/single.txt", "out/tree", "sub/inner.bin"]
    assert "m.json" not in ours  # not cached: dvc list --dvc-only leaves it out too
    assert ours["out/tree"]["stage"] == "make" and ours["out/tree"]["pointer"] == "dvc.lock"
    assert ours["sub/inner.bin"]["stage"] == "sub/dvc.yaml:inner" and ours["sub/inner.bin"]["pointer"] == "sub/dvc.lock"
    assert ours["images"]["stage"] is None and ours["images"]["pointer"] == "images.dvc"
    for path, e in ours.items():
        theirs = _dvc_entry(sbs, path)
        assert theirs["isout"] is True
        assert (e["oid"], e["is_dir"]) == (theirs["md5"], theirs["isdir"]), path
        if e["oid"] is not None:
            assert e["size"] == theirs["size"], path
            assert e["in_cache"] is True
        else:  # never ran: no hash; dvc shows size 0 for an output without a recorded size
            assert (e["size"], theirs["size"]) == (None, 0)

    # every file dvc lists lies in (or is) an output labvault lists
    files = [e["path"] for e in parse_json(sbs.dvc("list", ".", "-R", "--dvc-only", "--json"))]
    assert files and all(any(f == p or f.startswith(p + "/") for p in ours) for f in files), json.dumps(files)
