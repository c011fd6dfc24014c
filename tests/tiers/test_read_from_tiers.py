"""labvault.read / get fall back to a lab tier's copy of an output when the cache and the remote
lack it; the copy is checked against the md5 like any other source."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

import labvault
from labvault import api
from labvault.errors import CacheError, CorruptObjectError

ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
       "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_CONFIG_NOSYSTEM": "1"}


def _repo(path: Path, files: dict[str, bytes], targets: list[str]) -> Path:
    path.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=path, check=True, env={**os.environ, **ENV})
    api.init(path)
    for rel, data in files.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_bytes(data)
    api.add(targets, repo=path)
    subprocess.run(["git", "add", "-A"], cwd=path, check=True, env={**os.environ, **ENV})
    subprocess.run(["git", "commit", "-qm", "v1"], cwd=path, check=True, env={**os.environ, **ENV})
    cache = path / ".dvc" / "cache"
    for root, dirs, _ in os.walk(cache):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)
    return path


def test_reads_fall_back_to_the_lab_tiers(lab_root: Path, catalog_url: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABVAULT_CATALOG_URL", catalog_url)
    blob = os.urandom(3000)
    (lab_root / "nvme0/datasets/coco_2017_val.zip").write_bytes(blob)
    imgs = {"a.png": b"A" * 10, "s/b.png": b"B" * 20}
    for rel, data in imgs.items():
        p = lab_root / "ssd0/datasets/imgs_v1" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    api.lab_scan(catalog_url=catalog_url)
    files = {"data/coco_2017_val.zip": blob, **{f"data/imgs_v1/{k}": v for k, v in imgs.items()}}
    repo = _repo(tmp_path / "repo", files, ["data/coco_2017_val.zip", "data/imgs_v1"])
    # the cache keeps the folder's manifest only: its files, and the single file, are on the tiers
    for p in (repo / ".dvc" / "cache" / "files" / "md5").rglob("*"):
        if p.is_file() and not p.name.endswith(".dir"):
            p.unlink()
    assert labvault.read("data/coco_2017_val.zip", repo=str(repo)) == blob
    assert labvault.read("data/imgs_v1/s/b.png", repo=str(repo), rev="HEAD") == b"B" * 20
    r = api.get(str(repo), "data/imgs_v1", out=tmp_path / "got")
    assert r.files == 2 and (tmp_path / "got/s/b.png").read_bytes() == b"B" * 20
    # a damaged tier copy is reported, never returned
    target = lab_root / "nvme0/datasets/coco_2017_val.zip"
    target.write_bytes(os.urandom(3000))
    with pytest.raises(CorruptObjectError, match="lab's copy"):
        labvault.read("data/coco_2017_val.zip", repo=str(repo))
    target.unlink()
    with pytest.raises(CacheError, match="in none of"):
        labvault.read("data/coco_2017_val.zip", repo=str(repo))
    shutil.rmtree(tmp_path / "got")
