"""``import-url``, ``update`` and ``get-url`` of an http(s) URL, side by side with dvc on a real
HTTP server: the same ``.dvc`` file byte for byte (the same ``checksum:`` dvc records: the ETag,
else its token of the headers), whether the server sends an ETag, only Last-Modified, or neither,
through a redirect and with a query string; each tool's ``update`` finds the other's import
unchanged, and both download again once the file changed on the server."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.http_server import HttpRemote, Knobs
from tests.sidebyside.harness import SideBySide

pytestmark = pytest.mark.interop


@pytest.fixture(params=["etag", "last-modified", "bare"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HttpRemote]:
    knobs = Knobs(etag=request.param == "etag", last_modified=request.param == "last-modified",
                  redirects={"/old/data.csv": "/pub/data.csv"})
    srv = HttpRemote(tmp_path / "web", knobs)
    (srv.root / "pub").mkdir()
    (srv.root / "pub" / "data.csv").write_text("a,b\n1,2\n")
    yield srv
    srv.stop()


def _base(srv: HttpRemote) -> str:
    return srv.url.rsplit("/", 1)[0]


@pytest.mark.parametrize("path", ["/pub/data.csv", "/old/data.csv", "/pub/data.csv?raw=1"])
def test_import_update_same_files(sbs: SideBySide, server: HttpRemote, path: str) -> None:
    url = _base(server) + path
    sbs.run_ok("import-url", url)
    lv, dvc = sbs.read("data.csv.dvc")
    assert lv == dvc, (lv.decode(), dvc.decode())
    assert b"checksum:" in lv
    for root in sbs.roots:
        assert (root / "data.csv").read_text() == "a,b\n1,2\n"

    # each tool's update reads the other's file as unchanged
    (sbs.lv_root / "data.csv.dvc").write_bytes(dvc)
    lv_up, dvc_up = sbs.run_ok("update", "data.csv.dvc")
    assert "unchanged" in lv_up.stdout and "didn't change" in dvc_up.stderr + dvc_up.stdout, (lv_up, dvc_up)
    assert sbs.read("data.csv.dvc")[0] == dvc

    # the file changes on the server: both download it again and record the same
    time.sleep(1.1)  # Last-Modified has whole seconds
    target = server.root / "pub" / "data.csv"
    target.write_text("a,b\n1,2\n3,4\n")
    os.utime(target)
    # frozen, as import-url writes it: status does not ask the source (neither does dvc's)
    st = json.loads(sbs.lv("status", "--json").stdout)
    assert st["outputs"][0]["changed_deps"] == {}, st
    sbs.run_ok("unfreeze", "data.csv.dvc")  # then both ask the server, and see the change
    st = json.loads(sbs.lv("status", "--json").stdout)
    assert st["outputs"][0]["changed_deps"] == {url: "modified"}, st
    dvc_st = sbs.dvc("status")
    assert "changed deps" in dvc_st.stdout and "modified:" in dvc_st.stdout and url in dvc_st.stdout, dvc_st.stdout
    sbs.run_ok("update", "data.csv.dvc")
    lv, dvc = sbs.read("data.csv.dvc")
    assert lv == dvc, (lv.decode(), dvc.decode())
    for root in sbs.roots:
        assert (root / "data.csv").read_text() == "a,b\n1,2\n3,4\n"


def test_get_url(sbs: SideBySide, server: HttpRemote, tmp_path: Path) -> None:
    url = _base(server) + "/old/data.csv"
    sbs.run_ok("get-url", url, "got.csv")
    assert sbs.read("got.csv") == (b"a,b\n1,2\n", b"a,b\n1,2\n")


@pytest.mark.parametrize(("path", "words"), [("/pub/nothing.csv", "does not exist"),
                                              ("/pub/", "folder")])
def test_bad_sources_are_one_line(sbs: SideBySide, server: HttpRemote, path: str, words: str) -> None:
    for cmd in (["import-url", _base(server) + path, "out.csv"], ["get-url", _base(server) + path, "out.csv"]):
        r = sbs.lv(*cmd)
        lines = r.stderr.strip().splitlines()
        assert r.returncode != 0 and len(lines) == 1 and words in lines[0], (cmd, r.stderr)
        assert not (sbs.lv_root / "out.csv").exists() and not (sbs.lv_root / "out.csv.dvc").exists()


def test_status_of_a_source_gone_or_unreachable(sbs: SideBySide, tmp_path: Path) -> None:
    """An unfrozen import whose file is gone (404) is "deleted" for both tools; once the server is
    down, dvc still says "deleted" (its file system answers "does not exist" to any failure) and
    labvault says "unreachable" with the reason, counts it as a change as dvc does, and reports the
    rest of the workspace instead of failing."""
    srv = HttpRemote(tmp_path / "web", Knobs(etag=True))
    try:
        (srv.root / "data.csv").write_text("a,b\n1,2\n")
        url = srv.url.rsplit("/", 1)[0] + "/data.csv"
        sbs.run_ok("import-url", url)
        sbs.run_ok("unfreeze", "data.csv.dvc")
        for root in sbs.roots:
            (root / "other.txt").write_text("tracked beside the import\n")
        sbs.run_ok("add", "other.txt")
        (srv.root / "data.csv").unlink()
        st = json.loads(sbs.lv("status", "--json").stdout)
        assert [o["changed_deps"] for o in st["outputs"] if o["pointer"] == "data.csv.dvc"] == [{url: "deleted"}], st
        assert "deleted:" in sbs.dvc("status").stdout
    finally:
        srv.stop()
    for root in sbs.roots:  # the other output changes too: status must still see it
        (root / "other.txt").write_text("edited\n")
    r = sbs.lv("status", "--json")
    assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)
    by_pointer = {o["pointer"]: o for o in st["outputs"]}
    assert by_pointer["data.csv.dvc"]["changed_deps"] == {url: "unreachable"}, st
    assert len(by_pointer["data.csv.dvc"]["notes"]) == 1 and "could not be checked" in \
        by_pointer["data.csv.dvc"]["notes"][0], st
    assert by_pointer["other.txt.dvc"]["status"] == "modified" and st["clean"] is False, st
    text = sbs.lv("status")
    assert text.returncode == 0 and "unreachable source: " + url in text.stdout, text
    assert "other.txt: modified" in text.stdout, text.stdout
    assert sbs.lv("status", "-q").returncode == 1
    dvc_st = sbs.dvc("status")
    assert "deleted:" in dvc_st.stdout and url in dvc_st.stdout, dvc_st.stdout
