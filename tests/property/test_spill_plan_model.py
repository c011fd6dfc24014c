"""The spill plan against a brute-force model: over random histories (commits, a branch, a tag,
a workspace left uncommitted), what the plan moves is exactly the cache's objects that no kept
revision names (read here from ``git show`` and the manifests' JSON, not through labvault), less
those read since the cutoff."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labvault import api
from labvault.tiers.spill_plan import plan_spill
from labvault.workspace.repo import open_repo
from labvault.workspace.used import collect_used

ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
       "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_CONFIG_NOSYSTEM": "1"}
CUTOFF = datetime(2030, 1, 1)

version = st.tuples(st.integers(0, 5), st.lists(st.integers(0, 5), min_size=1, max_size=3, unique=True))
step = st.tuples(version, st.sampled_from(["commit", "commit+branch", "commit+tag", "workspace"]))
history = st.lists(step, min_size=1, max_size=4)
flags = st.sampled_from(["none", "tags", "branches", "commits"])


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, env=ENV, check=True, capture_output=True, text=True).stdout


def _write(repo: Path, model: int, images: list[int]) -> None:
    if (repo / "model.bin").exists():
        (repo / "model.bin").unlink()
        shutil.rmtree(repo / "images")
    (repo / "model.bin").write_bytes(b"model %d" % model)
    (repo / "images").mkdir()
    for i in images:
        (repo / f"images/{i}.jpg").write_bytes(b"image %d" % i)
    api.add(["model.bin", "images"], repo=repo)


def _oids_of_pointer(text: str) -> set[str]:
    return {o["md5"] for o in (yaml.safe_load(text) or {}).get("outs", []) if "md5" in o}


def _brute_force_kept(repo: Path, which: str) -> set[str]:
    texts = [(repo / n).read_text() for n in ("model.bin.dvc", "images.dvc")]
    if which != "none":
        refs = {"commits": _git(repo, "rev-list", "--all").split(),
                "tags": _git(repo, "tag").split(),
                "branches": _git(repo, "branch", "--format=%(refname:short)").split()}[which]
        for rev in refs:
            present = set(_git(repo, "ls-tree", "--name-only", rev).split())
            texts += [_git(repo, "show", f"{rev}:{n}") for n in ("model.bin.dvc", "images.dvc") if n in present]
    kept: set[str] = set()
    for text in texts:
        for oid in _oids_of_pointer(text):
            kept.add(oid)
            if oid.endswith(".dir"):
                path = repo / ".dvc/cache/files/md5" / oid[:2] / oid[2:]
                kept.update(e["md5"] for e in json.loads(path.read_bytes()))
    return kept


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history, flags, st.sets(st.integers(0, 5), max_size=3))
def test_plan_moves_exactly_the_unkept_unread_objects(steps: list, which: str, read: set[int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        _git(repo, "init", "-q", "-b", "main")
        api.init(repo)
        _git(repo, "commit", "-q", "-m", "init")
        for n, ((model, images), how) in enumerate(steps):
            _write(repo, model, images)
            if how == "workspace":
                continue
            _git(repo, "add", "-A")
            _git(repo, "commit", "-q", "--allow-empty", "-m", f"v{n}")
            if how == "commit+branch":
                _git(repo, "branch", "-f", f"b{n}")
            elif how == "commit+tag":
                _git(repo, "tag", "-f", f"t{n}")
        r = open_repo(repo)
        used = collect_used(r, which == "tags", which == "branches", which == "commits")
        recent = {hashlib.md5(b"model %d" % m).hexdigest() for m in read}
        reads = {o: CUTOFF + timedelta(days=1) for o in recent}
        plan = plan_spill(r.odb, used.refs, "cold", CUTOFF, lambda oids: {o: reads[o] for o in oids if o in reads})
        everything = {o.oid for o in r.odb.iter_objects()}
        kept = _brute_force_kept(repo, which)
        moved = {i.oid for i in plan.move} | {i.oid for i in plan.manifests}
        assert moved == everything - kept - recent
        assert plan.kept == len(everything & kept)
        assert all(not o.endswith(".dir") for o in (i.oid for i in plan.move))
