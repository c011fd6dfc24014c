"""The progress bar of a push moves while a large object is sent (per request or part on object
storage), and the bytes it shows add up to what was sent, on every storage kind."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from labvault import api
from labvault.progress import Task
from tests.remote_support import RemoteTarget

MB = 1 << 20
BIG = 70 * MB  # two S3 parts (64 MiB), two GCS chunks (50 MiB), many Azure blocks


@dataclass
class _Recorded:
    description: str
    total_bytes: int | None
    steps: list[tuple[int, int]] = field(default_factory=list)  # (items, bytes) per advance

    def advance(self, items: int = 1, nbytes: int = 0) -> None:
        self.steps.append((items, nbytes))

    def close(self) -> None:
        return None


@dataclass
class _Recorder:
    tasks: list[_Recorded] = field(default_factory=list)

    def task(self, description: str, total: int | None = None, total_bytes: int | None = None) -> Task:
        self.tasks.append(_Recorded(description, total_bytes))
        return self.tasks[-1]

    def message(self, text: str) -> None:
        return None


def test_push_progress_moves_within_a_large_object(remote_target: RemoteTarget, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in remote_target.env.items():
        monkeypatch.setenv(k, v)
    repo = tmp_path / "repo"
    (repo / "data").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "data" / "big.bin").write_bytes(os.urandom(BIG))
    (repo / "data" / "small.txt").write_bytes(b"small\n")
    api.init(repo)
    api.add(["data"], repo=repo)
    api.remote_add("r", remote_target.url, default=True, repo=repo)
    for option, value in remote_target.options.items():
        name = {"endpointurl": "endpointurl", "connection_string": "connection_string"}.get(option)
        if name:
            api.remote_modify("r", name, value, repo=repo)
    rec = _Recorder()
    result = api.push(repo=repo, progress=rec)
    assert result.failed == [] and len(result.transferred) == 3
    [task] = [t for t in rec.tasks if t.description.startswith("pushing")]
    assert task.total_bytes == result.transferred_bytes
    assert sum(b for _, b in task.steps) == result.transferred_bytes  # nothing counted twice
    assert sum(i for i, _ in task.steps) == 3
    within = [b for i, b in task.steps if i == 0 and b > 0]  # bytes told before their object was done
    if remote_target.kind == "local":
        assert within == [BIG]  # a folder remote tells once, at the end of the copy
    else:
        assert len(within) >= 2 and sum(within) == BIG, within
    remote_target.assert_objects_intact()
