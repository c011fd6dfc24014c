"""Pipeline commands: repro (status of stages is part of `labvault status`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from labvault import api
from labvault.cli.main import _state, cli, emit_json

if TYPE_CHECKING:
    from labvault.api.pipelines import StageRun

json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


@cli.command()
@click.argument("targets", nargs=-1)
@click.option("-f", "--force", is_flag=True, help="Run even unchanged stages.")
@click.option("-s", "--single-item", is_flag=True, help="Only the targets, not what they depend on.")
@click.option("--dry", is_flag=True, help="Show what would run; run nothing.")
@click.option("--downstream", is_flag=True, help="The targets and every stage after them.")
@click.option("-R", "--recursive", is_flag=True, help="Targets are folders: every dvc.yaml below them.")
@click.option("-P", "--pipeline", is_flag=True, help="The whole pipeline each target belongs to.")
@click.option("-k", "--keep-going", is_flag=True, help="After a failure, run every branch that does not need it.")
@click.option("-j", "--jobs", type=click.IntRange(1, 256), default=1, show_default=True, help="Stages run at once.")
@click.option("--no-run-cache", is_flag=True, help="Never restore outputs from earlier identical runs.")
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="Where commands run.")
@click.option("--scheduler", help="Dask scheduler address for --executor dask (tcp://host:8786).")
@json_option
@click.pass_context
def repro(
    ctx: click.Context, targets: tuple[str, ...], force: bool, single_item: bool, dry: bool, downstream: bool,
    recursive: bool, pipeline: bool, keep_going: bool, jobs: int, no_run_cache: bool, executor: str,
    scheduler: str | None, as_json: bool,
) -> None:
    """Run the pipeline stages whose cmd, deps, params or outs changed, in dependency order.

    \b
    Example:
      labvault repro                 # everything that changed
      labvault repro train           # that stage and what it needs
      labvault repro --dry
      labvault repro -j 4 --keep-going
      labvault repro --executor dask --scheduler tcp://head:8786
    """
    st = _state(ctx)
    opts = api.ReproOptions(force, single_item, dry, downstream, recursive, pipeline, keep_going, jobs,
                            not no_run_cache)

    def show(run: StageRun) -> None:
        if as_json or st.quiet:
            return
        if run.action == "unchanged":
            click.echo(f"Stage '{run.address}' didn't change, skipping")
        elif run.action == "ran":
            click.echo(f"Ran stage '{run.address}' ({run.seconds:.1f} s): {'; '.join(run.reasons)}")
        elif run.action == "restored":
            click.echo(f"Stage '{run.address}' restored from the run cache")
        elif run.action == "would-run":
            click.echo(f"Would run stage '{run.address}': {'; '.join(run.reasons)}")
        elif run.action == "frozen":
            click.echo(f"Stage '{run.address}' is frozen, skipping")
        elif run.action == "skipped":
            click.echo(f"Stage '{run.address}' not run: {run.message}")
        elif run.action == "failed":
            click.echo(f"error: stage '{run.address}' failed: {run.message}", err=True)

    result = api.repro(list(targets), opts, executor, scheduler, progress=st.progress, on_event=show)
    if as_json:
        emit_json(result.runs)
    elif not result.by("ran") and not result.by("restored") and not result.by("failed") and not dry:
        click.echo("Data and pipelines are up to date.")
    if not result.ok:
        ctx.exit(1)
