"""Pipeline and pointer files that git ignores, side by side: in the workspace dvc skips a ``dvc.yaml``
or ``.dvc`` file its ``.gitignore`` files (or ``.git/info/exclude``) ignore, even one forced into git,
and never looks inside a folder they ignore; both tools must then see the same stages and data."""

from __future__ import annotations

import json

import pytest

from tests.sidebyside.gen import W_PY
from tests.sidebyside.harness import SideBySide, dot_graph

pytestmark = pytest.mark.interop

POINTER = "outs:\n- md5: {md5}\n  size: 2\n  hash: md5\n  path: {name}\n"


def _pointer(name: str, md5: str) -> str:
    return POINTER.format(md5=md5, name=name)


def _build(sbs: SideBySide) -> None:
    """A root .gitignore ignoring a whole data folder (the usual Python template, with data kept
    out of git) that still holds pointers added with ``git add -f``; a `*.dvc` pattern with a
    negation; a folder ignored by ``.git/info/exclude`` holding a dvc.yaml; pointers and a
    pipeline git does not ignore beside them."""
    sbs.write({
        "w.py": W_PY,
        ".gitignore": "__pycache__/\ndata/datasets/pl/\nscratch/*.dvc\n!scratch/keep.dvc\n",
        "data/datasets/pl/.gitignore": "/rights\n/loans",
        "data/datasets/pl/rights.dvc": _pointer("rights", "40f1a060a21513fcbca34ac5c1630566.dir"),
        "data/datasets/pl/loans.dvc": _pointer("loans", "0b7bbd8e967b0ffa6d49e7cb18d61bbd"),
        "data/datasets/pl/dvc.yaml": "stages:\n  hidden:\n    cmd: python w.py h.txt\n    outs:\n      - h.txt\n",
        "data/datasets/nsa/.gitignore": "/pages\n",
        "data/datasets/nsa/pages.dvc": _pointer("pages", "e212ce19a8d1e43dd2613da4a2684f22"),
        "scratch/tmp.dvc": _pointer("tmp", "9a0364b9e99bb480dd25e1f0284c8555"),
        "scratch/keep.dvc": _pointer("keep", "c157a79031e1c40f85931829bc5fc552"),
        "scratch/.gitignore": "/tmp\n/keep\n",
        "local/dvc.yaml": "stages:\n  excluded:\n    cmd: python w.py e.txt\n    outs:\n      - e.txt\n",
        "dvc.yaml": (
            "stages:\n"
            "  prepare:\n    cmd: python w.py prepared.txt -- data/datasets/nsa/pages\n"
            "    deps:\n      - data/datasets/nsa/pages\n    outs:\n      - prepared.txt\n"
        ),
    })
    for root in sbs.roots:
        exclude = root / ".git" / "info" / "exclude"
        exclude.parent.mkdir(parents=True, exist_ok=True)
        exclude.write_text("local/\n")
    sbs.git_commit("pipeline")
    sbs.git("add", "-f", "data/datasets/pl", "scratch/tmp.dvc", "local/dvc.yaml")
    sbs.git_commit("forced into git")


def test_gitignored_control_files_are_skipped(sbs: SideBySide) -> None:
    _build(sbs)
    lv, dvc = sbs.run_ok("stage", "list", "--all", "--name-only")
    assert sorted(lv.stdout.split()) == sorted(dvc.stdout.split())
    assert "hidden" not in lv.stdout and "excluded" not in lv.stdout and "scratch/tmp.dvc" not in lv.stdout
    assert "scratch/keep.dvc" in lv.stdout

    lv, dvc = sbs.run_ok("dag", "--dot")
    assert dot_graph(lv.stdout) == dot_graph(dvc.stdout)

    lv_data, dvc_data = sbs.json("data", "status")
    assert {k: sorted(v) if isinstance(v, list) else v for k, v in lv_data.items()} == \
        {k: sorted(v) if isinstance(v, list) else v for k, v in dvc_data.items()}
    # what git's HEAD holds is read from git, where nothing is ignored; the workspace skips them
    assert "data/datasets/pl/rights/" not in lv_data.get("not_in_cache", [])
    assert "data/datasets/pl/rights/" in json.dumps(lv_data.get("committed"))

    lv_changed, dvc_changed = sbs.stage_status()
    assert lv_changed == dvc_changed == {"prepare": True}
