"""A repo with an old and a new version of a file and a folder, for the spill tests."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from labvault import api

OLD_FILE = b"old model weights\n" * 500
NEW_FILE = b"new model weights\n" * 600
OLD_IMAGES = {"a.jpg": b"image a, first take", "b.jpg": b"image b", "c.jpg": b"image c, first take"}
NEW_IMAGES = {"a.jpg": b"image a, second take", "b.jpg": b"image b", "c.jpg": b"image c, second take"}


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def write_images(folder: Path, files: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        p = folder / name
        if p.exists():
            p.chmod(0o644)
            p.unlink()
        p.write_bytes(data)


def two_versions(root: Path) -> tuple[Path, dict[str, str]]:
    """A repo (no git) whose pointers name the new versions; returns it and the old pointers' text."""
    repo = root / "repo"
    repo.mkdir(parents=True)
    api.init(repo, no_scm=True)
    (repo / "model.bin").write_bytes(OLD_FILE)
    write_images(repo / "images", OLD_IMAGES)
    api.add(["model.bin", "images"], repo=repo)
    old = {n: (repo / n).read_text() for n in ("model.bin.dvc", "images.dvc")}
    (repo / "model.bin").chmod(0o644)
    (repo / "model.bin").unlink()
    (repo / "model.bin").write_bytes(NEW_FILE)
    write_images(repo / "images", NEW_IMAGES)
    api.add(["model.bin", "images"], repo=repo)
    return repo, old


def age_cache(repo: Path, days: float) -> None:
    """Every cache object's mtime ``days`` in the past (as if added then and never read)."""
    then = time.time() - days * 86400
    for folder, _, names in os.walk(repo / ".dvc/cache/files/md5"):
        for n in names:
            os.utime(os.path.join(folder, n), (then, then))


def cache_has(repo: Path, oid: str) -> bool:
    return (repo / ".dvc/cache/files/md5" / oid[:2] / oid[2:]).exists()


def tier_file(tier: Path, oid: str) -> Path:
    return tier / "files/md5" / oid[:2] / oid[2:]


def old_oids() -> set[str]:
    """The objects only the old versions use (b.jpg is shared)."""
    return {md5(OLD_FILE), md5(OLD_IMAGES["a.jpg"]), md5(OLD_IMAGES["c.jpg"])}
