"""The skim of ``pipeline_routes`` (dvc.yaml files are parsed only when their text could set an
output's ``remote`` or ``push`` flag) against always parsing them: the same routes for every
generated pipeline, whatever way its flag keys are written (plain, quoted, escaped) and whether
or not any flag is set."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labvault.pipelines.outputs import pipeline_routes
from labvault.workspace.repo import init_repo

# ways a flag key may be spelled in YAML; the escaped ones hide the key's letters from the text
SPELLINGS = {
    "remote": ["remote", "'remote'", '"remote"', '"re\\x6dote"', '"\\u0072emote"'],
    "push": ["push", "'push'", '"push"', '"pu\\x73h"'],
    "cache": ["cache", '"cache"'],
    "persist": ["persist"],
}
flag = st.sampled_from(sorted(SPELLINGS)).flatmap(
    lambda key: st.tuples(st.just(key), st.sampled_from(SPELLINGS[key]),
                          st.sampled_from(["r1", "private-store"]) if key == "remote" else st.booleans()))
out = st.tuples(st.sampled_from(["model.pkl", "data/out", "m e.bin", "metrics.json"]), st.lists(flag, max_size=3))
stage = st.tuples(st.sampled_from(["echo hi", "python train.py", "git status"]), st.lists(out, min_size=1, max_size=3))


def _text(stages: list[tuple[str, list[tuple[str, list[tuple[str, str, object]]]]]]) -> str:
    lines = ["stages:"]
    for i, (cmd, outs) in enumerate(stages):
        lines += [f"  s{i}:", f"    cmd: {cmd}", "    outs:"]
        for j, (path, flags) in enumerate(outs):
            name = f"{i}-{j}-{path}"
            seen: set[str] = set()
            written = [(spelled, value) for key, spelled, value in flags if not (key in seen or seen.add(key))]
            if not written:
                lines.append(f"      - '{name}'")
                continue
            lines.append(f"      - '{name}':")
            for spelled, value in written:
                shown = ("true" if value else "false") if isinstance(value, bool) else value
                lines.append(f"          {spelled}: {shown}")
    return "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(stage, min_size=1, max_size=3))
def test_skimmed_routes_equal_parsed_routes(stages: list) -> None:  # type: ignore[type-arg]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        repo = init_repo(root, no_scm=True)
        (root / "dvc.yaml").write_text(_text(stages))
        full = pipeline_routes(repo, skim=False)(None)
        assert pipeline_routes(repo, skim=True)(None) == full
        expected = 0
        for _, outs in stages:
            for _, flags in outs:
                first = {}
                for key, _, value in flags:
                    first.setdefault(key, value)
                expected += bool(first.get("remote") or first.get("push") is False)
        assert len(full) == expected  # the reference really reads the flags
