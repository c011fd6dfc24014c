"""dvc.lock bytes after ``repro`` of stages with long and odd commands: labvault against the real dvc.

Every command is harmless in a shell (``true`` with quoted words, comments, ``python -c`` writing
an output) but exercises YAML's layout: lines past ruamel's width of 80 (wrapped), ``: `` and
`` #`` (quoted), quotes of both kinds, unicode, leading and trailing spaces, tabs, multi-line
commands written as literal and folded blocks, lists of commands, and a long output path with
spaces. A second round changes one stage's input, so the lock is updated in place on both sides.
"""

from __future__ import annotations

import pytest

from tests.sidebyside.harness import SideBySide

pytestmark = pytest.mark.interop

LONG = " ".join(f"word{i:02d}" for i in range(40))
LONG_PATH = "out dir/a folder name with spaces in it/and another one that is long/result file.txt"

DVC_YAML = f"""\
stages:
  long:
    cmd: true '{LONG}'
  very-long-no-spaces:
    cmd: true {"x" * 130}
  colon:
    cmd: "true 'key: value' and 'more: {LONG}'"
  hash:
    cmd: "true 'a #b' # a comment that runs past the end of the line because it is long enough to wrap"
  quotes:
    cmd: "true \\"double\\" 'single' \\"mixed 'inner'\\" {LONG}"
  unicode:
    cmd: "true 'été à Zürich, 日本語のテキスト, emoji 😀 and more words to go past the width of eighty'"
  leading:
    cmd: "   true 'leading spaces' {LONG}"
  trailing:
    cmd: "true 'trailing spaces'   "
  tab:
    cmd: "true\\t'a tab' {LONG}"
  literal:
    cmd: |
      true 'first line of a literal block'
      true '{LONG}'
      # a comment line
  folded:
    cmd: >
      true 'folded block'
      {LONG}
  list:
    cmd:
    - true one
    - "true 'x: y' {LONG}"
    - true '{LONG}'
  special-start:
    cmd: "# only a comment, which a shell runs as nothing: {LONG}"
  write:
    cmd: python -c "import os; os.makedirs(os.path.dirname('{LONG_PATH}'), exist_ok=True); open('{LONG_PATH}', 'w').write(open('in.txt').read())"
    deps:
    - in.txt
    outs:
    - {LONG_PATH}
"""


@pytest.mark.slow
def test_lock_bytes_for_long_and_odd_cmds(sbs: SideBySide) -> None:
    sbs.write({"dvc.yaml": DVC_YAML, "in.txt": "one\n"}).git_commit("pipeline")
    sbs.repro()
    text = sbs.assert_same_lock().decode()
    first = next(line for line in text.splitlines() if line.startswith("    cmd: true 'word00"))
    assert "word39" not in first  # dvc did wrap the long command

    sbs.write({"in.txt": "two\n"})
    sbs.repro()
    sbs.assert_same_lock()
