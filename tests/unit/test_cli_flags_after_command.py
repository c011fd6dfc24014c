"""``-q``/``-v`` accepted after the command as well as before it (``labvault push -q``, as dvc
users type them); a command with its own option of that name keeps it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import click
from click.testing import CliRunner

from labvault.cli.main import State, _state, cli, with_global_flags
from tests.conftest import _labvault_cmd


def test_flags_after_a_command_reach_the_shared_state() -> None:
    @click.group()
    @click.pass_context
    def root(ctx: click.Context) -> None:
        ctx.obj = State(False, False)

    seen: list[str] = []

    @root.command()
    @click.pass_context
    def show(ctx: click.Context) -> None:
        seen.append(f"quiet={_state(ctx).quiet} verbose={_state(ctx).verbose}")
        click.echo("text")  # -q keeps stdout quiet

    with_global_flags(show)
    runner = CliRunner()
    assert runner.invoke(root, ["show"]).output == "text\n"
    assert runner.invoke(root, ["show", "-q"]).output == ""
    assert runner.invoke(root, ["show", "--verbose", "--quiet"]).output == ""
    assert seen == ["quiet=False verbose=False", "quiet=True verbose=False", "quiet=True verbose=True"]


def test_every_command_takes_them_unless_it_has_its_own(tmp_path: Path) -> None:
    from labvault.cli.main import load_commands

    load_commands()
    checked = 0
    for name in cli.list_commands(click.Context(cli)):
        cmd = cli.get_command(click.Context(cli), name)
        assert cmd is not None
        leaves = list(cmd.commands.values()) if isinstance(cmd, click.Group) else [cmd]
        for leaf in leaves:
            if isinstance(leaf, click.Group):
                continue
            opts = {o for p in leaf.params for o in p.opts}
            own = {p.name for p in leaf.params if not str(p.name).startswith("lv_")}
            assert "-q" in opts or "quiet" in own, f"{name} {leaf.name}"
            assert "-v" in opts or "verbose" in own, f"{name} {leaf.name}"
            checked += 1
    assert checked > 60
    check = cli.get_command(click.Context(cli), "checksums").commands["check"]  # type: ignore[union-attr]
    assert [p.opts for p in check.params if p.name == "quiet"] == [["--quiet"]]  # its own, not ours
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    done = subprocess.run([*_labvault_cmd(), "init", "-q"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    done = subprocess.run([*_labvault_cmd(), "status", "-v"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
