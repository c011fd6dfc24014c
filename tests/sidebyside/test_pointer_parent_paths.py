"""A pointer in a sub-folder whose output is ``../x`` (a file of the repository's root, named from
the pointer's folder): dvc reads it; so does labvault, side by side: the same status, checkout
and listing. A path that leaves the repository that way stays refused (tests/unit/test_formats.py)."""

from __future__ import annotations

import json

import pytest

from tests.sidebyside.harness import SideBySide, parse_json

pytestmark = pytest.mark.interop


def test_an_output_named_from_a_sub_folder(sbs: SideBySide) -> None:
    sbs.write({"x.csv": "a,b\n1,2\n", "sub/.keep": ""})
    sbs.run_ok("add", "x.csv")
    for root in sbs.roots:
        text = (root / "x.csv.dvc").read_text().replace("path: x.csv", "path: ../x.csv")
        (root / "sub" / "x.csv.dvc").write_text(text)
        (root / "x.csv.dvc").unlink()
    sbs.git_commit("pointer in a sub-folder")
    lv, dvc = sbs.run_ok("status", "--json")
    assert json.loads(lv.stdout)["clean"] and json.loads(dvc.stdout) == {}
    for root in sbs.roots:
        (root / "x.csv").unlink()
    lv, dvc = sbs.run_ok("status", "--json")
    assert json.loads(dvc.stdout) == {"sub/x.csv.dvc": [{"changed outs": {"x.csv": "deleted"}}]}
    assert [(o["path"], o["status"]) for o in json.loads(lv.stdout)["outputs"]] == [("x.csv", "deleted")]
    sbs.run_ok("checkout")
    lv_bytes, dvc_bytes = sbs.read("x.csv")
    assert lv_bytes == dvc_bytes == b"a,b\n1,2\n"
    got, want = (parse_json(p) for p in sbs.run_ok("list", ".", "--dvc-only", "--json"))
    assert got == want and [e["path"] for e in got] == ["x.csv"]
