"""What a push killed with SIGKILL leaves on a remote, and who removes it.

Folder remote: the push is killed while a temp file is in the remote; every object under its final
name is intact, ``status --cloud`` neither counts nor touches the temp file, and the next ``push``
removes it, but never a temp file of a live writer (this process) nor a fresh one written on
another machine. S3 (moto): killed during a multipart upload, no object appears; the next push
sends the object whole; the incomplete upload is aborted once it is old enough (shown here by
asking the backend to clean up "two days later")."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from labvault.remotes.leftovers import host_tag, remove_stale, tmp_name
from labvault.remotes.registry import open_backend
from tests.conftest import Runner
from tests.services import S3Server

MB = 1024 * 1024


def _temps(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.lvtmp"))


def _intact(root: Path) -> int:
    """Every object under its final name hashes to that name; returns how many there are."""
    n = 0
    for p in (root / "files" / "md5").rglob("*"):
        if p.is_file() and not p.name.endswith(".lvtmp"):
            digest = hashlib.md5(p.read_bytes(), usedforsecurity=False).hexdigest()
            assert p.parent.name + p.name in (digest, digest + ".dir"), p
            n += 1
    return n


def _kill_when(argv: list[str], cwd: Path, env: dict[str, str], seen: Callable[[], bool], limit: float = 120) -> bool:
    """Run ``argv``; SIGKILL its process group as soon as ``seen()``; False when it ended first."""
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + limit
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if seen():
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
                return True
            time.sleep(0.001)
        return False
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


def _repo_with(
    git_repo: Path, git: Runner, lv: Runner, make_tree: Callable[[Path, dict[str, bytes | str]], None],
    files: dict[str, bytes | str], url: str, options: list[tuple[str, str]],
) -> None:  # fmt: skip
    make_tree(git_repo, files)
    lv("init")
    lv("add", "data")
    lv("remote", "add", "-d", "r", url)
    for option, value in options:
        lv("remote", "modify", "r", option, value)
    git("add", "-A")
    git("commit", "-q", "-m", "data")


def test_killed_push_to_folder(
    git_repo: Path, git: Runner, lv: Runner, env: dict[str, str],
    make_tree: Callable[[Path, dict[str, bytes | str]], None], tmp_path: Path,
) -> None:  # fmt: skip
    store = tmp_path / "store"
    left: list[Path] = []
    for attempt, size in enumerate((24 * MB, 64 * MB, 160 * MB)):
        files: dict[str, bytes | str] = {f"data/big{i}.bin": os.urandom(size // 4) * 4 for i in range(3)}
        files.update({f"data/small{i}.txt": f"{attempt} {i}\n" for i in range(10)})
        if attempt == 0:
            _repo_with(git_repo, git, lv, make_tree, files, str(store), [])
        else:  # timing did not cooperate: bigger files, a fresh remote
            make_tree(git_repo, files)
            lv("add", "data")
            for p in store.rglob("*"):
                if p.is_file():
                    p.unlink()
        killed = _kill_when([*lv.argv0, "push", "-j", "1"], git_repo, env, lambda: bool(_temps(store)))
        left = _temps(store)
        if killed and left:
            break
    else:
        pytest.fail("push was never killed while a temp file was in the remote, even with 160 MiB files")

    _intact(store)
    assert all(host_tag() in p.name for p in left), left
    folder = left[0].parent
    # A live writer (this process) and a fresh temp file from another machine, in the same folder.
    live = Path(tmp_name(str(folder / ("0" * 30))))
    live.write_bytes(b"being written")
    other_host = "00000000" if host_tag() != "00000000" else "11111111"
    foreign = folder / f".{'1' * 30}.4242-{other_host}{'ab' * 4}.lvtmp"
    foreign.write_bytes(b"written elsewhere")

    before = _temps(store)
    status = json.loads(lv("status", "--cloud", "--json").stdout)
    assert status["in_sync"] is False and status["to_push"], status
    assert _temps(store) == before  # status reads, never removes

    pushed = json.loads(lv("push", "--json").stdout)
    assert pushed["failed"] == [] and pushed["leftovers_removed"] >= len(left), pushed
    assert _temps(store) == sorted([live, foreign])
    assert _intact(store) == 14  # 3 big, 10 small, 1 manifest
    assert json.loads(lv("status", "--cloud", "--json").stdout)["in_sync"] is True

    # An hour later the foreign one is stale; the live writer's never is.
    assert remove_stale(str(folder), time.time() + 2 * 3600) == 1
    assert _temps(store) == [live]
    live.unlink()


def test_killed_multipart_push_to_s3(
    s3_server: S3Server, s3_bucket: str, git_repo: Path, git: Runner, lv: Runner, env: dict[str, str],
    make_tree: Callable[[Path, dict[str, bytes | str]], None],
) -> None:  # fmt: skip
    env.update(s3_server.env)
    client = s3_server.client()
    big = os.urandom(MB) * 110  # s3fs sends 100 MiB and more as a multipart upload of 50 MiB parts
    oid = hashlib.md5(big, usedforsecurity=False).hexdigest()
    files: dict[str, bytes | str] = {"data/big.bin": big, "data/a.txt": "a\n"}
    _repo_with(git_repo, git, lv, make_tree, files, f"s3://{s3_bucket}/store", [("endpointurl", s3_server.endpoint)])

    def uploads() -> list[dict]:  # type: ignore[type-arg]
        return list(client.list_multipart_uploads(Bucket=s3_bucket, Prefix="store/").get("Uploads", []))

    killed = _kill_when([*lv.argv0, "push", "-j", "1"], git_repo, env, lambda: bool(uploads()))
    assert killed, "push finished before its multipart upload was seen"
    assert f"store/files/md5/{oid[:2]}/{oid[2:]}" not in s3_server.keys(s3_bucket, "store/")
    assert len(uploads()) == 1
    # Someone else's incomplete upload outside the remote's layout: never ours to abort.
    client.create_multipart_upload(Bucket=s3_bucket, Key="store/notes/draft.txt")

    status = json.loads(lv("status", "--cloud", "--json").stdout)
    assert oid in status["to_push"], status
    assert len(uploads()) == 2  # status reads, never aborts

    # The age rule, on the server's own clock for the upload (moto dates every upload 2010-11-10).
    started = next(u["Initiated"] for u in uploads() if u["Key"].startswith("store/files/")).timestamp()
    backend = open_backend(f"s3://{s3_bucket}/store", s3_server.options)
    assert backend.clean_leftovers([], started + 3600) == 0  # an hour after it began: may still be live
    assert len(uploads()) == 2
    old = time.time() - started > 86400  # only on a server whose dates are wrong, as moto's

    pushed = json.loads(lv("push", "--json").stdout)
    assert pushed["failed"] == [] and pushed["leftovers_removed"] == int(old), pushed
    assert s3_server.read(s3_bucket, f"store/files/md5/{oid[:2]}/{oid[2:]}") == big
    assert json.loads(lv("status", "--cloud", "--json").stdout)["in_sync"] is True

    assert backend.clean_leftovers([], started + 2 * 86400) == int(not old)  # a day later: abandoned
    assert [u["Key"] for u in uploads()] == ["store/notes/draft.txt"]
    backend.close()


def test_push_without_rights_to_list_uploads(
    git_repo: Path, git: Runner, lv: Runner, env: dict[str, str],
    make_tree: Callable[[Path, dict[str, bytes | str]], None],
) -> None:  # fmt: skip
    """Credentials that may put and read objects but not list or abort multipart uploads: the
    cleanup is skipped, the push succeeds."""
    import boto3
    from botocore.exceptions import ClientError

    from tests.services import S3_KEY, S3_SECRET, _start, _venv_tool, free_port, unavailable

    exe = _venv_tool("moto_server")
    if exe is None:
        unavailable("moto_server not found: install the dev extra (`make venv`, moto[server])")
    port = free_port()
    server_env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="3")
    server_env.pop("AWS_ENDPOINT_URL", None)
    server_env.pop("AWS_ENDPOINT_URL_S3", None)
    server = _start("moto-limited", [exe, "-H", "127.0.0.1", "-p", str(port)], port, None, server_env)
    try:
        endpoint = f"http://127.0.0.1:{port}"
        iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                           aws_access_key_id=S3_KEY, aws_secret_access_key=S3_SECRET)  # fmt: skip
        iam.create_user(UserName="pusher")
        policy = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "Action": ["s3:ListBucketMultipartUploads", "s3:AbortMultipartUpload"], "Resource": "*"},
        ]}  # fmt: skip
        iam.put_user_policy(UserName="pusher", PolicyName="s3", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName="pusher")["AccessKey"]
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])  # fmt: skip
        client.create_bucket(Bucket="lv-limited")
        with pytest.raises(ClientError):
            client.list_multipart_uploads(Bucket="lv-limited")  # the server does enforce the denial
        env.update({"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
                    "AWS_DEFAULT_REGION": "us-east-1", "NO_PROXY": "127.0.0.1,localhost"})  # fmt: skip
        files: dict[str, bytes | str] = {f"data/f{i}.txt": f"{i}\n" for i in range(5)}
        _repo_with(git_repo, git, lv, make_tree, files, "s3://lv-limited/store", [("endpointurl", endpoint)])
        pushed = json.loads(lv("push", "--json").stdout)
        assert pushed["failed"] == [] and pushed["transferred"] == 6 and pushed["leftovers_removed"] == 0, pushed
        assert json.loads(lv("status", "--cloud", "--json").stdout)["in_sync"] is True
    finally:
        server.stop()
