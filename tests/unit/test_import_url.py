"""``import-url`` / ``get-url`` / ``update`` of URL imports on bad or hostile input: one error
line, a non-zero exit, nothing written. (The formats are compared with the real dvc in
tests/sidebyside/test_import_url.py.)"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tests.conftest import Runner, snapshot
from tests.services import S3Server


def _src(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "set").mkdir(parents=True)
    (src / "one.txt").write_text("one\n")
    (src / "set" / "a.txt").write_text("a\n")
    return src


def _repo(git_repo: Path, lv: Runner, git: Runner) -> None:
    lv("init")
    git("commit", "-q", "-m", "init")


def test_existing_output_is_kept(git_repo: Path, lv: Runner, git: Runner, tmp_path: Path) -> None:
    _repo(git_repo, lv, git)
    src = _src(tmp_path)
    (git_repo / "one.txt").write_text("mine, never saved\n")
    before = snapshot(git_repo)
    r = lv("import-url", str(src / "one.txt"), check=False)
    assert r.returncode == 2 and "already exists" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = lv("import-url", "-f", str(src / "one.txt"), check=False)  # -f never drops unsaved content
    assert r.returncode == 4 and "not in the cache" in r.stderr
    assert snapshot(git_repo) == before
    lv("add", "one.txt")  # saved: now -f may replace it
    (git_repo / "one.txt.dvc").unlink()
    lv("import-url", "-f", str(src / "one.txt"))
    assert (git_repo / "one.txt").read_text() == "one\n"
    assert "deps:" in (git_repo / "one.txt.dvc").read_text()


def test_update_refuses_local_edits_and_unnamed_outside_sources(
    git_repo: Path, lv: Runner, git: Runner, tmp_path: Path
) -> None:
    _repo(git_repo, lv, git)
    src = _src(tmp_path)
    lv("import-url", str(src / "set"))
    lv("import-url", str(src / "one.txt"))
    r = lv("update", check=False)  # reading files outside the repository must be asked for by name
    assert r.returncode == 2 and "outside the repository" in r.stderr
    (src / "set" / "a.txt").write_text("a, new at the source\n")
    (git_repo / "set" / "a.txt").chmod(0o644)
    (git_repo / "set" / "a.txt").write_text("a, edited here\n")
    before = snapshot(git_repo)
    r = lv("update", "set.dvc", check=False)
    assert r.returncode == 4 and "changed since it was imported" in r.stderr
    assert snapshot(git_repo) == before
    lv("checkout", "--force", "set")
    out = json.loads(lv("update", "set.dvc", "one.txt.dvc", "--json").stdout)
    assert [(u["pointer"], u["changed"]) for u in out] == [("set.dvc", True), ("one.txt.dvc", False)]
    assert (git_repo / "set" / "a.txt").read_text() == "a, new at the source\n"
    assert lv("status").stdout.strip() == "Data and pipelines are up to date."


def test_hostile_object_keys_write_nothing(git_repo: Path, lv: Runner, git: Runner, env: dict[str, str],
                                           s3_server: S3Server) -> None:
    _repo(git_repo, lv, git)
    env.update(s3_server.env)
    bucket = s3_server.make_bucket("hostile")
    s3_server.write(bucket, "set/a.txt", b"a\n")
    for key in ("set/../escaped.txt", "set/sub/.git/hooks/pre-commit"):
        s3_server.write(bucket, key, b"#!/bin/sh\necho owned\n")
        before = snapshot(git_repo)
        r = lv("import-url", f"s3://{bucket}/set", "--fs-config", f"endpointurl={s3_server.endpoint}", check=False)
        assert r.returncode != 0 and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert "would be written outside the output" in r.stderr
        assert snapshot(git_repo) == before
        assert not [p for p in (git_repo / ".dvc" / "cache").rglob("*") if p.is_file()], "nothing stored either"
        s3_server.remove(bucket, key)
    assert not list(git_repo.parent.glob("escaped.txt"))


def test_get_url(tmp_path: Path, lv: Runner, env: dict[str, str], s3_server: S3Server, workdir: Path) -> None:
    src = _src(tmp_path)
    lv("get-url", str(src / "set"))  # no repository needed
    assert (workdir / "set" / "a.txt").read_text() == "a\n"
    r = lv("get-url", str(src / "set"), check=False)
    assert r.returncode == 2 and "already exists" in r.stderr
    env.update(s3_server.env)
    bucket = s3_server.make_bucket("getu")
    s3_server.write(bucket, "d/x.bin", b"x" * 1000)
    (workdir / "into").mkdir()
    got = json.loads(lv("get-url", f"s3://{bucket}/d/x.bin", "into", "--json",
                        "--fs-config", f"endpointurl={s3_server.endpoint}").stdout)
    assert got["files"] == 1 and got["bytes"] == 1000
    assert (workdir / "into" / "x.bin").read_bytes() == b"x" * 1000
    assert not [p for p in (workdir / "into").iterdir() if p.name.endswith(".lvtmp")]


def test_add_out_refusals(git_repo: Path, lv: Runner, git: Runner, tmp_path: Path) -> None:
    """``add SOURCE -o OUT`` goes through the same staging: one clear line and nothing changed on
    bad input, never into .git, never over unsaved content."""
    _repo(git_repo, lv, git)
    src = _src(tmp_path)
    before = snapshot(git_repo)
    for args, code, words in (
        (["add", str(src / "one.txt"), str(src / "set"), "-o", "x"], 2, "exactly one source"),
        (["add", "--no-commit", str(src / "one.txt"), "-o", "x"], 2, "--no-commit cannot be used with -o"),
        (["add", "-f", str(src / "one.txt")], 2, "--force only replaces the destination of -o"),
        (["add", str(src / "one.txt"), "-o", ".git/hooks/pre-commit"], 2, "inside .git"),
        (["add", str(src / "missing.txt"), "-o", "m.txt"], 2, "does not exist"),
    ):
        r = lv(*args, check=False)
        assert r.returncode == code and words in r.stderr and r.stderr.count("\n") == 1, (args, r.stderr)
        assert snapshot(git_repo) == before
    (git_repo / "one.txt").write_text("mine\n")
    r = lv("add", "-f", str(src / "one.txt"), "-o", "one.txt", check=False)
    assert r.returncode == 4 and "not in the cache" in r.stderr
    assert (git_repo / "one.txt").read_text() == "mine\n"


def test_pull_of_a_recorded_import_brings_only_recorded_content(git_repo: Path, lv: Runner, git: Runner,
                                                                tmp_path: Path) -> None:
    """A cloned pointer may name any source and any checksum: pull writes a file only when its bytes
    hash to the recorded md5, never outside the repository or into .git, and never over a file
    with other content (without --force)."""
    _repo(git_repo, lv, git)
    secret = tmp_path / "secret.txt"
    secret.write_text("private key\n")
    public = tmp_path / "public.txt"
    public.write_text("public\n")
    md5 = "0" * 32  # not the secret's
    pointers = {
        "stolen.txt.dvc": {"frozen": True, "deps": [{"md5": md5, "size": 12, "hash": "md5", "path": str(secret)}],
                           "outs": [{"hash": "md5", "path": "stolen.txt"}]},
        "esc.dvc": {"frozen": True, "deps": [{"md5": hashlib.md5(b"public\n").hexdigest(), "size": 7, "hash": "md5",
                                               "path": str(public)}],
                    "outs": [{"hash": "md5", "path": ".git/hooks/pre-commit"}]},
    }
    for name, body in pointers.items():
        (git_repo / name).write_text(json.dumps(body))
    (git_repo / "mine.txt").write_text("my own, unsaved\n")
    (git_repo / "mine.txt.dvc").write_text(json.dumps({
        "frozen": True, "deps": [{"md5": hashlib.md5(b"public\n").hexdigest(), "size": 7, "hash": "md5",
                                  "path": str(public)}], "outs": [{"hash": "md5", "path": "mine.txt"}]}))
    before = snapshot(git_repo)
    r = lv("pull", check=False)  # a pointer into .git: the whole repository is refused, one line
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "lies in .git" in r.stderr
    assert snapshot(git_repo) == before and not (git_repo / ".git" / "hooks" / "pre-commit").exists()
    (git_repo / "esc.dvc").unlink()
    before = snapshot(git_repo)
    r = lv("pull", check=False)  # mine.txt's content is not in the cache: checkout's rule
    assert r.returncode == 4 and "would overwrite mine.txt, whose current content is not in the cache" in r.stderr
    assert snapshot(git_repo) == before
    r = lv("pull", "stolen.txt", check=False)
    assert r.returncode == 1, r.stdout
    assert "stolen.txt: its source" in r.stderr and "other content than was recorded" in r.stderr
    assert snapshot(git_repo) == before and not (git_repo / "stolen.txt").exists()
    cached = [p.read_bytes() for p in (git_repo / ".dvc" / "cache").rglob("*") if p.is_file()]
    assert b"private key\n" not in cached  # the secret was not stored either
    r = lv("pull", "--force", "mine.txt", check=False)  # --force: replaced by the recorded content
    assert r.returncode == 0, r.stderr
    assert (git_repo / "mine.txt").read_text() == "public\n"


def test_fetch_of_a_recorded_import_removes_what_a_killed_fetch_left(git_repo: Path, lv: Runner, git: Runner,
                                                                     tmp_path: Path) -> None:
    """A fetch killed mid-download leaves its staging in .dvc/tmp/labvault; the next fetch removes
    it (its owner is gone), stores the import and leaves the workspace alone."""
    _repo(git_repo, lv, git)
    public = tmp_path / "public.txt"
    public.write_text("public\n")
    (git_repo / "p.txt.dvc").write_text(json.dumps({
        "frozen": True, "deps": [{"md5": hashlib.md5(b"public\n").hexdigest(), "size": 7, "hash": "md5",
                                  "path": str(public)}], "outs": [{"hash": "md5", "path": "p.txt"}]}))
    folder = git_repo / ".dvc" / "tmp" / "labvault"
    folder.mkdir(parents=True, exist_ok=True)
    left = folder / ".download.999999999-0123abcd.lvtmp"  # no such process
    left.mkdir()
    (left / "part").write_bytes(b"half")
    r = lv("fetch", check=False)
    assert r.returncode == 0, r.stderr
    assert not left.exists() and not (git_repo / "p.txt").exists()
    obj = git_repo / ".dvc" / "cache" / "files" / "md5" / hashlib.md5(b"public\n").hexdigest()[:2]
    assert (obj / hashlib.md5(b"public\n").hexdigest()[2:]).read_bytes() == b"public\n"
    assert lv("checkout").returncode == 0 and (git_repo / "p.txt").read_text() == "public\n"
