"""Helpers shared by the remotes and pipelines benchmarks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any


def fmt_s(s: float) -> str:
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.2f} s"


def src_snapshot() -> dict[str, str]:
    """Which labvault source was measured: src/ may change between runs (it is not always committed)."""
    import datetime as dt
    import hashlib

    files = sorted((Path(__file__).resolve().parent.parent / "src" / "labvault").rglob("*.py"))
    h = hashlib.md5()
    for f in files:
        h.update(f.as_posix().encode() + b"\0" + f.read_bytes())
    newest = max((f.stat().st_mtime for f in files), default=0.0)
    stamp = dt.datetime.fromtimestamp(newest).astimezone().isoformat(timespec="seconds")
    import provenance

    return {
        "provenance": provenance.current(),
        "labvault_src": f"md5 {h.hexdigest()[:12]} of {len(files)} files under src/labvault, newest modified {stamp}"
    }


def fresh_dir(path: Path) -> Path:
    for p in (path, path.with_name(path.name + ".site-cache")):
        if p.exists():
            shutil.rmtree(p)
    return path


def write_json_atomic(path: Path, data: Any) -> None:
    """Results files are rewritten after every measurement; a reader never sees half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(path)
