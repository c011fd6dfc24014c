"""Deterministic workload generation (seeded random bytes) into the scratch folder.

A workload is generated once into ``<work>/pristine/<name>/`` and reused while its
parameters (recorded in a stamp file) stay the same; every timed run works on a copy.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

MIN_FILE = 1024
MAX_FILE = 8192
FILES_PER_DIR = 500
BLOCK = 16 << 20


@dataclass(frozen=True)
class Workload:
    """A generated data set: a folder of many small files, or one large file."""

    name: str
    kind: str  # "tree" or "file"
    target: str  # name of the tracked path inside a repo ("data" or "big.bin")
    nfiles: int
    ndirs: int
    size: int  # for "file": its size; for "tree": total bytes (filled in after generation)
    seed: int

    @property
    def description(self) -> str:
        if self.kind == "file":
            return f"{self.name}: one file `{self.target}` of {fmt_bytes(self.size)} random bytes (seed {self.seed})"
        return (
            f"{self.name}: {self.nfiles:,} files of {MIN_FILE // 1024}..{MAX_FILE // 1024} KiB random bytes "
            f"in {self.ndirs} folders `{self.target}/d000..d{self.ndirs - 1:03d}`, "
            f"{fmt_bytes(self.size)} in total (seed {self.seed})"
        )


def fmt_bytes(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def tree_workload(name: str, nfiles: int, seed: int, ndirs: int | None = None) -> Workload:
    if ndirs is None:
        ndirs = max(1, nfiles // FILES_PER_DIR)
    return Workload(name, "tree", "data", nfiles, ndirs, 0, seed)


def file_workload(name: str, size: int, seed: int) -> Workload:
    return Workload(name, "file", "big.bin", 1, 0, size, seed)


def tree_layout(w: Workload) -> list[str]:
    """Relative paths of the tree's files, in generation order."""
    return [f"d{i % w.ndirs:03d}/f{i:07d}.bin" for i in range(w.nfiles)]


def ensure(w: Workload, pristine_root: Path) -> tuple[Workload, Path]:
    """Generate ``w`` unless an identical copy exists; returns (workload with size, path)."""
    base = pristine_root / w.name
    stamp = base / "stamp.json"
    params = {k: v for k, v in asdict(w).items() if not (w.kind == "tree" and k == "size")}
    if stamp.exists():
        saved = json.loads(stamp.read_text())
        if saved.get("params") == params:
            return Workload(**{**asdict(w), "size": saved["size"]}), base / w.target
    if base.exists():
        shutil.rmtree(base)
    base.mkdir(parents=True)
    out = base / w.target
    if w.kind == "file":
        _write_random_file(out, w.size, random.Random(w.seed))
        total = w.size
    else:
        total = _write_tree(out, w)
    stamp.write_text(json.dumps({"params": params, "size": total}))
    return Workload(**{**asdict(w), "size": total}), out


def _write_random_file(path: Path, size: int, rng: random.Random) -> None:
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(BLOCK, left)
            f.write(rng.randbytes(n))
            left -= n


def _write_tree(root: Path, w: Workload) -> int:
    rng = random.Random(w.seed)
    for d in range(w.ndirs):
        (root / f"d{d:03d}").mkdir(parents=True)
    total = 0
    for rel in tree_layout(w):
        size = rng.randint(MIN_FILE, MAX_FILE)
        (root / rel).write_bytes(rng.randbytes(size))
        total += size
    return total


def modify_one(tree_root: Path, w: Workload, salt: int) -> str:
    """Overwrite one file in the middle of the tree with new bytes of the same size."""
    rel = tree_layout(w)[w.nfiles // 2]
    path = tree_root / rel
    size = path.stat().st_size
    data = random.Random(w.seed * 1_000_003 + salt).randbytes(size)
    # Replace rather than write in place: the workspace copy may be a link into a cache.
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return rel
