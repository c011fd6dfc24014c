"""The walk that finds pointers, dvc.yaml and dvc.lock skips folders git ignores as ``/name[/]``."""

from __future__ import annotations

from pathlib import Path

from labvault import api
from labvault.workspace.index import _gitignored_names, find_control_files
from labvault.workspace.repo import open_repo


def test_gitignored_names(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("/data/\n/model.pkl\n*.log\n/a/b\n/glob*\n# c\n")
    assert _gitignored_names(str(tmp_path)) == {"data", "model.pkl"}
    (tmp_path / ".gitignore").write_text("/data/\n!/data/keep.dvc\n")
    assert _gitignored_names(str(tmp_path)) == set()  # a negation may re-include: walk it all


def test_walk_skips_ignored_data_folders(tmp_path: Path) -> None:
    api.init(tmp_path, no_scm=True)
    (tmp_path / "data" / "deep").mkdir(parents=True)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "x.txt").write_text("x")
    api.add(["src/x.txt"], repo=tmp_path)
    (tmp_path / "data" / "deep" / "hidden.dvc").write_text("outs:\n- md5: 0\n  path: y\n")
    repo = open_repo(tmp_path)
    assert sorted(p.name for p in find_control_files(repo)[0]) == ["hidden.dvc", "x.txt.dvc"]
    (tmp_path / ".gitignore").write_text("/data/\n")
    assert [p.name for p in find_control_files(repo)[0]] == ["x.txt.dvc"]
