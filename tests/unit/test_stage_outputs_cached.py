"""Model test of the stage-output cache check (``pipelines.status.Inputs.not_in_cache``): for
every combination of a missing object (none, the folder's manifest, one file's, the file output's)
and a workspace state (as recorded, a file edited, a file deleted, the folder deleted), each on a
fresh copy or after a status that left the stat cache vouching for the objects, the reasons
``stage_status`` gives must match what is worked out the slow, obvious way: read dvc.lock, open
each recorded manifest straight from the cache folder, and ``stat`` every object it names."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest
import yaml

from labvault import api

PIPELINE = {
    "stages": {
        "s": {"cmd": f"{sys.executable} -c \"open('f.txt','w').write('file out\\n')\"", "outs": ["f.txt"]},
        "t": {
            "cmd": f"{sys.executable} -c \"import os; os.makedirs('od', exist_ok=True); "
                   "[open(f'od/{n}','w').write(n + ' out\\n') for n in 'abc']\"",
            "outs": ["od"],
        },
    }
}
LOSSES = ("none", "manifest", "od/b", "f.txt")
WORKSPACES = ("as recorded", "edited", "file deleted", "folder deleted")


def _cache(root: Path) -> Path:
    return root / ".dvc" / "cache" / "files" / "md5"


def _path(root: Path, oid: str) -> Path:
    return _cache(root) / oid[:2] / oid[2:]


def _recorded(root: Path) -> dict[str, str]:
    lock = yaml.safe_load((root / "dvc.lock").read_text())
    return {o["path"]: o["md5"] for s in lock["stages"].values() for o in s["outs"]}


def _obviously_missing(root: Path, oid: str) -> bool:
    """Any object of the recorded version gone: the slow, obvious way."""
    if not _path(root, oid).is_file():
        return True
    if not oid.endswith(".dir"):
        return False
    return any(not _path(root, e["md5"]).is_file() for e in json.loads(_path(root, oid).read_bytes()))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("built")
    api.init(root, no_scm=True)
    (root / "dvc.yaml").write_text(yaml.safe_dump(PIPELINE))
    api.repro(repo=root)
    return root


@pytest.mark.parametrize(("loss", "workspace", "warm"), list(itertools.product(LOSSES, WORKSPACES, (False, True))))
def test_reasons_match_the_obvious_check(built: Path, tmp_path: Path, loss: str, workspace: str, warm: bool) -> None:
    """``warm``: a status ran first, past the stamps' racy window, so that the stat cache vouches
    for the folder's objects (the shortcut under test); cold: a fresh copy, nothing vouched for."""
    root = tmp_path / "repo"
    shutil.copytree(built, root, symlinks=True)
    rec = _recorded(root)
    if warm:
        assert not any(s.changed for s in api.stage_status(repo=root))
        time.sleep(0.12)
    if loss == "manifest":
        _path(root, rec["od"]).unlink()
    elif loss == "od/b":
        _path(root, next(e["md5"] for e in json.loads(_path(root, rec["od"]).read_bytes())
                         if e["relpath"] == "b")).unlink()
    elif loss == "f.txt":
        _path(root, rec["f.txt"]).unlink()
    if workspace == "edited":
        os.chmod(root / "od" / "a", 0o644)
        (root / "od" / "a").write_text("edited\n")
    elif workspace == "file deleted":
        (root / "od" / "c").unlink()
    elif workspace == "folder deleted":
        shutil.rmtree(root / "od")

    reasons = {s.address: list(s.reasons) for s in api.stage_status(repo=root)}

    def expected(out: str, changed_reason: str | None) -> list[str]:
        if _obviously_missing(root, rec[out]):
            return [f"out not in cache: {out}"]
        return [changed_reason] if changed_reason else []

    t_change = {"as recorded": None, "edited": "out modified: od", "file deleted": "out modified: od"}.get(
        workspace, "out deleted: od")
    assert reasons == {"s": expected("f.txt", None), "t": expected("od", t_change)}
    # whatever was missing, repro stores it again and the pipeline is clean
    api.repro(repo=root)
    assert not any(s.changed for s in api.stage_status(repo=root))
    assert not any(_obviously_missing(root, oid) for oid in _recorded(root).values())
