"""The repository itself: where it is (`root`), what its .dvcignore files exclude
(`check-ignore`), and the git hooks that keep its data in step with git (`install`, and
`git-hook NAME`, which those hooks run); and the shell's completion of labvault's own command
line (`completion`)."""

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
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]), default="bash")
def completion(shell: str) -> None:
    """Print the script that makes SHELL complete labvault's commands, options and their
    choices (click's completion; as `dvc completion`).

    \b
    Example:
      labvault completion bash > ~/.local/share/bash-completion/completions/labvault
      eval "$(labvault completion zsh)"       # in ~/.zshrc
      labvault completion fish > ~/.config/fish/completions/labvault.fish
    """
    from click.shell_completion import get_completion_class

    cls = get_completion_class(shell)
    assert cls is not None  # the three choices are click's own
    click.echo(cls(cli, {}, "labvault", "_LABVAULT_COMPLETE").source())


@cli.command("check-ignore")
@click.argument("targets", nargs=-1)
@click.option("-d", "--details", is_flag=True, help="Show the deciding pattern (file:line:pattern) before each path.")
@click.option("-n", "--non-matching", is_flag=True, help="With --details: also the paths no pattern matches (`::`).")
@click.option("--stdin", "from_stdin", is_flag=True, help="Read the paths from standard input, one per line.")
@json_option
def check_ignore(targets: tuple[str, ...], details: bool, non_matching: bool, from_stdin: bool, as_json: bool) -> None:
    """Show which paths the .dvcignore files exclude, as `dvc check-ignore`.

    The last matching pattern decides, the deepest .dvcignore last; a negation (`!pattern`)
    includes a path again (shown with --details). Exit 0 when some path was shown, 1 when none.

    \b
    Example:
      labvault check-ignore data/tmp/x.bin
      labvault check-ignore -d logs/*.log
      find data -type f | labvault check-ignore --stdin
    """
    import sys

    from labvault.errors import UsageError

    if non_matching and not details:
        raise UsageError("--non-matching works with --details", "add -d")
    paths = [line.rstrip("\n") for line in sys.stdin if line.strip()] if from_stdin else list(targets)
    if not paths:
        raise UsageError("no paths given", "name them, or give --stdin")
    results = api.check_ignore(paths)
    shown = [r for r in results if (r.match is not None and (details or r.ignored)) or (details and non_matching)]
    if as_json:
        emit_json([{"path": r.path, "ignored": r.ignored, "match": r.match} for r in shown])
    else:
        for r in shown:
            if not details:
                click.echo(r.path)
            elif r.match is None:
                click.echo(f"::\t{r.path}")
            else:
                click.echo(f"{r.match.source}:{r.match.line}:{r.match.pattern}\t{r.path}")
    if not any(r.match is not None for r in shown):
        raise SystemExit(1)


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
