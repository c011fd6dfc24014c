"""`labvault stage add` and `stage list`: pipeline stages written and listed as dvc's `stage` does."""

from __future__ import annotations

import click

from labvault import api
from labvault.cli.main import _state, cli, emit_json, json_option


@cli.group()
def stage() -> None:
    """Add pipeline stages to dvc.yaml, and list them.

    \b
    Example:
      labvault stage add -n train -d train.py -d data/prepared -p train.lr -o model.pkl python train.py
      labvault stage list --all
    """


@stage.command("add", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("-n", "--name", required=True, help="The stage's name (letters, digits, spaces, '-', '_').")
@click.option("-f", "--force", is_flag=True, help="Replace a stage of that name (its meta and outputs' notes are kept).")
@click.option("-d", "--deps", multiple=True, metavar="PATH", help="A file or folder the command reads.")
@click.option("-p", "--params", multiple=True, metavar="[FILE:]KEYS",
              help="Params the command reads: KEY,KEY of params.yaml, or FILE:KEY,KEY (FILE: the whole file).")
@click.option("-o", "--outs", multiple=True, metavar="PATH", help="An output, stored in the cache.")
@click.option("-O", "--outs-no-cache", multiple=True, metavar="PATH", help="An output kept out of the cache (git may track it).")
@click.option("--outs-persist", multiple=True, metavar="PATH", help="An output not deleted before the command runs.")
@click.option("--outs-persist-no-cache", multiple=True, metavar="PATH", help="Both of the above.")
@click.option("-m", "--metrics", multiple=True, metavar="PATH", help="A metrics file, stored in the cache.")
@click.option("-M", "--metrics-no-cache", multiple=True, metavar="PATH", help="A metrics file kept out of the cache.")
@click.option("--plots", multiple=True, metavar="PATH", help="A plot file, stored in the cache.")
@click.option("--plots-no-cache", multiple=True, metavar="PATH", help="A plot file kept out of the cache.")
@click.option("-w", "--wdir", metavar="DIR", help="The folder the command runs in (paths are relative to it).")
@click.option("--always-changed", is_flag=True, help="Run the stage on every repro.")
@click.option("--desc", metavar="TEXT", help="A description, shown by `stage list`.")
@click.option("--run", "run_now", is_flag=True, help="Run the stage once it is written.")
@json_option
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def stage_add(
    ctx: click.Context, name: str, force: bool, deps: tuple[str, ...], params: tuple[str, ...], outs: tuple[str, ...],
    outs_no_cache: tuple[str, ...], outs_persist: tuple[str, ...], outs_persist_no_cache: tuple[str, ...],
    metrics: tuple[str, ...], metrics_no_cache: tuple[str, ...], plots: tuple[str, ...],
    plots_no_cache: tuple[str, ...], wdir: str | None, always_changed: bool, desc: str | None, run_now: bool,
    as_json: bool, command: tuple[str, ...],
) -> None:
    """Write a stage into the dvc.yaml of the current folder (made if missing), in dvc's format.
    The options come before COMMAND: everything after its first word belongs to it. Nothing
    runs unless --run is given; a stage that would break the pipeline (an output another stage
    or a .dvc file has, a cycle, an output git tracks) is refused and nothing is written.

    \b
    Example:
      labvault stage add -n prepare -d src/prepare.py -d data/raw -p prepare.seed,prepare.split \\
          -o data/prepared python src/prepare.py data/raw
      labvault stage add -n evaluate -d model.pkl -M eval/metrics.json --plots-no-cache eval/roc.json \\
          python src/evaluate.py
      labvault stage add -f -n train -d train.py -o model.pkl --run python train.py --epochs 3
    """
    if not command:
        raise click.UsageError("give the stage's command after the options")
    added = api.stage_add(
        name, list(command), deps=deps, params=params, outs=outs, outs_no_cache=outs_no_cache,
        outs_persist=outs_persist, outs_persist_no_cache=outs_persist_no_cache, metrics=metrics,
        metrics_no_cache=metrics_no_cache, plots=plots, plots_no_cache=plots_no_cache, wdir=wdir,
        always_changed=always_changed, desc=desc, force=force,
    )
    runs = None
    if run_now:
        st = _state(ctx)
        opts = api.ReproOptions(force=True, single_item=True)
        result = api.repro([added.address], opts, progress=st.progress)
        runs = result.runs
    if as_json:
        emit_json({"stage": added, "runs": runs})
    else:
        click.echo(f"{'Modified' if added.replaced else 'Added'} stage '{added.address}' in '{added.dvcfile}'")
        if runs is not None:
            for r in runs:
                if r.action == "failed":
                    click.echo(f"error: stage '{r.address}' failed: {r.message}", err=True)
                else:
                    click.echo(f"Ran stage '{r.address}' ({r.seconds:.1f} s)")
    if runs is not None and any(r.action == "failed" for r in runs):
        ctx.exit(1)


@stage.command("list")
@click.argument("targets", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Every stage and .dvc file of the repository.")
@click.option("-R", "--recursive", is_flag=True, help="Targets are folders: every stage below them.")
@click.option("--name-only", "--names-only", "name_only", is_flag=True, help="Print only the addresses.")
@json_option
def stage_list(targets: tuple[str, ...], all_: bool, recursive: bool, name_only: bool, as_json: bool) -> None:
    """List the stages of the current folder's dvc.yaml (or of TARGETS: a stage, a dvc.yaml or
    .dvc file, a folder with -R), each with its description or what it writes and reports.

    \b
    Example:
      labvault stage list
      labvault stage list --all --name-only
      labvault stage list -R models/
    """
    entries = api.stage_list(list(targets), all=all_, recursive=recursive)
    if as_json:
        emit_json(entries)
        return
    if name_only:
        for e in entries:
            click.echo(e.address)
        return
    width = max((len(e.address) for e in entries), default=0)
    for e in entries:
        click.echo(f"{e.address.ljust(width)}  {e.description}")


def _frozen_out(changes: list[api.FreezeChange], word: str, as_json: bool) -> None:
    if as_json:
        emit_json(changes)
        return
    for c in changes:
        what = f"stage '{c.stage}' in '{c.file}'" if c.stage is not None else f"'{c.file}'"
        click.echo(f"{word} {what}" if c.changed else f"{what}: already {word.lower()}")


@cli.command()
@click.argument("targets", nargs=-1, required=True)
@json_option
def freeze(targets: tuple[str, ...], as_json: bool) -> None:
    """Freeze stages or .dvc files: repro no longer runs them or looks at their dependencies
    (their outputs are still checked). TARGETS: a stage of this folder's dvc.yaml, FILE:NAME,
    or a .dvc file. An unknown target changes nothing.

    \b
    Example:
      labvault freeze prepare
      labvault freeze data/data.xml.dvc models/dvc.yaml:train
    """
    _frozen_out(api.freeze(list(targets)), "Frozen", as_json)


@cli.command()
@click.argument("targets", nargs=-1, required=True)
@json_option
def unfreeze(targets: tuple[str, ...], as_json: bool) -> None:
    """Undo `freeze`: the stages run again when their inputs change.

    \b
    Example:
      labvault unfreeze prepare
    """
    _frozen_out(api.unfreeze(list(targets)), "Unfrozen", as_json)
