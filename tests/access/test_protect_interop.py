"""The real dvc (the oracle) works on a repository whose outputs are protected: the marker in the
.dvc file (``meta: {labvault: {protected: true}}``) is accepted and kept, and read-only,
immutable outputs do not disturb status, push, pull or checkout."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.access.conftest import clear_flags
from tests.conftest import Runner


def test_dvc_works_on_protected_outputs(git_repo: Path, git: Runner, lv: Runner, dvc: Runner, tmp_path: Path) -> None:
    repo = git_repo
    try:
        lv("init")
        (repo / "data/raw/reviews/sub").mkdir(parents=True)
        (repo / "data/raw/reviews/a.csv").write_text("id,text\n1,good\n")
        (repo / "data/raw/reviews/sub/b.csv").write_text("id,text\n2,bad\n")
        (repo / "data/raw/labels.csv").write_text("id,label\n")
        lv("add", "data/raw/reviews", "data/raw/labels.csv")
        lv("remote", "add", "-d", "store", str(tmp_path / "remote"))
        out = json.loads(lv("protect", "data/raw/reviews", "data/raw/labels.csv", "--json").stdout)
        assert [r["kind"] for r in out] == ["repo", "repo"]
        pointer = (repo / "data/raw/reviews.dvc").read_text()
        assert "meta:\n  labvault:\n    protected: true\n" in pointer
        assert json.loads(dvc("status", "--json").stdout) == {}
        assert json.loads(dvc("data", "status", "--json").stdout).get("uncommitted", {}) == {}
        dvc("push")
        dvc("checkout")  # nothing to do: the protected files stay as they are
        assert (repo / "data/raw/reviews.dvc").read_text() == pointer
        assert not os.stat(repo / "data/raw/reviews/a.csv").st_mode & 0o222
        git("add", "-A")
        git("commit", "-q", "-m", "protected raw data")

        clone = tmp_path / "clone"
        git("clone", "-q", str(repo), str(clone))
        dvc("pull", cwd=clone)
        assert (clone / "data/raw/reviews/sub/b.csv").read_text() == "id,text\n2,bad\n"
        assert json.loads(dvc("status", "--json", cwd=clone).stdout) == {}
        seen = json.loads(lv("status", "--json", cwd=clone).stdout)
        assert {o["path"]: o["protected"] for o in seen["outputs"]} == {
            "data/raw/reviews": True, "data/raw/labels.csv": True}
        # dvc keeps the marker when it re-records an output.
        (clone / "data/raw/labels.csv").write_text("id,label\n1,pos\n")
        dvc("add", "data/raw/labels.csv", cwd=clone)
        assert "protected: true" in (clone / "data/raw/labels.csv.dvc").read_text()
        refused = lv("add", "data/raw/reviews", check=False)
        assert refused.returncode == 0  # unchanged protected data: nothing to refuse
    finally:
        clear_flags(repo)
