"""The run cache: a stage's outputs keyed by its exact inputs (cmd, dep md5s, param values).

Entries live in ``<cache>/labvault-runs/XX/<key>.json`` (kept apart from DVC's own ``runs/``,
whose format differs). A hit restores the outputs from the object store instead of running.
"""

from __future__ import annotations

import json
import os
from typing import Any

from labvault.fsutil import atomic_write_bytes


def run_key(cmd: Any, deps: list[dict[str, Any]], params: dict[str, Any], outs: list[str]) -> str:
    doc = {
        "cmd": cmd,
        "deps": sorted((d["path"], d["md5"]) for d in deps),
        "params": params,
        "outs": sorted(outs),
    }
    blob = json.dumps(doc, sort_keys=True, default=str).encode()
    import hashlib

    return hashlib.sha256(blob).hexdigest()


class RunCache:
    def __init__(self, cache_dir: str) -> None:
        self.root = os.path.join(cache_dir, "labvault-runs")

    def _path(self, key: str) -> str:
        return os.path.join(self.root, key[:2], key + ".json")

    def get(self, key: str) -> list[dict[str, Any]] | None:
        try:
            with open(self._path(key), encoding="utf-8") as f:
                data = json.load(f)
        except (FileNotFoundError, ValueError):
            return None
        outs = data.get("outs")
        return outs if isinstance(outs, list) else None

    def put(self, key: str, outs: list[dict[str, Any]]) -> None:
        path = self._path(key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        atomic_write_bytes(path, json.dumps({"outs": outs}, sort_keys=True).encode(), fsync=False)
