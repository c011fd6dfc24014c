"""Every command of the CLI contract is reachable and documented by an example in its --help."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT, Runner

CONTRACT = ROOT / "docs" / "cli-contract.md"


def contract_commands(path: Path = CONTRACT) -> list[str]:
    """Command names from the first column of the contract's table: "| `name ARGS...` | notes |"."""
    names: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\|\s*`([a-z][a-z0-9-]*)\b[^`]*`\s*\|", line)
        if m and m.group(1) not in names:
            names.append(m.group(1))
    return names


COMMANDS = contract_commands()


def test_contract_table_parses() -> None:
    assert len(COMMANDS) >= 10, COMMANDS
    assert {"init", "add", "status", "checkout", "commit"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_command_help_has_an_example(lv: Runner, command: str) -> None:
    out = lv(command, "--help").stdout
    assert "Example" in out, f"`labvault {command} --help` shows no example:\n{out}"


def test_top_level_help_lists_every_command(lv: Runner) -> None:
    out = lv("--help").stdout
    listed = set(re.findall(r"^\s+([a-z][a-z0-9-]*)\b", out, flags=re.MULTILINE))
    missing = [c for c in COMMANDS if c not in listed]
    assert not missing, f"`labvault --help` does not list {missing}:\n{out}"
