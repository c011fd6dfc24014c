"""Metrics files that point outside the repository (``..``, an absolute path, a symlink out) are
not read: a cloned repository must not make ``metrics show`` (in a terminal, or the dashboard
serving the repo) print the files of the machine it runs on. A symlink within the repository, or
into the cache (``cache.type`` symlink with ``cache.dir`` anywhere), is read as before."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from labvault import api


def test_metrics_leaving_the_repository_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps({"token": 1234}))
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    api.init(repo)
    outside_cache = tmp_path / "shared-cache" / "files" / "md5" / "ab"
    outside_cache.mkdir(parents=True)
    (outside_cache / "cdef").write_text(json.dumps({"cached": 3}))
    api.config_set("cache.dir", str(tmp_path / "shared-cache"), repo=repo)
    (repo / "in.json").write_text(json.dumps({"acc": 0.5}))
    os.symlink("in.json", repo / "link_in.json")
    os.symlink(secret, repo / "link_out.json")
    os.symlink(outside_cache / "cdef", repo / "link_cache.json")
    (repo / "dvc.yaml").write_text("metrics:\n- ../secret.json\n- " + str(secret) + "\n- link_out.json\n"
                                   "- in.json\n- link_in.json\n- link_cache.json\n")

    report = api.metrics_show(repo=repo)
    (rev,) = report.revisions
    by_path = {f.path: f for f in rev.files}
    for refused in ("../secret.json", str(secret), "link_out.json"):
        assert by_path[refused].data is None
        assert by_path[refused].error == f"{refused} leaves the repository: not read"
    assert by_path["in.json"].data == {"acc": 0.5}
    assert by_path["link_in.json"].data == {"acc": 0.5}
    assert by_path["link_cache.json"].data == {"cached": 3}
    assert "1234" not in json.dumps([f.data for f in rev.files])
