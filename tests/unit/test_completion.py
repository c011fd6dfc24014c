"""``labvault completion SHELL``: a script bash accepts, and the completion protocol it calls
answering with labvault's commands, subcommands and choices."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import _labvault_cmd


def _complete(env: dict[str, str], tmp_path: Path, words: str, cword: int) -> list[str]:
    run_env = {**env, "COMP_WORDS": words, "COMP_CWORD": str(cword), "_LABVAULT_COMPLETE": "bash_complete"}
    r = subprocess.run(_labvault_cmd(), cwd=tmp_path, env=run_env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return [line.split(",", 1)[1] for line in r.stdout.splitlines()]


def test_bash_script_and_answers(env: dict[str, str], tmp_path: Path) -> None:
    script = subprocess.run([*_labvault_cmd(), "completion", "bash"], cwd=tmp_path, env=env, capture_output=True,
                            text=True, check=True).stdout
    (tmp_path / "c.sh").write_text(script)
    registered = subprocess.run(["bash", "-c", f"source {tmp_path / 'c.sh'} && complete -p labvault"],
                                capture_output=True, text=True, env=env)
    assert registered.returncode == 0 and "_labvault_completion" in registered.stdout, registered.stderr
    assert _complete(env, tmp_path, "labvault rem", 1) == ["remote", "remove"]
    assert "add" in _complete(env, tmp_path, "labvault remote ", 2)
    assert _complete(env, tmp_path, "labvault completion ", 2) == ["bash", "zsh", "fish"]
    assert "--to-remote" in _complete(env, tmp_path, "labvault import-url --to", 2)
