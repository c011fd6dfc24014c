"""labvault.open/read/get_url and api.get: any revision of any repository, from the cache or a
remote (folder, moto S3), checked against the recorded md5; bad input gives one clear error."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import labvault
from labvault import api
from labvault.errors import (
    CacheError,
    CorruptObjectError,
    PathError,
    RemoteError,
    ScmError,
    UsageError,
    WorkspaceConflictError,
)
from tests.remote_support import RemoteTarget, make_target

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test", "GIT_COMMITTER_NAME": "Test", "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_CONFIG_NOSYSTEM": "1",
}


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("LABVAULT_SYSTEM_CONFIG_DIR", str(home / "system"))
    monkeypatch.setenv("LABVAULT_GIT_CACHE", str(tmp_path / "git-cache"))
    for k, v in GIT_ENV.items():
        monkeypatch.setenv(k, v)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def write(base: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        p = base / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if p.exists():
            p.chmod(0o644)
        p.write_bytes(data)


def new_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    api.init(path)
    return path


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def wipe_cache(repo: Path) -> None:
    cache = repo / ".dvc" / "cache"
    for root, dirs, _ in os.walk(cache):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)
    shutil.rmtree(cache)


# --- any revision, byte-identical to a checkout of it ------------------------------------------
contents = st.binary(min_size=0, max_size=300)
names = st.sampled_from(["a.bin", "b.txt", "d/x", "d/sub/y", "d/z z"])
histories = st.lists(st.dictionaries(names, contents, min_size=1, max_size=5), min_size=1, max_size=4)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories)
def test_old_revisions_read_as_their_checkout(tmp_path_factory: pytest.TempPathFactory, history: list[dict[str, bytes]]) -> None:
    base = tmp_path_factory.mktemp("hist")
    repo = new_repo(base / "repo")
    commits: list[tuple[str, dict[str, bytes]]] = []
    state: dict[str, bytes] = {}
    for step in history:
        state.update(step)
        write(repo, step)
        targets = sorted({"d" if k.startswith("d/") else k for k in state})
        api.add(targets, repo=repo)
        commits.append((commit(repo, "step"), dict(state)))
    for sha, expected in commits:
        checkout = base / f"co-{sha[:8]}"
        git(repo, "worktree", "add", "-q", "--detach", str(checkout), sha)
        # a checkout of that commit, from the same cache
        (checkout / ".dvc" / "config.local").write_text(f"[cache]\n    dir = {repo / '.dvc' / 'cache'}\n")
        api.checkout(repo=checkout)
        on_disk = {p.relative_to(checkout).as_posix(): p.read_bytes() for p in checkout.rglob("*")
                   if p.is_file() and not p.name.endswith((".dvc", ".gitignore", ".dvcignore"))
                   and ".dvc" not in p.relative_to(checkout).parts and p.name != ".git"}
        assert on_disk == expected
        for rel, data in on_disk.items():
            assert labvault.read(rel, repo=str(repo), rev=sha) == data
            with labvault.open(rel, repo=str(repo), rev=sha) as f:
                assert f.read() == data


def test_read_text_workspace_and_git_files(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    write(repo, {"data/t.csv": "é,1\n".encode()})
    api.add(["data/t.csv"], repo=repo)
    commit(repo, "v1")
    assert labvault.read("data/t.csv", repo=str(repo), mode="r") == "é,1\n"
    with labvault.open("data/t.csv", repo=str(repo), mode="r", encoding="utf-8") as f:
        assert f.readline() == "é,1\n"
    # a file git holds (here the pointer itself) reads too
    assert labvault.read("data/t.csv.dvc", repo=str(repo), rev="HEAD").startswith(b"outs:")


# --- from remotes -------------------------------------------------------------------------------
@pytest.fixture(params=["local", "s3"])
def target(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RemoteTarget:
    t = make_target(request.param, request, tmp_path)
    for k, v in t.env.items():
        monkeypatch.setenv(k, v)
    return t


def _pushed_repo(tmp_path: Path, target: RemoteTarget) -> tuple[Path, str, str]:
    repo = new_repo(tmp_path / "src")
    api.remote_add("r", target.url, default=True, repo=repo)
    for option, value in target.cli_options:
        api.remote_modify("r", option, value, repo=repo)
    write(repo, {"data/f.bin": b"one" * 1000, "imgs/a.png": b"A", "imgs/s/b.png": b"BB"})
    api.add(["data/f.bin", "imgs"], repo=repo)
    v1 = commit(repo, "v1")
    write(repo, {"data/f.bin": b"two" * 999})
    api.add(["data/f.bin"], repo=repo)
    v2 = commit(repo, "v2")
    api.push(None, None, None, api.Revisions(all_commits=True), repo=repo)
    wipe_cache(repo)
    return repo, v1, v2


def test_reads_from_the_remote_when_the_cache_lacks_the_object(tmp_path: Path, target: RemoteTarget) -> None:
    repo, v1, v2 = _pushed_repo(tmp_path, target)
    assert labvault.read("data/f.bin", repo=str(repo), rev=v1) == b"one" * 1000
    assert labvault.read("data/f.bin", repo=str(repo), rev=v2) == b"two" * 999
    assert labvault.read("imgs/s/b.png", repo=str(repo), rev=v1) == b"BB"
    url = labvault.get_url("imgs/s/b.png", repo=str(repo), rev=v1)
    oid = hashlib.md5(b"BB").hexdigest()
    assert url.endswith(f"files/md5/{oid[:2]}/{oid[2:]}") and url.startswith(target.url.split("/store")[0])
    # the same repository by git URL: a bare clone, the remote from the committed config
    assert labvault.read("data/f.bin", repo=f"file://{repo}", rev=v1) == b"one" * 1000
    out = tmp_path / "got"
    r = api.get(f"file://{repo}", "imgs", out=out, rev=v1)
    assert r.files == 2 and (out / "a.png").read_bytes() == b"A" and (out / "s" / "b.png").read_bytes() == b"BB"


def test_unreachable_remote_is_one_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = new_repo(tmp_path / "src")
    api.remote_add("r", "s3://bucket/store", default=True, repo=repo)
    api.remote_modify("r", "endpointurl", "http://127.0.0.1:9", repo=repo)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    write(repo, {"f": b"data"})
    api.add(["f"], repo=repo)
    commit(repo, "v1")
    wipe_cache(repo)
    with pytest.raises(RemoteError, match="unreachable"):
        labvault.read("f", repo=str(repo))


# --- verification and bad input -----------------------------------------------------------------
def test_corrupt_cache_object_is_detected(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    write(repo, {"f.bin": b"x" * 5000})
    api.add(["f.bin"], repo=repo)
    commit(repo, "v1")
    obj = next(p for p in (repo / ".dvc" / "cache" / "files" / "md5").rglob("*") if p.is_file())
    obj.chmod(stat.S_IWUSR | stat.S_IRUSR)
    obj.write_bytes(b"y" * 5000)
    with pytest.raises(CorruptObjectError, match="does not match its md5"):
        labvault.read("f.bin", repo=str(repo), rev="HEAD")
    with pytest.raises(CorruptObjectError), labvault.open("f.bin", repo=str(repo)) as f:
        while f.read(1024):
            pass
    obj.write_bytes(b"x" * 4000)  # a truncated object: wrong size
    with pytest.raises(CorruptObjectError, match="not the recorded 5000"):
        labvault.read("f.bin", repo=str(repo))


def test_an_object_changed_after_a_verified_read_is_checked_again(tmp_path: Path) -> None:
    """Reads in one process trust a cache object verified before while its inode, size, mtime and
    ctime are unchanged (remotes/reading.py); any rewrite changes them."""
    repo = new_repo(tmp_path / "repo")
    write(repo, {"f.bin": b"x" * 5000})
    api.add(["f.bin"], repo=repo)
    commit(repo, "v1")
    assert labvault.read("f.bin", repo=str(repo), rev="HEAD") == b"x" * 5000  # verified, remembered
    assert labvault.read("f.bin", repo=str(repo), rev="HEAD") == b"x" * 5000  # trusted
    obj = next(p for p in (repo / ".dvc" / "cache" / "files" / "md5").rglob("*") if p.is_file())
    st = obj.stat()
    obj.chmod(stat.S_IWUSR | stat.S_IRUSR)
    obj.write_bytes(b"z" * 5000)  # same size, and the old times put back: the ctime still moves
    os.utime(obj, ns=(st.st_atime_ns, st.st_mtime_ns))
    with pytest.raises(CorruptObjectError):
        labvault.read("f.bin", repo=str(repo), rev="HEAD")
    replacement = obj.with_name("other")
    replacement.write_bytes(b"w" * 5000)
    os.replace(replacement, obj)  # a new inode
    with pytest.raises(CorruptObjectError):
        labvault.read("f.bin", repo=str(repo), rev="HEAD")


def test_bad_input_gives_clear_errors(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    write(repo, {"f": b"data", "d/a": b"a"})
    api.add(["f", "d"], repo=repo)
    commit(repo, "v1")
    with pytest.raises(ScmError, match="unknown git revision 'nope'"):
        labvault.read("f", repo=str(repo), rev="nope")
    with pytest.raises(PathError, match="not tracked"):
        labvault.read("missing", repo=str(repo), rev="HEAD")
    with pytest.raises(PathError, match="d/zz"):
        labvault.read("d/zz", repo=str(repo), rev="HEAD")
    with pytest.raises(PathError, match="is a folder"):
        labvault.read("d", repo=str(repo))
    with pytest.raises(UsageError):
        labvault.read("f", repo=str(repo), mode="w")
    with pytest.raises(PathError, match="does not exist"):
        labvault.read("f", repo=str(tmp_path / "nowhere"))
    wipe_cache(repo)
    with pytest.raises(CacheError, match="in none of") as exc:
        labvault.read("f", repo=str(repo))
    assert "no default remote" in str(exc.value)


def test_cli_errors_are_one_line_with_exit_codes(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    write(repo, {"f": b"data"})
    api.add(["f"], repo=repo)
    commit(repo, "v1")
    exe = str(Path(sys.executable).parent / "labvault")
    for args, code in ((["get", str(repo), "f", "--rev", "nope"], 7), (["get", str(repo), "nothere"], 2),
                       (["import", str(repo), "f"], 2)):
        proc = subprocess.run([exe, *args], cwd=tmp_path, capture_output=True, text=True)
        assert proc.returncode == code, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_get_refuses_an_existing_destination_and_leaves_nothing(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    write(repo, {"d/a": b"a", "d/b": b"b"})
    api.add(["d"], repo=repo)
    commit(repo, "v1")
    (tmp_path / "out").mkdir()
    with pytest.raises(PathError, match="already exists"):
        api.get(str(repo), "d", out=tmp_path / "out")
    wipe_cache(repo)
    with pytest.raises(CacheError):
        api.get(str(repo), "d", out=tmp_path / "new")
    assert not (tmp_path / "new").exists()
    assert not any(p.name.endswith(".lvtmp") for p in tmp_path.iterdir())


def test_get_with_the_manifest_cached_and_the_files_on_the_remote(tmp_path: Path) -> None:
    """Every download thread misses the cache at once: the remote is opened once, for all."""
    repo = new_repo(tmp_path / "src")
    api.remote_add("r", str(tmp_path / "store"), default=True, repo=repo)
    files = {f"d/{i:03d}/f.bin": os.urandom(64 + i) for i in range(300)}
    write(repo, files)
    api.add(["d"], repo=repo)
    commit(repo, "v1")
    api.push(repo=repo)
    for p in (repo / ".dvc" / "cache" / "files" / "md5").rglob("*"):
        if p.is_file() and not p.name.endswith(".dir"):
            p.unlink()
    r = api.get(str(repo), "d", out=tmp_path / "out", jobs=8)
    assert r.files == 300
    assert {f"d/{p.relative_to(tmp_path / 'out').as_posix()}": p.read_bytes()
            for p in (tmp_path / "out").rglob("*") if p.is_file()} == files


def test_update_refuses_an_output_changed_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = new_repo(tmp_path / "src")
    write(src, {"f.txt": b"one\n"})
    api.add(["f.txt"], repo=src)
    commit(src, "v1")
    dst = new_repo(tmp_path / "dst")
    monkeypatch.chdir(dst)
    r = api.import_(str(src), "f.txt")
    assert r.changed and (dst / "f.txt").read_bytes() == b"one\n"
    assert [u.changed for u in api.update()] == [False]  # nothing new at the source
    write(src, {"f.txt": b"two\n"})
    api.add(["f.txt"], repo=src)
    commit(src, "v2")
    (dst / "f.txt").chmod(0o644)
    (dst / "f.txt").write_bytes(b"mine\n")
    before = (dst / "f.txt.dvc").read_text()
    with pytest.raises(WorkspaceConflictError, match="changed since it was imported"):
        api.update(["f.txt.dvc"])
    assert (dst / "f.txt").read_bytes() == b"mine\n" and (dst / "f.txt.dvc").read_text() == before
    (dst / "f.txt").write_bytes(b"one\n")
    assert [u.changed for u in api.update(["f.txt.dvc"])] == [True]
    assert (dst / "f.txt").read_bytes() == b"two\n"
    assert api.status(repo=dst).clean
