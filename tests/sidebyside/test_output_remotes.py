"""Outputs bound to a remote (``remote: NAME`` in a .dvc file's output or a dvc.yaml output's
flags) and pipeline outputs marked ``push: false``, side by side with dvc: ``push`` sends each
output to its own remote and the others to the default; ``push -r NAME`` sends the unbound
outputs and those bound to NAME, never one bound elsewhere (private data stays off a public
remote); ``fetch``/``pull`` bring each from its remote; ``status -c`` looks where each lives.
The same objects land on each remote and in each cache, in both tools."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.sidebyside.harness import SideBySide

pytestmark = pytest.mark.interop

PIPELINE = """\
stages:
  train:
    cmd: python -c "open('model.pkl','w').write('model\\\\n'); open('cache.bin','w').write('scratch\\\\n')"
    deps: [train.py, secret.csv]
    outs:
      - model.pkl:
          remote: private
      - cache.bin:
          push: false
  report:
    cmd: python -c "open('report.txt','w').write('report\\\\n')"
    deps: [model.pkl]
    outs: [report.txt]
"""


def _objects(root: Path) -> set[str]:
    base = root / "files" / "md5"
    return {p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file()} if base.is_dir() else set()


def _remotes(sbs: SideBySide) -> dict[str, tuple[Path, Path]]:
    """remote name -> (labvault's folder, dvc's folder)."""
    return {name: (sbs.base / f"lv-{name}", sbs.base / f"dvc-{name}") for name in ("public", "private")}


def _same_remotes(sbs: SideBySide) -> dict[str, set[str]]:
    held = {}
    for name, (lv, dvc) in _remotes(sbs).items():
        assert _objects(lv) == _objects(dvc), f"remote {name}: labvault {_objects(lv)}, dvc {_objects(dvc)}"
        held[name] = _objects(lv)
    return held


def _md5(text: str) -> str:
    import hashlib

    digest = hashlib.md5(text.encode()).hexdigest()
    return f"{digest[:2]}/{digest[2:]}"


def _repo(sbs: SideBySide) -> None:
    for name, (lv, dvc) in _remotes(sbs).items():
        flags = ["-d"] if name == "public" else []
        sbs.run_ok("remote", "add", *flags, name, str(dvc), lv_args=["remote", "add", *flags, name, str(lv)])
    sbs.write({"open.csv": "open\n", "secret.csv": "secret\n", "train.py": "# train\n", "dvc.yaml": PIPELINE})
    sbs.run_ok("add", "open.csv", "secret.csv")
    for root in sbs.roots:  # bind secret.csv to the private remote, as a user edits the file
        pointer = root / "secret.csv.dvc"
        pointer.write_text(pointer.read_text() + "  remote: private\n")
    sbs.repro()
    sbs.git_commit("data and pipeline")


def test_push_fetch_and_status_follow_each_outputs_remote(sbs: SideBySide) -> None:
    _repo(sbs)
    lv, dvc = sbs.run("push", "-r", "public")  # only what is not bound elsewhere
    assert lv.returncode == 0 and dvc.returncode == 0, (lv.stderr, dvc.stderr)
    held = _same_remotes(sbs)
    assert held["public"] == {_md5("open\n"), _md5("report\n")} and held["private"] == set()

    sbs.run_ok("push")  # each output to its remote; cache.bin (push: false) to none
    held = _same_remotes(sbs)
    assert held["private"] == {_md5("secret\n"), _md5("model\n")}
    assert held["public"] == {_md5("open\n"), _md5("report\n")}

    lv, dvc = sbs.run("status", "-c")
    assert lv.returncode == 0 and dvc.returncode == 0, (lv.stderr, dvc.stderr)
    assert "in sync" in lv.stdout, lv.stdout
    for name in ("public", "private"):  # every commit's outputs: the routes read from dvc.yaml at each
        shutil.rmtree(_remotes(sbs)[name][0])
        shutil.rmtree(_remotes(sbs)[name][1])
    lv, dvc = sbs.run("status", "-c")  # dvc skips outputs bound to a remote here; labvault looks there
    assert "4 objects only in the cache" in lv.stdout, lv.stdout
    sbs.run_ok("push", "-A")
    assert _same_remotes(sbs) == held

    for root in sbs.roots:  # a fresh start: no cache, no data
        shutil.rmtree(root / ".dvc" / "cache")
        for name in ("open.csv", "secret.csv", "model.pkl", "report.txt", "cache.bin"):
            (root / name).unlink()
    lv, dvc = sbs.run("fetch", "-r", "public")  # the private outputs are not fetched from public
    assert _objects(sbs.lv_root / ".dvc" / "cache") == _objects(sbs.dvc_root / ".dvc" / "cache") == {
        _md5("open\n"), _md5("report\n")}
    lv, dvc = sbs.run("pull")  # each from its own remote; cache.bin was never pushed: both fail
    assert lv.returncode != 0 and dvc.returncode != 0, (lv.stdout, dvc.stdout)
    for name, text in (("open.csv", "open\n"), ("secret.csv", "secret\n"), ("model.pkl", "model\n"),
                       ("report.txt", "report\n")):
        assert (sbs.lv_root / name).read_text() == (sbs.dvc_root / name).read_text() == text, name
    assert _objects(sbs.lv_root / ".dvc" / "cache") == _objects(sbs.dvc_root / ".dvc" / "cache")


def test_an_output_bound_to_an_unknown_remote_is_refused(sbs: SideBySide) -> None:
    """A .dvc output naming a remote the config lacks: both tools fail the push and send nothing."""
    _repo(sbs)
    for root in sbs.roots:
        pointer = root / "open.csv.dvc"
        pointer.write_text(pointer.read_text() + "  remote: nowhere\n")
    lv, dvc = sbs.run("push")
    assert lv.returncode != 0 and dvc.returncode != 0, (lv.stdout, dvc.stdout)
    assert "nowhere" in lv.stderr and len(lv.stderr.strip().splitlines()) == 1, lv.stderr
    assert not _objects(sbs.base / "lv-public") and not _objects(sbs.base / "lv-private")


def test_get_and_open_read_a_bound_output_from_its_remote(sbs: SideBySide, tmp_path: Path) -> None:
    """``get`` of another repository (its cache gone) reads an output bound to a remote from that
    remote and the others from the default, as dvc does; so does ``labvault.open``, and a folder
    bound to a remote is listed from there."""
    _repo(sbs)
    for root in sbs.roots:
        (root / "set").mkdir()
        (root / "set" / "a.txt").write_text("a\n")
    sbs.run_ok("add", "set")
    for root in sbs.roots:
        pointer = root / "set.dvc"
        pointer.write_text(pointer.read_text() + "  remote: private\n")
    sbs.git_commit("a bound folder")
    sbs.run_ok("push")
    for root in sbs.roots:
        shutil.rmtree(root / ".dvc" / "cache")
    for name, text in (("secret.csv", "secret\n"), ("open.csv", "open\n"), ("set/a.txt", "a\n")):
        dests = tmp_path / "lv-got" / name, tmp_path / "dvc-got" / name
        for d in dests:
            d.parent.mkdir(parents=True, exist_ok=True)
        lv, dvc = sbs.run("get", str(sbs.dvc_root), name, "-o", str(dests[1]),
                          lv_args=["get", str(sbs.lv_root), name, "-o", str(dests[0])])
        assert lv.returncode == 0 and dvc.returncode == 0, (name, lv.stderr, dvc.stderr)
        assert dests[0].read_text() == dests[1].read_text() == text, name
    import labvault

    assert labvault.read("secret.csv", repo=sbs.lv_root, rev="HEAD", mode="r") == "secret\n"
    listed = sbs.lv("list", str(sbs.lv_root), "set", "--json")
    assert listed.returncode == 0 and "a.txt" in listed.stdout, listed.stderr


def test_repro_pull_brings_bound_outputs_from_their_remote(sbs: SideBySide) -> None:
    """``repro --pull`` in a fresh copy: the .dvc input bound to the private remote and the
    stage outputs (model.pkl bound to it too) come from where each lives, so the same stages
    run in both tools (train, whose ``push: false`` output was never pushed) and the same bytes
    result."""
    _repo(sbs)
    sbs.run_ok("push")
    for root in sbs.roots:
        shutil.rmtree(root / ".dvc" / "cache")
        for name in ("open.csv", "secret.csv", "model.pkl", "report.txt", "cache.bin"):
            (root / name).unlink()
    sbs.run_ok("repro", "--pull")
    for name in ("secret.csv", "model.pkl", "report.txt", "cache.bin"):
        assert (sbs.lv_root / name).read_text() == (sbs.dvc_root / name).read_text(), name
    assert (sbs.lv_root / "secret.csv").read_text() == "secret\n"


def _sorted(data: Any) -> Any:
    return {k: sorted(v) if isinstance(v, list) else v for k, v in data.items()}


def test_data_status_not_in_remote(sbs: SideBySide) -> None:
    """``data status --not-in-remote [--granular] [-r NAME]``: the same lists as dvc's, as outputs
    are pushed to their remotes one by one, with a folder whose file then goes missing there;
    ``push: false`` outputs are never listed."""
    _repo(sbs)
    for root in sbs.roots:
        (root / "set").mkdir()
        for name in ("a.txt", "b.txt"):
            (root / "set" / name).write_text(name)
    sbs.run_ok("add", "set")
    sbs.git_commit("a folder")

    def same(*args: str) -> Any:
        return sbs.assert_same_json("data", "status", "--not-in-remote", *args, transform=_sorted)

    assert same()["not_in_remote"] == ["model.pkl", "open.csv", "report.txt", "secret.csv", "set/"]
    assert len(same("--granular")["not_in_remote"]) == 7  # the folder and its two files
    sbs.run_ok("push", "-r", "public")
    assert same()["not_in_remote"] == ["model.pkl", "secret.csv"]  # bound to the private remote
    same("-r", "private")  # the unbound ones looked for there instead
    sbs.run_ok("push")
    assert "not_in_remote" not in same("--granular")
    inner = _md5("a.txt")
    for store in _remotes(sbs)["public"]:
        (store / "files" / "md5" / inner).unlink()
    assert "not_in_remote" not in same()  # per output, only the manifest is looked for
    assert same("--granular")["not_in_remote"] == ["set/a.txt"]


def test_gc_cloud_cleans_the_remotes_outputs_are_bound_to(sbs: SideBySide) -> None:
    """``gc -w -c``: the default remote and every remote a kept output is bound to lose the
    objects nothing kept uses, in both tools alike. One deliberate difference: an object a kept
    output uses that sits on a remote it is not routed to (pushed there before the output was
    bound) is deleted by dvc and kept by labvault, which keeps on every remote whatever the kept
    revisions use."""
    _repo(sbs)
    sbs.run_ok("push")
    stray = _md5("model\n")  # model.pkl (bound to private) also on public, as if pushed before binding
    for lv_dir, dvc_dir in (_remotes(sbs)["public"],):
        for base in (lv_dir, dvc_dir):
            src = _remotes(sbs)["private"][0 if base == lv_dir else 1] / "files" / "md5" / stray
            dst = base / "files" / "md5" / stray
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
    for root in sbs.roots:  # open.csv and secret.csv no longer tracked; model.pkl still bound to private
        (root / "open.csv.dvc").unlink()
        (root / "secret.csv.dvc").unlink()
    import json

    # the cache's plan is the same whether the remotes' routes are read (-c) or not
    plain = json.loads(sbs.lv("gc", "-w", "--dry-run", "--json").stdout)
    cloud = json.loads(sbs.lv("gc", "-w", "-c", "--dry-run", "--json").stdout)
    assert (plain["objects"], plain["kept"]) == (cloud["objects"], cloud["kept"]) and plain["objects"], (plain, cloud)
    assert [b["remote"] for b in cloud["bound_remotes"]] == ["private"], cloud
    lv, _ = sbs.run_ok("gc", "-w", "-c", "-f")
    lv_held = {name: _objects(dirs[0]) for name, dirs in _remotes(sbs).items()}
    dvc_held = {name: _objects(dirs[1]) for name, dirs in _remotes(sbs).items()}
    assert dvc_held["private"] == lv_held["private"] == {_md5("model\n")}
    assert dvc_held["public"] == {_md5("report\n")}
    assert lv_held["public"] == {_md5("report\n"), stray}
    assert "from remote private (outputs are bound to it)" in lv.stdout, lv.stdout
