"""Pipeline commands: repro (status of stages is part of `labvault status`), metrics, params, dag."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from labvault import api
from labvault.cli.main import _state, cli, emit_json, json_option
from labvault.errors import UsageError

if TYPE_CHECKING:
    from labvault.api.pipelines import StageRun



@cli.command()
@click.argument("targets", nargs=-1)
@click.option("-f", "--force", is_flag=True, help="Run even unchanged stages.")
@click.option("-s", "--single-item", is_flag=True, help="Only the targets, not what they depend on.")
@click.option("--dry", is_flag=True, help="Show what would run; run nothing.")
@click.option("--downstream", is_flag=True, help="The targets and every stage after them.")
@click.option("-R", "--recursive", is_flag=True, help="Targets are folders: every dvc.yaml below them.")
@click.option("-p", "--pipeline", is_flag=True, help="The whole pipeline each target belongs to.")
@click.option("-P", "--all-pipelines", is_flag=True, help="Every stage of every pipeline (targets ignored).")
@click.option("--force-downstream", is_flag=True, help="Once a stage runs, run every stage after it too.")
@click.option("--glob", is_flag=True, help="Targets may hold shell wildcards (*, ?, [..]) matched to stage names.")
@click.option("--pull", is_flag=True,
              help="A stage changed only by missing data pulls its outputs from the default remote instead of "
                   "running; missing inputs that .dvc files track are pulled first.")
@click.option("--allow-missing", is_flag=True,
              help="Data missing from the workspace or cache is no change (a fresh clone: --dry --allow-missing).")
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
    recursive: bool, pipeline: bool, all_pipelines: bool, force_downstream: bool, glob: bool, pull: bool,
    allow_missing: bool, keep_going: bool,
    jobs: int, no_run_cache: bool, executor: str, scheduler: str | None, as_json: bool,
) -> None:
    """Run the pipeline stages whose cmd, deps, params or outs changed, in dependency order.

    Without TARGETS, as dvc: the stages of the current folder's dvc.yaml and what they need
    (-P: every pipeline of the repository).

    \b
    Example:
      labvault repro                 # this folder's dvc.yaml: what changed
      labvault repro train           # that stage and what it needs
      labvault repro --dry
      labvault repro -j 4 --keep-going
      labvault repro --glob 'train@*'    # every item of a foreach stage
      labvault repro --dry --allow-missing   # in a fresh clone: would anything run?
      labvault repro --pull              # a fresh clone: pull what is recorded, run what changed
      labvault repro --executor dask --scheduler tcp://head:8786
    """
    st = _state(ctx)
    if not targets and not all_pipelines:
        here = os.path.abspath("dvc.yaml")
        if not os.path.isfile(here):
            raise UsageError(f"{here} does not exist",
                             "run repro in a folder holding a dvc.yaml, name the stages to run, or pass -P for every pipeline")
        targets = ("dvc.yaml",)
    opts = api.ReproOptions(force, single_item, dry, downstream, recursive, pipeline, keep_going, jobs,
                            not no_run_cache, read_ahead=True, all_pipelines=all_pipelines,
                            force_downstream=force_downstream, glob=glob, allow_missing=allow_missing,
                            pull=pull)

    def show(run: StageRun) -> None:
        if as_json or st.quiet:
            return
        if run.action == "unchanged":
            click.echo(f"Stage '{run.address}' didn't change, skipping")
        elif run.action == "ran":
            click.echo(f"Ran stage '{run.address}' ({run.seconds:.1f} s): {'; '.join(run.reasons)}")
        elif run.action == "restored":
            click.echo(f"Stage '{run.address}' restored from the run cache")
        elif run.action == "pulled":
            click.echo(f"Stage '{run.address}' pulled its outputs from the remote")
        elif run.action == "would-pull":
            click.echo(f"Would pull the outputs of stage '{run.address}': {'; '.join(run.reasons)}")
        elif run.action == "would-run":
            click.echo(f"Would run stage '{run.address}': {'; '.join(run.reasons)}")
        elif run.action == "frozen" and run.reasons != ("frozen",):
            click.echo(f"Verified outputs of frozen stage '{run.address}': {'; '.join(run.reasons)}")
        elif run.action == "frozen":
            click.echo(f"Stage '{run.address}' is frozen, skipping")
        elif run.action == "skipped":
            click.echo(f"Stage '{run.address}' not run: {run.message}")
        elif run.action == "failed":
            click.echo(f"error: stage '{run.address}' failed: {run.message}", err=True)

    result = api.repro(list(targets), opts, executor, scheduler, progress=st.progress, on_event=show)
    if as_json:
        emit_json(result.runs)
    elif not dry and not any(r.action in ("ran", "restored", "pulled", "failed") or (r.action == "frozen" and r.reasons != ("frozen",))
                             for r in result.runs):
        click.echo("Data and pipelines are up to date.")
    if not result.ok:
        ctx.exit(1)


# --- metrics, params, dag ------------------------------------------------------------------------
md_option = click.option("--md", "markdown", is_flag=True, help="Print the table as Markdown (GFM).")
precision_option = click.option(
    "--precision", type=click.IntRange(0, 20), default=5, show_default=True, metavar="N",
    help="Round floats to N digits after the point (0: as stored).",
)


def _print_table(headers: list[str], rows: list[list[str]], markdown: bool) -> None:
    from labvault.pipelines.render import markdown_table, text_table

    if not rows:
        return  # DVC prints nothing for an empty table
    click.echo(markdown_table(headers, rows) if markdown else text_table(headers, rows))


def _warn_failed(revs: list[str] | tuple[str, ...], what: str) -> None:
    if revs:
        click.echo(f"warning: failed to load some {what} for these revisions: '{', '.join(revs)}'", err=True)


def _dump(value: object) -> None:
    import json

    click.echo(json.dumps(value, ensure_ascii=False))


@cli.group()
def metrics() -> None:
    """Show and compare metrics (the `metrics` files of dvc.yaml).

    \b
    Example:
      labvault metrics show
      labvault metrics diff v1.0 v2.0
    """


@metrics.command("show")
@click.argument("targets", nargs=-1)
@click.option("-a", "--all-branches", is_flag=True, help="Also every branch.")
@click.option("-T", "--all-tags", is_flag=True, help="Also every tag.")
@click.option("-A", "--all-commits", is_flag=True, help="Also every commit.")
@json_option
@md_option
@precision_option
def metrics_show(
    targets: tuple[str, ...], all_branches: bool, all_tags: bool, all_commits: bool, as_json: bool,
    markdown: bool, precision: int,
) -> None:
    """Print the metrics files declared in dvc.yaml (or only TARGETS): JSON, YAML, TOML, CSV/TSV
    (the last row). Nested keys are joined with '.'; a missing value shows as '-'.

    \b
    Example:
      labvault metrics show
      labvault metrics show eval/metrics.json --json
      labvault metrics show -T            # the workspace and every tag
    """
    report = api.metrics_show(list(targets) or None, all_branches, all_tags, all_commits)
    _warn_failed(report.failed_revisions, "metrics")
    if as_json:
        _dump(report.to_json())
    else:
        _print_table(*report.table(precision), markdown)


@metrics.command("diff")
@click.argument("a_rev", default="HEAD")
@click.argument("b_rev", default="workspace")
@click.option("--targets", multiple=True, metavar="PATH",
              help="Compare only this metrics file (repeatable), declared or not.")
@click.option("--all", "show_all", is_flag=True, help="Show unchanged metrics too.")
@json_option
@md_option
@precision_option
def metrics_diff(
    a_rev: str, b_rev: str, targets: tuple[str, ...], show_all: bool, as_json: bool, markdown: bool, precision: int
) -> None:
    """Compare metrics between two git revisions (tags, branches, commits) or a revision and the
    workspace. A_REV defaults to HEAD, B_REV to the workspace.

    \b
    Example:
      labvault metrics diff                  # HEAD vs the workspace
      labvault metrics diff v1.0 v2.0
      labvault metrics diff main --all --precision 3
      labvault metrics diff HEAD~1 --json
    """
    result = api.metrics_diff(a_rev, b_rev, list(targets) or None, show_all)
    _warn_failed(result.failed_revisions, "metrics")
    if as_json:
        _dump(result.to_json())
    else:
        _print_table(*result.table(precision), markdown)


@cli.group()
def params() -> None:
    """Compare params (the values the stages read from params files).

    \b
    Example:
      labvault params diff HEAD~1
    """


@params.command("diff")
@click.argument("a_rev", default="HEAD")
@click.argument("b_rev", default="workspace")
@click.option("--targets", multiple=True, metavar="PATH",
              help="Compare every key of this params file (repeatable) instead.")
@click.option("--all", "show_all", is_flag=True, help="Show unchanged params too.")
@json_option
@md_option
def params_diff(
    a_rev: str, b_rev: str, targets: tuple[str, ...], show_all: bool, as_json: bool, markdown: bool
) -> None:
    """Compare the params the stages use (and every key of params.yaml) between two git revisions
    or a revision and the workspace. A_REV defaults to HEAD, B_REV to the workspace.

    \b
    Example:
      labvault params diff                   # HEAD vs the workspace
      labvault params diff HEAD~1
      labvault params diff v1.0 v2.0 --all --json
    """
    result = api.params_diff(a_rev, b_rev, list(targets) or None, show_all)
    _warn_failed(result.failed_revisions, "params")
    if as_json:
        _dump(result.to_json())
    else:
        _print_table(*result.table(), markdown)


@cli.group()
def plots() -> None:
    """Draw the plots of dvc.yaml (`plots:` of stages and the top level) as an HTML page.

    \b
    Example:
      labvault plots show
      labvault plots diff v1.0
    """


def _plots_out(sides: list[api.RevisionPlots], out: str, as_json: bool, title: str) -> None:
    import os

    from labvault.fsutil import atomic_write_bytes

    if as_json:
        emit_json(sides)
        return
    from labvault.web.plots_page import plots_html

    os.makedirs(out, exist_ok=True)
    page = os.path.join(os.path.abspath(out), "index.html")
    atomic_write_bytes(page, plots_html(sides, title).encode("utf-8"), fsync=False)
    problems = [f"{s.rev}: {s.error}" for s in sides if s.error]
    problems += [f"{s.rev}: plot {p.id}: {p.error}" for s in sides for p in s.plots if p.error]
    for line in problems:
        click.echo(f"warning: {line}", err=True)
    n = len({p.id for s in sides for p in s.plots})
    click.echo(f"{n} plot(s){' (some with errors)' if problems else ''}: file://{page}")


_plots_dir = click.option("-o", "--out", default="dvc_plots", show_default=True, metavar="DIR",
                          help="Write index.html in this folder (made if missing).")


@plots.command("show")
@click.option("--rev", default=None, metavar="REV", help="Read the plots as they were at this git revision.")
@_plots_dir
@json_option
def plots_show(rev: str | None, out: str, as_json: bool) -> None:
    """Write DIR/index.html with one chart per plot that dvc.yaml declares, read from the
    workspace (or as it was at REV). The page is one file: no script, nothing fetched.
    With --json, print each plot's series instead.

    \b
    Example:
      labvault plots show                 # then open dvc_plots/index.html
      labvault plots show --rev v1.0 -o /tmp/plots
      labvault plots show --json
    """
    side = api.RevisionPlots(rev or "workspace", tuple(api.plots_show(rev=rev)))
    _plots_out([side], out, as_json, "plots")


@plots.command("diff")
@click.argument("revisions", nargs=-1)
@_plots_dir
@json_option
def plots_diff(revisions: tuple[str, ...], out: str, as_json: bool) -> None:
    """Draw each plot with the series of several git revisions over each other. No revision:
    HEAD and the workspace; one: that revision and the workspace; more: those.

    \b
    Example:
      labvault plots diff                 # HEAD against the workspace
      labvault plots diff v1.0 v2.0 main
      labvault plots diff HEAD~1 --json
    """
    _plots_out(api.plots_diff(list(revisions)), out, as_json, "plots diff")


@cli.command()
@click.argument("target", required=False)
@click.option("--mermaid", is_flag=True, help="Print a Mermaid flowchart.")
@click.option("--md", "markdown", is_flag=True, help="Print the Mermaid flowchart in a Markdown code block.")
@click.option("--dot", is_flag=True, help="Print a Graphviz `strict digraph`.")
@click.option("-o", "--outs", is_flag=True, help="Draw outputs instead of stages.")
@json_option
def dag(target: str | None, mermaid: bool, markdown: bool, dot: bool, outs: bool, as_json: bool) -> None:
    """Draw the pipeline: stages (or, with --outs, outputs) with arrows from what is needed to
    what needs it. With TARGET (a stage), only that stage and its ancestors.

    \b
    Example:
      labvault dag
      labvault dag train
      labvault dag --mermaid > pipeline.mmd
      labvault dag --dot | dot -Tpng -o dag.png
      labvault dag --outs --json
    """
    if sum((mermaid or markdown, dot, as_json)) > 1:
        from labvault.errors import UsageError

        raise UsageError("--mermaid/--md, --dot and --json exclude one another", "pick one")
    view = api.dag(target, outs)
    if as_json:
        from labvault.api.jsonshape import dag_json

        _dump(dag_json(view))
    elif mermaid or markdown:
        click.echo(view.mermaid(markdown))
    elif dot:
        click.echo(view.dot())
    elif view.nodes:
        click.echo(view.ascii())
