"""HTTP(S) remotes, side by side with dvc (its ``dvc-http`` plugin) on a real HTTP server: what
one tool pushes the other pulls byte for byte, with ``POST`` (dvc's default) and ``PUT``; the same
objects land on the server; basic auth works when configured and fails with one line when not;
an object gone from or damaged on the server is seen and sent again, or refused on the way in;
commands that need a listing or deletion refuse such a remote, deleting nothing."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.http_server import HttpRemote, Knobs
from tests.sidebyside.harness import SideBySide

pytestmark = pytest.mark.interop

BIG = random.Random(7).randbytes(3 * 1024 * 1024 + 17)
FILES: dict[str, str | bytes] = {
    "a.txt": "alpha\n",
    "d/one.txt": "one\n",
    "d/sub/big.bin": BIG,
    "d/empty": b"",
}


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[HttpRemote, HttpRemote]]:
    """(labvault's server, dvc's server)."""
    pair = (HttpRemote(tmp_path / "srv-lv"), HttpRemote(tmp_path / "srv-dvc"))
    yield pair
    for s in pair:
        s.stop()


def _objects(folder: Path) -> dict[str, bytes]:
    base = folder / "files" / "md5"
    if not base.is_dir():
        return {}
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(".upload-")}


def _repo(sbs: SideBySide, servers: tuple[HttpRemote, HttpRemote]) -> None:
    lv_srv, dvc_srv = servers
    sbs.run_ok("remote", "add", "-d", "web", dvc_srv.url, lv_args=["remote", "add", "-d", "web", lv_srv.url])
    sbs.write(FILES)
    sbs.run_ok("add", "a.txt", "d")
    sbs.git_commit("data")


def _wipe(root: Path) -> None:
    """A fresh clone's state: no cache, no data in the workspace."""
    shutil.rmtree(root / ".dvc" / "cache", ignore_errors=True)
    shutil.rmtree(root / "d")
    (root / "a.txt").unlink()


def _same_data(root: Path) -> None:
    for rel, content in FILES.items():
        data = content.encode() if isinstance(content, str) else content
        assert (root / rel).read_bytes() == data, rel


@pytest.mark.parametrize("method", [None, "PUT"])
def test_each_tool_pulls_what_the_other_pushed(sbs: SideBySide, servers: tuple[HttpRemote, HttpRemote],
                                               method: str | None) -> None:
    lv_srv, dvc_srv = servers
    _repo(sbs, servers)
    if method:
        sbs.run_ok("remote", "modify", "web", "method", method)
    sbs.run_ok("push")
    pushed = _objects(lv_srv.folder)
    assert pushed == _objects(dvc_srv.folder) and len(pushed) == 5  # a.txt, d's 3 files (one empty), d's manifest
    for oid_path, data in pushed.items():
        assert hashlib.md5(data).hexdigest() == oid_path.replace("/", "").removesuffix(".dir")
    uploads = {m for m, p in lv_srv.knobs.requests if m in ("PUT", "POST")}
    assert uploads == {method or "POST"}, lv_srv.knobs.requests

    # each tool's copy now pulls from the server the other tool filled
    for root, other in ((sbs.lv_root, dvc_srv), (sbs.dvc_root, lv_srv)):
        _wipe(root)
        cfg = root / ".dvc" / "config"
        cfg.write_text(cfg.read_text().replace(lv_srv.url if other is dvc_srv else dvc_srv.url, other.url))
    sbs.run_ok("pull")
    _same_data(sbs.lv_root)
    _same_data(sbs.dvc_root)
    st = json.loads(sbs.lv("status", "-c", "--json").stdout)
    assert st["in_sync"] is True and st["remote"] == "web", st


def test_basic_auth(sbs: SideBySide, tmp_path: Path) -> None:
    knobs = [Knobs(user="ada", password="s3cret"), Knobs(user="ada", password="s3cret")]
    srv = (HttpRemote(tmp_path / "a-lv", knobs[0]), HttpRemote(tmp_path / "a-dvc", knobs[1]))
    try:
        _repo(sbs, srv)
        lv, dvc = sbs.run("push")
        assert lv.returncode == 8 and dvc.returncode != 0, (lv.stderr, dvc.stderr)
        lines = lv.stderr.strip().splitlines()
        assert len(lines) == 1 and "access denied" in lines[0] and "password" in lines[0], lv.stderr
        assert _objects(srv[0].folder) == {}
        for option, value in (("auth", "basic"), ("user", "ada"), ("password", "s3cret")):
            sbs.run_ok("remote", "modify", "--local", "web", option, value)
        sbs.run_ok("push")
        assert _objects(srv[0].folder) == _objects(srv[1].folder) and len(_objects(srv[0].folder)) == 5
        _wipe(sbs.lv_root)
        assert sbs.lv("pull").returncode == 0
        _same_data(sbs.lv_root)
    finally:
        for s in srv:
            s.stop()


