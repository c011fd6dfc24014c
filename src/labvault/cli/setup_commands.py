"""Where the repository is and how git works with it: `root`, `install` and the hooks it
installs (`labvault git-hook NAME`)."""

from __future__ import annotations

import os

import click

from labvault import api
from labvault.cli.main import cli, emit_json, json_option


@cli.command()
def root() -> None:
    """Print the repository's root, relative to the current folder, as `dvc root`.

    \b
    Example:
      cd "$(labvault root)"
    """
    from labvault.workspace.repo import find_root

    click.echo(os.path.relpath(find_root(), os.path.realpath(os.getcwd())))


@cli.command()
@json_option
def install(as_json: bool) -> None:
    """Install git hooks that keep the data in step with git, as `dvc install`.

    post-checkout runs `labvault checkout` after git switches branches or commits; pre-commit
    runs `labvault status`; pre-push runs `labvault push`. A hook of another tool in the way is
    never replaced (exit 2, nothing written); running it again changes nothing.

    \b
    Example:
      labvault install
      git checkout v1.0        # the data follows
    """
    r = api.install_hooks()
    if as_json:
        emit_json(r)
        return
    for name in r.written:
        click.echo(f"installed {os.path.join(r.folder, name)}")
    for name in r.present:
        click.echo(f"{os.path.join(r.folder, name)}: installed already")


@cli.command("git-hook", hidden=True, context_settings={"ignore_unknown_options": True})
@click.argument("name", type=click.Choice(["post-checkout", "pre-commit", "pre-push"]))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def git_hook(name: str, args: tuple[str, ...]) -> None:
    """Run by the hooks `labvault install` writes (git passes its arguments)."""
    from labvault.cli.main import main
    from labvault.errors import NotARepoError
    from labvault.workspace.repo import find_root

    try:
        find_root()
    except NotARepoError:
        return  # a git repository without labvault data: nothing to do
    if name == "post-checkout":
        flag = os.environ.get("PRE_COMMIT_CHECKOUT_TYPE") or (args[2] if len(args) >= 3 else None)
        if flag != "1" or os.path.isdir(os.path.join(".git", "rebase-merge")):
            return  # a file checkout, or in the middle of a rebase: leave the data alone
        main(["checkout"])
    elif name == "pre-commit":
        main(["status"])
    else:
        main(["push"])
