"""``doctor``: the report of a repository with remotes, checked against independent sources (the
cache's file system as ``df`` names it, installed versions as the packages report them), secrets in
the catalog URL hidden, and nothing changed by asking."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import urllib3

from tests.conftest import Runner, snapshot


def test_doctor_reports_repo_and_installation(git_repo: Path, lv: Runner, env: dict[str, str],
                                              tmp_path: Path) -> None:
    lv("init")
    lv("remote", "add", "-d", "store", str(tmp_path / "store"))
    lv("remote", "add", "web", "https://data.example.org/dvc")
    (git_repo / "a.txt").write_text("a\n")
    lv("add", "a.txt")
    env["LABVAULT_CATALOG_URL"] = "postgresql://ada:s3cret@db.example.org/lab"
    before = snapshot(git_repo, skip=(".git",))
    out = lv("doctor", "--json").stdout
    assert snapshot(git_repo, skip=(".git",)) == before  # asking changes nothing (no remote, no catalog opened)
    report = json.loads(out)
    repo = report["repo"]
    assert Path(repo["root"]) == git_repo.resolve() and repo["git"] is True
    assert Path(repo["cache_dir"]) == (git_repo / ".dvc" / "cache").resolve()
    assert repo["remotes"] == [["store", "file", True], ["web", "http", False]]
    assert "s3cret" not in out and repo["catalog"].startswith("postgresql://ada:***@db.example.org")
    df = subprocess.run(["df", "--output=fstype,source", str(git_repo / ".dvc" / "cache")], capture_output=True,
                        text=True, check=True).stdout.splitlines()[1].split()
    assert repo["file_system"] == f"{df[0]} on {df[1]}", (repo["file_system"], df)
    assert repo["free_bytes"] > 0
    http = next(p for p in report["storage"] if p["what"] == "http(s)://")
    assert http["version"] == urllib3.__version__
    git = next(p for p in report["tools"] if p["name"] == "git")
    assert git["version"] and Path(git["version"]).name == "git"
    text = lv("doctor").stdout
    assert f"Repository: {git_repo.resolve()}" in text and "store (file, default), web (http)" in text


def test_doctor_outside_a_repository(tmp_path: Path, env: dict[str, str]) -> None:
    from tests.conftest import _labvault_cmd

    r = subprocess.run([*_labvault_cmd(), "doctor"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert r.returncode == 0 and "Repository: none here" in r.stdout, r.stderr