def test_lost_or_damaged_objects_on_the_server(sbs: SideBySide, servers: tuple[HttpRemote, HttpRemote]) -> None:
    lv_srv, _ = servers
    _repo(sbs, servers)
    sbs.run_ok("push")
    objects = lv_srv.folder / "files" / "md5"
    one = hashlib.md5(b"one\n").hexdigest()
    big = hashlib.md5(BIG).hexdigest()
    (objects / one[:2] / one[2:]).unlink()  # deleted by someone else
    (objects / big[:2] / big[2:]).write_bytes(BIG[:1000])  # truncated by someone else
    st = json.loads(sbs.lv("status", "-c", "--json").stdout)
    assert not st["in_sync"] and set(st["to_push"]) == {one, big} and st["wrong_size"] == [big], st
    push = sbs.lv("push", "--json")
    assert push.returncode == 0, push.stderr
    assert (objects / one[:2] / one[2:]).read_bytes() == b"one\n"
    assert (objects / big[:2] / big[2:]).read_bytes() == BIG

    # same size, other bytes: a pull refuses the object and stores nothing under its name
    damaged = bytearray(BIG)
    damaged[12345] ^= 0xFF
    (objects / big[:2] / big[2:]).write_bytes(bytes(damaged))
    _wipe(sbs.lv_root)
    pull = sbs.lv("pull")
    assert pull.returncode != 0 and big in pull.stderr, pull.stderr
    assert not (sbs.lv_root / ".dvc" / "cache" / "files" / "md5" / big[:2] / big[2:]).exists()
    assert (sbs.lv_root / "a.txt").read_text() == "alpha\n"  # the others were still fetched


def test_listing_and_deleting_commands_refuse(sbs: SideBySide, servers: tuple[HttpRemote, HttpRemote]) -> None:
    lv_srv, _ = servers
    _repo(sbs, servers)
    sbs.run_ok("push")
    before = _objects(lv_srv.folder)
    (sbs.lv_root / "a.txt.dvc").unlink()  # a.txt's object is now unused
    for args in (["gc", "-w", "-c", "-f"], ["verify", "--remote", "web"]):
        r = sbs.lv(*args)
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 8 and len(lines) == 1 and "cannot be listed" in lines[0], (args, r.stderr)
    assert _objects(lv_srv.folder) == before


def test_retries_and_a_server_without_head_sizes(sbs: SideBySide, tmp_path: Path) -> None:
    """A few 503s are retried; sizes come from a ranged GET when HEAD gives none."""
    knobs = Knobs(head_length=False)
    srv = (HttpRemote(tmp_path / "r-lv", knobs), HttpRemote(tmp_path / "r-dvc"))
    try:
        _repo(sbs, srv)
        assert sbs.lv("push").returncode == 0
        assert len(_objects(srv[0].folder)) == 5
        ranged = [p for m, p in knobs.requests if m == "GET"]
        st = json.loads(sbs.lv("status", "-c", "--json").stdout)
        assert st["in_sync"] is True, st
        assert len([p for m, p in knobs.requests if m == "GET"]) > len(ranged)  # sizes asked by ranged GETs
        _wipe(sbs.lv_root)
        knobs.unavailable = 3
        pull = sbs.lv("pull")
        assert pull.returncode == 0, pull.stderr
        _same_data(sbs.lv_root)
        assert knobs.unavailable == 0
    finally:
        for s in srv:
            s.stop()


def test_unreachable_server_is_one_line(sbs: SideBySide, tmp_path: Path) -> None:
    srv = HttpRemote(tmp_path / "gone")
    url = srv.url
    srv.stop()  # nothing listens there any more
    sbs.run_ok("remote", "add", "-d", "web", url)
    sbs.write(FILES)
    sbs.run_ok("add", "a.txt")
    r = sbs.lv("push")
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 8 and len(lines) == 1 and "127.0.0.1" in lines[0], r.stderr


def test_get_and_open_read_through_an_http_remote(sbs: SideBySide, servers: tuple[HttpRemote, HttpRemote],
                                                  tmp_path: Path) -> None:
    """``get`` of a repository whose cache is gone reads from its HTTP remote, as dvc's does;
    ``labvault.open`` streams a file of a folder from there, checked as it is read."""
    _repo(sbs, servers)
    sbs.run_ok("push")
    for root in sbs.roots:
        shutil.rmtree(root / ".dvc" / "cache")
    outs = tmp_path / "lv-got.bin", tmp_path / "dvc-got.bin"
    sbs.run_ok("get", str(sbs.dvc_root), "d/sub/big.bin", "-o", str(outs[1]),
               lv_args=["get", str(sbs.lv_root), "d/sub/big.bin", "-o", str(outs[0])])
    assert outs[0].read_bytes() == outs[1].read_bytes() == BIG
    import labvault

    with labvault.open("d/sub/big.bin", repo=sbs.lv_root, rev="HEAD") as f:
        assert f.read() == BIG
