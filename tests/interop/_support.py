"""Helpers shared by the interop tests: sample trees, cache listings, DVC 2.x repos built by hand."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

from tests.conftest import Runner, snapshot

# A directory output exercising the awkward cases: nesting, empty files, spaces, non-ASCII and
# astral-plane names, CRLF text (hashed raw since DVC 3), and names that sort differently as plain
# strings than as path components ("sub x/", "sub-x/", "sub.txt" all come before "sub/").
DIR_TREE: dict[str, bytes | str] = {
    "a.txt": "alpha\n",
    "empty.dat": b"",
    "crlf.txt": b"first\r\nsecond\r\n",
    "sub/b.csv": "x,y\n1,2\n",
    "sub/deeper/still deeper/c.bin": bytes(range(256)) * 4,
    "sub/deeper/empty too": b"",
    "sub x/a": "space\n",
    "sub-x/a": "dash\n",
    "sub.txt": "dot\n",
    "Sub/a": "upper\n",
    "données/été 2024.txt": "chaud\n",
    "with space/file with space.txt": "spaced out\n",
    "日本/データ.json": '{"k": 1}\n',
    "\U0001f600.txt": "smile\n",
}


def big_blob(size: int = 3 * 1024 * 1024 + 17, seed: int = 7) -> bytes:
    """Deterministic pseudo-random bytes, larger than any sensible hashing chunk."""
    return random.Random(seed).randbytes(size)


def under(prefix: str, files: dict[str, bytes | str]) -> dict[str, bytes | str]:
    return {f"{prefix}/{rel}": content for rel, content in files.items()}


def commit_all(git: Runner, message: str, cwd: Path | None = None) -> None:
    git("add", "-A", cwd=cwd)
    git("commit", "-q", "--no-verify", "-m", message, cwd=cwd)


def as_json(text: str) -> Any:
    return json.loads(text)


def dvc_status(dvc: Runner, cwd: Path | None = None) -> Any:
    return json.loads(dvc("status", "--json", cwd=cwd).stdout)


def dvc_data_status(dvc: Runner, cwd: Path | None = None) -> Any:
    return json.loads(dvc("data", "status", "--json", cwd=cwd).stdout)


def lv_status(lv: Runner, cwd: Path | None = None) -> Any:
    return json.loads(lv("status", "--json", cwd=cwd).stdout)


def cache_files(repo: Path) -> dict[str, bytes]:
    """relpath -> bytes of every object in the DVC 3.x cache (.dvc/cache/files/md5)."""
    base = repo / ".dvc" / "cache" / "files" / "md5"
    return snapshot(base) if base.is_dir() else {}


def workspace(repo: Path) -> dict[str, bytes]:
    """Everything outside .git and .dvc: data, pointers, ignore files."""
    return snapshot(repo)


def pointers_and_ignores(repo: Path) -> dict[str, bytes]:
    """The .dvc pointer files and the .gitignore files of the workspace."""
    return {
        rel: data
        for rel, data in snapshot(repo).items()
        if rel.endswith(".dvc") or rel.rsplit("/", 1)[-1] == ".gitignore"
    }


# --- DVC 2.x layout -------------------------------------------------------------------------

_TEXT_BYTES = bytes(range(32, 127)) + b"\n\r\t\f\b"


def looks_like_text(data: bytes) -> bool:
    """The 2.x rule: the first 512 bytes hold no NUL and at most 30% non-text bytes."""
    head = data[:512]
    if not head:
        return True
    if b"\x00" in head:
        return False
    return len(head.translate(None, _TEXT_BYTES)) / len(head) <= 0.30


LEGACY_CHUNK = 1 << 20


def legacy_md5(data: bytes) -> str:
    """DVC 2.x content hash: the data is read in 1 MiB chunks, and each chunk that looks like
    text (judged on its own first 512 bytes) is hashed after CRLF -> LF, the others as they are.
    A CRLF split across two chunks stays as it is. (Checked against dvc 3.67.1's legacy hashing.)"""
    h = hashlib.md5()
    for start in range(0, len(data), LEGACY_CHUNK):
        chunk = data[start : start + LEGACY_CHUNK]
        h.update(chunk.replace(b"\r\n", b"\n") if looks_like_text(chunk) else chunk)
    return h.hexdigest()


def _legacy_put(repo: Path, oid: str, data: bytes) -> None:
    obj = repo / ".dvc" / "cache" / oid[:2] / oid[2:]
    obj.parent.mkdir(parents=True, exist_ok=True)
    obj.write_bytes(data)
    obj.chmod(0o444)


def write_legacy_file(repo: Path, rel: str, data: bytes) -> str:
    """Cache `data` the 2.x way and write `<rel>.dvc` without a `hash:` key; returns the md5."""
    oid = legacy_md5(data)
    _legacy_put(repo, oid, data)
    target = repo / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    name = target.name
    (target.parent / f"{name}.dvc").write_text(
        f"outs:\n- md5: {oid}\n  size: {len(data)}\n  path: {name}\n", encoding="utf-8"
    )
    _ignore(target)
    return oid


def write_legacy_dir(repo: Path, rel: str, files: dict[str, bytes]) -> str:
    """Cache a directory the 2.x way (.dir manifest in .dvc/cache/XX/...); returns the .dir id."""
    entries = []
    for relpath, data in files.items():
        oid = legacy_md5(data)
        _legacy_put(repo, oid, data)
        entries.append({"md5": oid, "relpath": relpath})
    entries.sort(key=lambda e: e["relpath"])
    manifest = json.dumps(entries, sort_keys=True).encode()
    dir_oid = hashlib.md5(manifest).hexdigest() + ".dir"
    _legacy_put(repo, dir_oid, manifest)
    target = repo / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    name = target.name
    size = sum(len(d) for d in files.values())
    (target.parent / f"{name}.dvc").write_text(
        f"outs:\n- md5: {dir_oid}\n  size: {size}\n  nfiles: {len(files)}\n  path: {name}\n",
        encoding="utf-8",
    )
    _ignore(target)
    return dir_oid


def _ignore(target: Path) -> None:
    gi = target.parent / ".gitignore"
    old = gi.read_text(encoding="utf-8") if gi.exists() else ""
    gi.write_text(old + f"/{target.name}\n", encoding="utf-8")
