"""The benchmarks refuse to publish what they did not verify.

* A timed command whose output is wrong stops the run (non-zero exit) and leaves no figure: the
  quickest piece of the core suite is run with a fault injected (a restored byte flipped, a change
  that status "does not see") and must fail, and without it must pass.
* docs/benchmarks.md is assembled only from results of one clean commit that is not older than
  the last change to src/ or the benchmark scripts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
sys.path.insert(0, str(BENCH))

import assemble_docs  # noqa: E402

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def _quick_core(tmp_path: Path, fault: str, *args: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    out = tmp_path / "results.json"
    env = {**os.environ, "BENCH_FAULT": fault}
    proc = subprocess.run(
        [
            sys.executable, str(BENCH / "run_all.py"), "--tools", "labvault", "--baselines", "no",
            "--repeats", "1", "--no-drop-caches", "--work", str(tmp_path / "work"),
            "--out-json", str(out), "--out-md", str(tmp_path / "results.md"), "--fresh", *args,
        ],
        capture_output=True, text=True, env=env, timeout=300,
    )
    data = json.loads(out.read_text()) if out.exists() else {"records": []}
    return proc, data


W1_SMALL = ("--workloads", "W1", "--w1-size", "256K", "--ops", "add,checkout")
W2_SMALL = ("--workloads", "W2", "--w2-files", "12", "--ops", "add,status_changed")


def test_a_verified_quick_run_passes(tmp_path: Path) -> None:
    proc, data = _quick_core(tmp_path, "", *W1_SMALL)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert {r["op"] for r in data["records"]} == {"add", "checkout"}


def test_a_corrupt_restore_fails_the_run_and_is_not_recorded(tmp_path: Path) -> None:
    proc, data = _quick_core(tmp_path, "corrupt-restored", *W1_SMALL)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "wrong output" in proc.stderr and "restored data differs" in proc.stderr
    assert "checkout" not in {r["op"] for r in data["records"]}


def test_a_status_that_misses_a_change_fails_the_run(tmp_path: Path) -> None:
    proc, data = _quick_core(tmp_path, "ignore-change", *W2_SMALL)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "expected a clean status" in proc.stderr
    assert "status_changed" not in {r["op"] for r in data["records"]}


# --- the assembler ------------------------------------------------------------------------------


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, env={**os.environ, **GIT_ENV}, check=True, capture_output=True, text=True
    ).stdout.strip()


def _commit(repo: Path, path: str, text: str) -> str:
    f = repo / path
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(text)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", f"change {path}")
    return _git(repo, "rev-parse", "HEAD")


def _prov(commit: str, dirty: bool = False) -> dict:
    return {"commit": commit, "dirty": dirty, "dirty_paths": ["src/x.py"] if dirty else [], "machine": "m", "date": "d"}


def _results(folder: Path, core: dict | None, remotes: dict | None, pipelines: dict | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    floor = "| a floor | 2.00x faster | 1 s | 2 s | **PASS** |\n"
    (folder / "core.md").write_text("# Benchmarks\n\n" + floor)
    (folder / "remotes.md").write_text("## Remotes\n\n" + floor)
    (folder / "pipelines.md").write_text("## Pipelines\n\n" + floor)
    runs = {"r1": {"provenance": core}} if core is not None else {"r1": {}}
    (folder / "latest.json").write_text(json.dumps({"runs": runs, "records": [{"run_id": "r1"}]}))
    (folder / "remotes.json").write_text(json.dumps({"meta": {"provenance": remotes} if remotes else {}}))
    (folder / "pipelines.json").write_text(json.dumps({"meta": {"provenance": pipelines} if pipelines else {}}))
    return folder


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "repo"
    r.mkdir()
    _git(r, "init", "-q")
    return r


def _assemble(repo: Path, results: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, Path]:
    out = repo / "benchmarks.md"
    rc = assemble_docs.main(["--results", str(results), "--out", str(out), "--root", str(repo)])
    return rc, capsys.readouterr().err, out


def test_assembles_results_of_one_clean_commit_and_names_it(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = _commit(repo, "src/x.py", "1")
    _commit(repo, "docs/notes.md", "only docs changed since")  # not a reason to rerun
    p = _prov(a)
    rc, err, out = _assemble(repo, _results(tmp_path / "res", p, p, p), capsys)
    assert rc == 0, err
    text = out.read_text()
    assert f"measured on commit `{a}`" in text and "3 floors met" in text


@pytest.mark.parametrize(
    "case, expect",
    [
        ("mixed", "results from different commits"),
        ("dirty", "measured on a dirty tree"),
        ("stale", "are stale"),
        ("unrecorded", "no source commit recorded"),
        ("foreign", "not in this checkout's history"),
        ("quick", "a quick (small) run"),
    ],
)
def test_refuses_mixed_dirty_stale_or_unrecorded_results(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, expect: str
) -> None:
    a = _commit(repo, "src/x.py", "1")
    b = _commit(repo, "src/x.py", "2")
    core = remotes = pipelines = _prov(b)
    if case == "mixed":
        pipelines = _prov(a)
    elif case == "dirty":
        remotes = _prov(b, dirty=True)
    elif case == "stale":
        core = remotes = pipelines = _prov(a)  # b changed src/ after them
    elif case == "unrecorded":
        core = None  # type: ignore[assignment]
    elif case == "foreign":
        core = remotes = pipelines = _prov("0" * 40)
    results = _results(tmp_path / "res", core, remotes, pipelines)
    if case == "quick":
        meta = {"provenance": pipelines, "command": "python bench/pipelines_bench.py --quick"}
        (results / "pipelines.json").write_text(json.dumps({"meta": meta}))
    rc, err, out = _assemble(repo, results, capsys)
    assert rc == 1
    assert "refusing to assemble" in err and expect in err, err
    assert not out.exists()
