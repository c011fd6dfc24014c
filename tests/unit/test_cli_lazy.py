"""The CLI imports only the module of the command it runs; its map of commands to modules must
name every command each module defines, and nothing else."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys

import click

from labvault.cli.main import COMMAND_MODULES, cli


def test_the_command_map_matches_what_the_modules_define() -> None:
    for module in set(COMMAND_MODULES.values()):
        importlib.import_module(f"labvault.cli.{module}")
    defined = {}
    for name, cmd in cli.commands.items():
        assert isinstance(cmd, click.Command)
        assert cmd.callback is not None
        defined[name] = cmd.callback.__module__.rsplit(".", 1)[-1]
    assert defined == COMMAND_MODULES


def test_running_a_core_command_loads_no_other_command_module() -> None:
    code = (
        "import sys\n"
        "from labvault.cli.main import main\n"
        "try:\n"
        "    main(['version'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('labvault.cli.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = ast.literal_eval(out.strip().splitlines()[-1])
    assert "labvault.cli.commands" in loaded
    for other in ("catalog_commands", "pipeline_commands", "remote_commands", "storage_commands", "project_commands"):
        assert f"labvault.cli.{other}" not in loaded


def test_help_lists_every_command() -> None:
    code = "from labvault.cli.main import main\nmain(['--help'])\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    listed = {line.split()[0] for line in out.split("Commands:", 1)[1].splitlines() if line.strip()}
    assert listed == set(COMMAND_MODULES) - {"git-hook"}  # run by the hooks `install` writes, not by people
