"""A stage that reads data through ``labvault.read`` gets that exact version in its run's lineage."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.conftest import Runner
from tests.interop._support import commit_all


def test_a_read_inside_a_stage_is_an_input_of_its_run(
    git_repo: Path, git: Runner, lv: Runner, env: dict[str, str], catalog_url: str, make_tree  # type: ignore[no-untyped-def]
) -> None:
    env["LABVAULT_CATALOG_URL"] = catalog_url
    lv("init")
    make_tree(git_repo, {"data/a.txt": "first\n"})
    lv("add", "data/a.txt")
    commit_all(git, "v1")
    git("tag", "v1")
    (git_repo / "data/a.txt").chmod(0o644)
    (git_repo / "data/a.txt").write_text("second, the current one\n")
    lv("add", "data/a.txt")
    commit_all(git, "v2")
    script = "import labvault, os; os.makedirs('models', exist_ok=True); " \
             "open('models/m.bin', 'wb').write(labvault.read('data/a.txt', rev='v1'))"
    (git_repo / "dvc.yaml").write_text(
        f"stages:\n  train:\n    cmd: {sys.executable} -c \"{script}\"\n    outs:\n    - models/m.bin\n"
    )
    lv("repro")
    assert (git_repo / "models/m.bin").read_text() == "first\n"
    lineage = lv("catalog", "lineage", "model", "models/m.bin", "--up").stdout
    assert "data/a.txt@1" in lineage, lineage
    assert "data/a.txt@2" not in lineage, lineage
