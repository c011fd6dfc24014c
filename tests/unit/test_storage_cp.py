"""`labvault cp` / `labvault ls` (and api.cp / api.ls) on local folders."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from labvault import api
from labvault.errors import ConfigError, PathError, UsageError
from labvault.fsutil import TMP_SUFFIX
from tests.conftest import Runner, snapshot

FILES = {"a.txt": b"hello\n", "sub/b.txt": b"bb\n", "sub/deep/c.bin": bytes(range(256)) * 5}


@pytest.fixture
def data(tmp_path: Path) -> Path:
    src = tmp_path / "data"
    for rel, content in FILES.items():
        p = src / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content)
    return src


def _no_temp_files(base: Path) -> None:
    left = [p for p in base.rglob("*") if p.name.endswith(TMP_SUFFIX)]
    assert not left, left


def _one_error_line(proc: object, code: int, *words: str) -> None:
    rc, err = proc.returncode, proc.stderr  # type: ignore[attr-defined]
    assert rc == code, (rc, err)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    for w in words:
        assert w in lines[0], (w, lines[0])


# --- single files --------------------------------------------------------------------------------

def test_file_to_new_name(data: Path, tmp_path: Path) -> None:
    r = api.cp(data / "a.txt", tmp_path / "out.txt")
    assert (tmp_path / "out.txt").read_bytes() == b"hello\n"
    assert (r.files, r.bytes, r.ok) == (1, 6, True)
    assert r.destination == str(tmp_path / "out.txt")


def test_file_into_existing_folder(data: Path, tmp_path: Path) -> None:
    (tmp_path / "dest").mkdir()
    r = api.cp(data / "a.txt", tmp_path / "dest")
    assert (tmp_path / "dest" / "a.txt").read_bytes() == b"hello\n"
    assert r.destination.endswith("dest/a.txt")


def test_file_into_trailing_slash_creates_folder(data: Path, tmp_path: Path) -> None:
    api.cp(data / "a.txt", f"{tmp_path}/new/folder/")
    assert (tmp_path / "new" / "folder" / "a.txt").read_bytes() == b"hello\n"


def test_file_to_missing_parent_creates_it(data: Path, tmp_path: Path) -> None:
    api.cp(data / "a.txt", tmp_path / "x" / "y" / "z.txt")
    assert (tmp_path / "x" / "y" / "z.txt").read_bytes() == b"hello\n"


def test_file_overwrites_existing_file_atomically(data: Path, tmp_path: Path) -> None:
    dst = tmp_path / "out.txt"
    dst.write_bytes(b"old content, longer than the new one\n")
    inode_before = dst.stat().st_ino
    api.cp(data / "a.txt", dst)
    assert dst.read_bytes() == b"hello\n"
    assert dst.stat().st_ino != inode_before  # replaced by rename, never rewritten in place
    _no_temp_files(tmp_path)


def test_file_keeps_its_mode(data: Path, tmp_path: Path) -> None:
    script = data / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    api.cp(script, tmp_path / "run.sh")
    assert (tmp_path / "run.sh").stat().st_mode & 0o111


# --- folders -------------------------------------------------------------------------------------

def test_folder_to_new_name_becomes_it(data: Path, tmp_path: Path) -> None:
    r = api.cp(data, tmp_path / "copy", recursive=True)
    assert snapshot(tmp_path / "copy") == FILES
    assert (r.files, r.bytes) == (3, sum(len(v) for v in FILES.values()))


def test_folder_into_existing_folder(data: Path, tmp_path: Path) -> None:
    (tmp_path / "dest").mkdir()
    api.cp(data, tmp_path / "dest", recursive=True)
    assert snapshot(tmp_path / "dest") == {f"data/{k}": v for k, v in FILES.items()}


def test_folder_into_trailing_slash(data: Path, tmp_path: Path) -> None:
    api.cp(data, f"{tmp_path}/dest/", recursive=True)
    assert snapshot(tmp_path / "dest") == {f"data/{k}": v for k, v in FILES.items()}


def test_contents_with_trailing_slash_on_both(data: Path, tmp_path: Path) -> None:
    (tmp_path / "dest").mkdir()
    r = api.cp(f"{data}/", f"{tmp_path}/dest/", recursive=True)
    assert snapshot(tmp_path / "dest") == FILES
    assert r.files == 3


def test_contents_of_dot(data: Path, tmp_path: Path, lv: Runner) -> None:
    (tmp_path / "dest").mkdir()
    lv("cp", "-r", ".", str(tmp_path / "dest"), cwd=data)
    assert snapshot(tmp_path / "dest") == FILES


def test_recursive_on_a_file_copies_the_file(data: Path, tmp_path: Path) -> None:
    api.cp(data / "a.txt", tmp_path / "one.txt", recursive=True)
    assert (tmp_path / "one.txt").read_bytes() == b"hello\n"


def test_copy_twice_is_idempotent(data: Path, tmp_path: Path) -> None:
    api.cp(f"{data}/", tmp_path / "dest", recursive=True)
    api.cp(f"{data}/", tmp_path / "dest", recursive=True)
    assert snapshot(tmp_path / "dest") == FILES


def test_empty_folder_copies_nothing(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    r = api.cp(tmp_path / "empty", tmp_path / "out", recursive=True)
    assert (r.files, r.bytes, r.ok) == (0, 0, True)


def test_temp_files_in_the_source_are_not_copied(data: Path, tmp_path: Path) -> None:
    (data / f".a.txt.123-abcd{TMP_SUFFIX}").write_bytes(b"partial")
    api.cp(f"{data}/", tmp_path / "dest", recursive=True)
    assert snapshot(tmp_path / "dest") == FILES


@pytest.mark.parametrize("jobs", [1, 3, 16])
def test_parallel_copy_of_many_files(tmp_path: Path, jobs: int) -> None:
    src = tmp_path / "many"
    expected = {f"d{i % 7}/f{i}.txt": f"file {i}\n".encode() * (i + 1) for i in range(60)}
    for rel, content in expected.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(content)
    r = api.cp(f"{src}/", tmp_path / "out", recursive=True, jobs=jobs)
    assert snapshot(tmp_path / "out") == expected
    assert r.files == 60 and r.bytes == sum(len(v) for v in expected.values())
    _no_temp_files(tmp_path)


def test_progress_counts_files_and_bytes(data: Path, tmp_path: Path) -> None:
    calls: list[tuple[str, int | None, int | None]] = []
    advanced = [0, 0]
    closed = []
    lock = threading.Lock()

    class Task:
        def advance(self, items: int = 1, nbytes: int = 0) -> None:
            with lock:
                advanced[0] += items
                advanced[1] += nbytes

        def close(self) -> None:
            closed.append(True)

    class Progress:
        def task(self, description: str, total: int | None = None, total_bytes: int | None = None) -> Task:
            calls.append((description, total, total_bytes))
            return Task()

        def message(self, text: str) -> None:
            pass

    total = sum(len(v) for v in FILES.values())
    api.cp(data, tmp_path / "out", recursive=True, progress=Progress())
    assert len(calls) == 1 and calls[0][1:] == (3, total)
    assert advanced == [3, total]
    assert closed == [True]


def test_links_are_followed_loops_end_broken_ones_are_reported(data: Path, tmp_path: Path) -> None:
    (data / "sub" / "to_deep").symlink_to("deep")
    (data / "sub" / "deep" / "loop").symlink_to("../..")
    (data / "broken").symlink_to("nowhere")
    (data / "a_link.txt").symlink_to("a.txt")
    r = api.cp(f"{data}/", tmp_path / "dest", recursive=True)
    expected = dict(FILES)
    expected["sub/to_deep/c.bin"] = FILES["sub/deep/c.bin"]
    expected["a_link.txt"] = FILES["a.txt"]
    assert snapshot(tmp_path / "dest") == expected
    assert r.files == 5 and len(r.failed) == 1 and "broken" in r.failed[0]


# --- errors --------------------------------------------------------------------------------------

def test_missing_source(tmp_path: Path) -> None:
    with pytest.raises(PathError, match="does not exist"):
        api.cp(tmp_path / "nope.txt", tmp_path / "out.txt")
    assert not (tmp_path / "out.txt").exists()


def test_folder_without_recursive(data: Path, tmp_path: Path) -> None:
    with pytest.raises(PathError, match="is a folder") as exc:
        api.cp(data, tmp_path / "out")
    assert exc.value.hint and "-r" in exc.value.hint
    assert not (tmp_path / "out").exists()


def test_malformed_url(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="malformed url"):
        api.cp(tmp_path, "s3:///no-bucket", recursive=True)
    with pytest.raises(ConfigError, match="unsupported"):
        api.ls("ftp://host/x")


def test_same_file(data: Path) -> None:
    with pytest.raises(PathError, match="same file"):
        api.cp(data / "a.txt", data / "a.txt")
    with pytest.raises(PathError, match="same file"):
        api.cp(data / "a.txt", data)
    assert (data / "a.txt").read_bytes() == b"hello\n"


def test_folder_into_itself(data: Path) -> None:
    before = snapshot(data)
    with pytest.raises(PathError, match="into itself"):
        api.cp(data, data / "sub", recursive=True)
    with pytest.raises(PathError, match="into itself"):
        api.cp(f"{data}/", data, recursive=True)
    assert snapshot(data) == before


def test_bad_jobs(data: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        api.cp(data / "a.txt", tmp_path / "x", jobs=0)


def test_a_file_that_cannot_be_written_is_reported_and_others_go_on(data: Path, tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    (dest / "sub" / "b.txt").mkdir(parents=True)  # a folder where a file must go
    r = api.cp(f"{data}/", dest, recursive=True)
    assert not r.ok and r.files == 2 and len(r.failed) == 1
    assert "sub/b.txt" in r.failed[0]
    assert (dest / "a.txt").read_bytes() == b"hello\n"
    assert (dest / "sub" / "b.txt").is_dir()
    _no_temp_files(tmp_path)


def test_cli_exits_1_when_some_files_failed(data: Path, tmp_path: Path, lv: Runner) -> None:
    (tmp_path / "dest" / "sub" / "b.txt").mkdir(parents=True)
    proc = lv("cp", "-r", f"{data}/", str(tmp_path / "dest"), check=False)
    assert proc.returncode == 1
    assert "failed: " in proc.stderr and "1 file(s) were not copied" in proc.stderr


def test_a_failed_download_leaves_no_temp_file(data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from labvault.remotes import copy as copy_mod

    def broken(src: str, dst: str, mode: int = 0o644) -> None:
        with open(dst, "wb") as f:
            f.write(b"half")
        raise OSError("simulated read error")

    monkeypatch.setattr(copy_mod, "copy_file", broken)
    r = api.cp(f"{data}/", tmp_path / "dest", recursive=True)
    assert not r.ok and len(r.failed) == 3 and r.files == 0
    assert not any(p.is_file() for p in (tmp_path / "dest").rglob("*"))
    _no_temp_files(tmp_path)


# --- ls ------------------------------------------------------------------------------------------

def test_ls_folder(data: Path) -> None:
    entries = api.ls(data)
    assert [(e.name, e.size, e.is_dir) for e in entries] == [("a.txt", 6, False), ("sub", 0, True)]


def test_ls_recursive(data: Path) -> None:
    entries = api.ls(data, recursive=True)
    assert {e.name: e.size for e in entries} == {k: len(v) for k, v in FILES.items()}
    assert not any(e.is_dir for e in entries)


def test_ls_file(data: Path) -> None:
    assert [(e.name, e.size) for e in api.ls(data / "a.txt")] == [("a.txt", 6)]


def test_ls_missing(tmp_path: Path) -> None:
    with pytest.raises(PathError, match="does not exist"):
        api.ls(tmp_path / "nope")


# --- the command line ----------------------------------------------------------------------------

def test_cli_cp_file_and_folder(data: Path, tmp_path: Path, lv: Runner) -> None:
    out = lv("cp", str(data / "a.txt"), str(tmp_path / "one.txt")).stdout
    assert "copied 1 file (6 B)" in out
    out = lv("cp", "-r", f"{data}/", f"{tmp_path}/tree/", "-j", "2").stdout
    assert "copied 3 files" in out
    assert snapshot(tmp_path / "tree") == FILES


def test_cli_cp_json(data: Path, tmp_path: Path, lv: Runner) -> None:
    got = json.loads(lv("cp", "-r", str(data), str(tmp_path / "j"), "--json").stdout)
    assert got["files"] == 3 and got["bytes"] == sum(len(v) for v in FILES.values())
    assert got["failed"] == [] and got["destination"] == str(tmp_path / "j")
    assert {"src", "dst", "seconds"} <= set(got)


def test_cli_errors_are_one_line(data: Path, tmp_path: Path, lv: Runner) -> None:
    _one_error_line(lv("cp", str(tmp_path / "nope"), str(tmp_path / "x"), check=False), 2, "does not exist")
    _one_error_line(lv("cp", str(data), str(tmp_path / "x"), check=False), 2, "is a folder", "-r")
    _one_error_line(lv("cp", str(data), "s3:///x", check=False), 2, "malformed url")
    _one_error_line(lv("ls", "gopher://x/y", check=False), 2, "unsupported")
    _one_error_line(lv("ls", str(tmp_path / "nope"), check=False), 2, "does not exist")
    assert lv("cp", "-j", "0", str(data), str(tmp_path / "x"), check=False).returncode == 2
    assert not (tmp_path / "x").exists()


def test_cli_ls(data: Path, lv: Runner) -> None:
    lines = lv("ls", str(data)).stdout.splitlines()
    assert [ln.split()[-1] for ln in lines] == ["a.txt", "sub/"]
    assert "6 B" in lines[0]
    got = json.loads(lv("ls", str(data), "--json").stdout)
    assert got == [{"name": "a.txt", "size": 6, "is_dir": False}, {"name": "sub", "size": 0, "is_dir": True}]
    rec = lv("ls", "-R", str(data)).stdout
    assert "sub/deep/c.bin" in rec and "1.2 KiB" in rec


def test_cli_help_has_examples(lv: Runner) -> None:
    for cmd in ("cp", "ls"):
        assert "Example:" in lv(cmd, "--help").stdout
