"""``labvault catalog``: what data and models exist, which version, where, made from what, how good."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from labvault import api
from labvault.cli.catalog_render import print_entries, show_entry, table
from labvault.cli.main import cli, emit_json, json_option
from labvault.errors import CatalogError
from labvault.progress import NULL_PROGRESS

if TYPE_CHECKING:
    pass

KIND = click.Choice(["dataset", "model", "experiment", "run"])
LIST_KIND = click.Choice(["datasets", "models", "runs", "dataset", "model", "run"])


def _url(ctx: click.Context) -> str | None:
    value: str | None = ctx.meta.get("labvault.catalog_url")
    return value


def _pairs(values: Sequence[str], what: str, numeric: bool) -> dict[str, Any]:
    """``("lr=1e-3", "opt=adam")`` -> ``{"lr": 0.001, "opt": "adam"}``; numbers stay numbers."""
    out: dict[str, Any] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise CatalogError(f"bad --{what} {item!r}", f"write --{what} KEY=VALUE")
        value: Any = raw
        try:
            parsed = json.loads(raw)
            if isinstance(parsed, (int, float, bool)):
                value = parsed
        except ValueError:
            pass
        if numeric and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise CatalogError(f"bad --{what} {item!r}: {raw!r} is not a number")
        out[key.strip()] = float(value) if numeric else value
    return out


def _when(value: str | None, what: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CatalogError(f"bad --{what} {value!r}", "use an ISO date such as 2026-01-31T12:00") from None


@cli.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--url", "catalog_url", metavar="URL",
              help="Catalog database (default: LABVAULT_CATALOG_URL, labvault.catalog_url, else the SQLite "
                   "file in ~/.local/share/labvault).")
@click.pass_context
def catalog(ctx: click.Context, catalog_url: str | None) -> None:
    """What data and models exist: versions, storage, lineage, metrics.

    One SQLite file per user by default; set LABVAULT_CATALOG_URL to share a PostgreSQL
    database with the lab.

    \b
    Example:
      labvault catalog datasets
      labvault catalog show dataset sentiment_dataset@v1.0
      labvault catalog search models --where "metrics.accuracy > 0.9 and tag = production"
      labvault catalog lineage model sentiment_classifier@3 --mermaid
      export LABVAULT_CATALOG_URL=postgresql+psycopg://user@db/ai_lab
    """
    if catalog_url:
        ctx.meta["labvault.catalog_url"] = catalog_url
    # `catalog sync` applies the journal itself, and says what it did; `restore-db` touches no live catalog
    if ctx.invoked_subcommand not in ("sync", "restore-db"):
        api.catalog_sync(catalog_url=catalog_url, quiet=True, progress=_progress(ctx))


def _progress(ctx: click.Context) -> Any:
    state = ctx.find_root().obj
    return getattr(state, "progress", None) or NULL_PROGRESS


@catalog.command("sync")
@json_option
@click.pass_context
def catalog_sync(ctx: click.Context, as_json: bool) -> None:
    """Apply what add, commit, push and repro recorded in this repo's journal (done by every
    catalog command anyway). Lines that cannot be applied are set aside in
    .dvc/tmp/labvault/catalog-journal.rejected.jsonl, with the reason.

    \b
    Example:
      labvault catalog sync --json
    """
    result = api.catalog_sync(catalog_url=_url(ctx), progress=_progress(ctx))
    if as_json:
        emit_json(result)
        return
    aside = f", {len(result.rejected)} line(s) set aside" if result.rejected else ""
    click.echo(f"{result.applied} event(s) applied{aside}")


@catalog.command("check")
@click.option("--repair", is_flag=True, help="Rebuild what disagrees (one transaction).")
@json_option
@click.pass_context
def catalog_check(ctx: click.Context, repair: bool, as_json: bool) -> None:
    """Check what the catalog keeps by triggers against the rows it is kept from: the mark on the
    newest version of each dataset and model name (what the latest lists read) and the sums per
    tier, project and dataset (what monitor and tier list read). Exit 1 when they disagree and
    were not repaired.

    \b
    Example:
      labvault catalog check
      labvault catalog check --repair --json
    """
    result = api.catalog_check(repair, catalog_url=_url(ctx))
    if as_json:
        emit_json(result)
    else:
        for line in result.problems:
            click.echo(line)
        click.echo("repaired: rebuilt from the base rows" if result.repaired else
                   "the catalog's kept marks and sums agree with its rows" if not result.problems else
                   f"{len(result.problems)} disagreement(s): run `labvault catalog check --repair`")
    if not result.ok:
        raise SystemExit(1)


def _list_command(word: str, example: str) -> None:
    what = "every run" if word == "runs" else f"{word}: the latest version of each (--all: every version)"
    @catalog.command(name=word, help=f"List {what}, newest first.\n\n\b\nExample:\n  {example}")
    @click.option("-a", "--all", "all_versions", is_flag=True, help="Every version, not only the latest.")
    @click.option("--name", help="Only versions of this name (exact, case-sensitive).")
    @click.option("-n", "--limit", type=click.IntRange(1), default=100, show_default=True, help="At most N rows.")
    @json_option
    @click.pass_context
    def _command(ctx: click.Context, all_versions: bool, name: str | None, limit: int, as_json: bool) -> None:
        entries = api.catalog_list(word, name=name, all_versions=all_versions, limit=limit, catalog_url=_url(ctx))
        if as_json:
            emit_json(entries)
        else:
            print_entries(entries)


_list_command("datasets", "labvault catalog datasets --all --json")
_list_command("models", "labvault catalog models --name sentiment_classifier --all")
_list_command("runs", "labvault catalog runs --name train -n 20")


@catalog.command()
@json_option
@click.pass_context
def experiments(ctx: click.Context, as_json: bool) -> None:
    """List experiments with their number of runs and latest run.

    \b
    Example:
      labvault catalog experiments --json
    """
    infos = api.catalog_experiments(catalog_url=_url(ctx))
    if as_json:
        emit_json(infos)
        return
    if not infos:
        click.echo("No experiments.")
        return
    table(("EXPERIMENT", "RUNS", "LATEST", "DESCRIPTION"),
           [(i.name, str(i.runs), i.latest_run or "-", i.description or "") for i in infos])


@catalog.command()
@click.argument("kind", type=KIND)
@click.argument("ref")
@json_option
@click.pass_context
def show(ctx: click.Context, kind: str, ref: str, as_json: bool) -> None:
    """Show one version: NAME (the latest), NAME@VERSION or NAME@ALIAS.

    \b
    Example:
      labvault catalog show dataset sentiment_dataset@v1.0
      labvault catalog show model sentiment_classifier@production --json
      labvault catalog show run train@12
    """
    entry = api.catalog_get(kind, ref, catalog_url=_url(ctx))
    if as_json:
        emit_json(entry)
    else:
        show_entry(entry)


@catalog.group()
def register() -> None:
    """Register a dataset, model, experiment or run by hand.

    \b
    Example:
      labvault catalog register dataset sentiment_dataset --version v1.0 --path data/sentiment.csv
      labvault catalog register model sentiment_classifier --architecture bert-base-uncased \\
          --dataset sentiment_dataset@v1.0 --path models/final/model.pth --metric accuracy=0.92
    """


common: list[Callable[[Any], Any]] = [
    click.option("--version", "version", help="Version name (default: the next number)."),
    click.option("--path", help="Where the data lives (workspace path or URL)."),
    click.option("--hash", "content_hash", help="Content hash; the same content is recorded once."),
    click.option("--size", type=click.IntRange(0), help="Size in bytes."),
    click.option("--description", help="One line about it."),
    click.option("--card", multiple=True, metavar="KEY=VALUE", help="A card field (repeatable)."),
    click.option("--tag", "tags", multiple=True, help="A tag (repeatable)."),
    click.option("--git-rev", help="The git revision it came from."),
    json_option,
]


F = TypeVar("F", bound=Callable[..., Any])


def _with(options: list[Callable[[F], F]]) -> Callable[[F], F]:
    def wrap(fn: F) -> F:
        for option in reversed(options):
            fn = option(fn)
        return fn

    return wrap


@register.command(name="dataset")
@click.argument("name")
@_with(common)
@click.option("--files", "nfiles", type=click.IntRange(0), help="Number of files.")
@click.option("--samples", "nsamples", type=click.IntRange(0), help="Number of samples.")
@click.pass_context
def register_dataset(
    ctx: click.Context, name: str, version: str | None, path: str | None, content_hash: str | None,
    size: int | None, description: str | None, card: tuple[str, ...], tags: tuple[str, ...],
    git_rev: str | None, as_json: bool, nfiles: int | None, nsamples: int | None,
) -> None:
    """Register a dataset version.

    \b
    Example:
      labvault catalog register dataset sentiment_dataset --version v1.0 \\
          --path data/processed/sentiment_v1.csv --size 104857600 --samples 50000 \\
          --description "Twitter sentiment" --card license=CC-BY-4.0
    """
    e = api.catalog_register_dataset(
        name, version=version, path=path, content_hash=content_hash, size=size, nfiles=nfiles, nsamples=nsamples,
        description=description, card=_pairs(card, "card", False), tags=tags, git_rev=git_rev,
        catalog_url=_url(ctx))
    emit_json(e) if as_json else click.echo(f"registered dataset {e.ref}")


@register.command(name="model")
@click.argument("name")
@_with(common)
@click.option("--architecture", help="e.g. bert-base-uncased.")
@click.option("--framework", help="e.g. pytorch.")
@click.option("--dataset", "datasets", multiple=True, metavar="NAME@VERSION", help="Trained on (repeatable).")
@click.option("--metric", "metric", multiple=True, metavar="KEY=NUMBER", help="A metric (repeatable).")
@click.option("--param", "param", multiple=True, metavar="KEY=VALUE", help="A parameter (repeatable).")
@click.pass_context
def register_model(
    ctx: click.Context, name: str, version: str | None, path: str | None, content_hash: str | None,
    size: int | None, description: str | None, card: tuple[str, ...], tags: tuple[str, ...],
    git_rev: str | None, as_json: bool, architecture: str | None, framework: str | None,
    datasets: tuple[str, ...], metric: tuple[str, ...], param: tuple[str, ...],
) -> None:
    """Register a model version, the datasets it was trained on, and its metrics.

    \b
    Example:
      labvault catalog register model sentiment_classifier --architecture bert-base-uncased \\
          --dataset sentiment_dataset@v1.0 --path models/final/model.pth \\
          --metric accuracy=0.92 --metric f1=0.91 --tag candidate
    """
    e = api.catalog_register_model(
        name, architecture=architecture, framework=framework, path=path, content_hash=content_hash, size=size,
        metrics=_pairs(metric, "metric", True), params=_pairs(param, "param", False), datasets=datasets,
        version=version, description=description, card=_pairs(card, "card", False), tags=tags, git_rev=git_rev,
        catalog_url=_url(ctx))
    emit_json(e) if as_json else click.echo(f"registered model {e.ref}")


@register.command(name="experiment")
@click.argument("name")
@click.option("--description", help="One line about it.")
@json_option
@click.pass_context
def register_experiment(ctx: click.Context, name: str, description: str | None, as_json: bool) -> None:
    """Register an experiment (runs register it too when it is new).

    \b
    Example:
      labvault catalog register experiment sentiment-bert --description "BERT fine-tuning sweep"
    """
    info = api.catalog_register_experiment(name, description, catalog_url=_url(ctx))
    emit_json(info) if as_json else click.echo(f"registered experiment {info.name}")


@register.command(name="run")
@click.argument("experiment")
@click.option("--stage", help="The pipeline stage it ran.")
@click.option("--param", "param", multiple=True, metavar="KEY=VALUE", help="A parameter (repeatable).")
@click.option("--metric", "metric", multiple=True, metavar="KEY=NUMBER", help="A metric (repeatable).")
@click.option("--status", default="completed", show_default=True, help="completed, failed, running...")
@click.option("--started", help="Start time (ISO 8601).")
@click.option("--ended", help="End time (ISO 8601).")
@click.option("--git-rev", help="The git revision it ran at.")
@click.option("--input", "inputs", multiple=True, metavar="[KIND:]NAME@VERSION", help="What it read (repeatable).")
@click.option("--output", "outputs", multiple=True, metavar="KIND:NAME@VERSION", help="What it made (repeatable).")
@click.option("--tag", "tags", multiple=True, help="A tag (repeatable).")
@json_option
@click.pass_context
def register_run(
    ctx: click.Context, experiment: str, stage: str | None, param: tuple[str, ...], metric: tuple[str, ...],
    status: str, started: str | None, ended: str | None, git_rev: str | None, inputs: tuple[str, ...],
    outputs: tuple[str, ...], tags: tuple[str, ...], as_json: bool,
) -> None:
    """Register a run of an experiment, with lineage: inputs -> run -> outputs.

    \b
    Example:
      labvault catalog register run sentiment-bert --stage train --param lr=2e-5 \\
          --metric accuracy=0.92 --input sentiment_dataset@v1.0 --output model:sentiment_classifier@3
    """
    pairs = []
    for item in outputs:
        kind, sep, ref = item.partition(":")
        if not sep or kind not in ("dataset", "model"):
            raise CatalogError(f"bad --output {item!r}", "write dataset:NAME@VERSION or model:NAME@VERSION")
        pairs.append((kind, ref))
    e = api.catalog_register_run(
        experiment, stage=stage, params=_pairs(param, "param", False), metrics=_pairs(metric, "metric", True),
        status=status, started=_when(started, "started"), ended=_when(ended, "ended"), git_rev=git_rev,
        inputs=inputs, outputs=pairs, tags=tags, catalog_url=_url(ctx))
    emit_json(e) if as_json else click.echo(f"registered run {e.ref}")


@catalog.command()
@click.argument("kind", type=LIST_KIND)
@click.option("-w", "--where", "where", required=True, metavar="EXPR", help="The filter (see above).")
@click.option("-n", "--limit", type=click.IntRange(1), default=100, show_default=True, help="At most N rows.")
@json_option
@click.pass_context
def search(ctx: click.Context, kind: str, where: str, limit: int, as_json: bool) -> None:
    """Find versions with a filter: fields, comparisons, and/or/not, parentheses.

    Fields: name version path hash architecture framework status stage git_rev (text: = != ~ glob),
    size files samples (numbers), created started ended (dates), tag, alias, metrics.KEY, params.KEY.
    Text matches, globs included (* any run, ? one character), are case-sensitive.

    \b
    Example:
      labvault catalog search models --where "metrics.accuracy > 0.9 and tag = production"
      labvault catalog search datasets --where "name ~ 'sent*' and created > 2026-01-01"
      labvault catalog search runs --where "params.lr <= 1e-3 and not status = failed"
    """
    entries = api.catalog_search(kind, where, limit=limit, catalog_url=_url(ctx))
    emit_json(entries) if as_json else print_entries(entries)


@catalog.command()
@click.argument("kind", type=KIND)
@click.argument("ref")
@click.option("--up", "direction", flag_value="up", help="Only what it was made from.")
@click.option("--down", "direction", flag_value="down", help="Only what was made from it.")
@click.option("-d", "--depth", type=click.IntRange(1), help="At most N steps away (default: all).")
@click.option("--mermaid", is_flag=True, help="Print a Mermaid graph instead of a tree.")
@json_option
@click.pass_context
def lineage(
    ctx: click.Context, kind: str, ref: str, direction: str | None, depth: int | None, mermaid: bool, as_json: bool,
) -> None:
    """Show what a version was made from and what was made from it.

    \b
    Example:
      labvault catalog lineage model sentiment_classifier@3
      labvault catalog lineage dataset sentiment_dataset@v1.0 --down --depth 2
      labvault catalog lineage model sentiment_classifier@3 --mermaid > lineage.mmd
    """
    graph = api.catalog_lineage(kind, ref, direction=direction or "both", depth=depth, catalog_url=_url(ctx))
    if as_json:
        emit_json(graph)
    else:
        click.echo(api.catalog_render_lineage(graph, "mermaid" if mermaid else "tree"))


@catalog.command()
@click.argument("kind", type=KIND)
@click.argument("ref")
@click.argument("tags", nargs=-1, required=True)
@click.option("--remove", is_flag=True, help="Remove these tags instead.")
@json_option
@click.pass_context
def tag(ctx: click.Context, kind: str, ref: str, tags: tuple[str, ...], remove: bool, as_json: bool) -> None:
    """Add tags to a version (a version keeps all its tags).

    \b
    Example:
      labvault catalog tag model sentiment_classifier@3 production reviewed
      labvault catalog tag model sentiment_classifier@3 reviewed --remove
    """
    e = api.catalog_tag(kind, ref, tags, remove=remove, catalog_url=_url(ctx))
    emit_json(e) if as_json else click.echo(f"{e.kind} {e.ref}: tags {' '.join(e.tags) or '(none)'}")


@catalog.command()
@click.argument("kind", type=KIND)
@click.argument("ref")
@click.argument("alias")
@click.option("--remove", is_flag=True, help="Remove the alias (REF is then the NAME).")
@json_option
@click.pass_context
def alias(ctx: click.Context, kind: str, ref: str, alias: str, remove: bool, as_json: bool) -> None:
    """Point an alias at a version; it moves from the version it named before.

    \b
    Example:
      labvault catalog alias model sentiment_classifier@3 production
      labvault catalog show model sentiment_classifier@production
      labvault catalog alias model sentiment_classifier production --remove
    """
    if remove:
        api.catalog_unalias(kind, ref.split("@")[0], alias, catalog_url=_url(ctx))
        emit_json({"removed": alias}) if as_json else click.echo(f"removed alias {alias}")
        return
    e = api.catalog_alias(kind, ref, alias, catalog_url=_url(ctx))
    emit_json(e) if as_json else click.echo(f"{e.name}@{alias} -> {e.ref}")


@catalog.command()
@click.argument("kind", type=KIND)
@click.argument("ref")
@click.option("-n", "--dry-run", is_flag=True, help="Print what would be deleted; delete nothing.")
@json_option
@click.pass_context
def delete(ctx: click.Context, kind: str, ref: str, dry_run: bool, as_json: bool) -> None:
    """Delete NAME@VERSION, or NAME with every version (and their lineage edges).

    \b
    Example:
      labvault catalog delete model sentiment_classifier@2 --dry-run
      labvault catalog delete dataset scratch_dataset
    """
    plan = api.catalog_delete(kind, ref, dry_run=dry_run, catalog_url=_url(ctx))
    if as_json:
        emit_json({"dry_run": dry_run, "plan": plan})
        return
    verb = "would delete" if dry_run else "deleted"
    what = f"{plan.kind} {ref.split('@')[0]}" if plan.entity_ids else plan.kind
    click.echo(f"{verb} {what}: {len(plan.refs)} version(s), {plan.edges} lineage edge(s)")
    for r in plan.refs:
        click.echo(f"    {r}")
    for d in plan.dependents:
        click.echo(f"    note: {d} was made from it (the edge goes, the version stays)")


@catalog.command(name="export")
@click.option("-f", "--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@click.option("-k", "--kind", "kinds", multiple=True, type=LIST_KIND, help="Only these kinds (repeatable).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file.")
@click.pass_context
def export_cmd(ctx: click.Context, fmt: str, kinds: tuple[str, ...], output: Path | None) -> None:
    """Export every version (or some kinds) as JSON or CSV.

    \b
    Example:
      labvault catalog export > catalog.json
      labvault catalog export --format csv --kind models -o models.csv
    """
    text = api.catalog_export(fmt, kinds, catalog_url=_url(ctx))
    if output is None:
        click.echo(text, nl=False)
        return
    from labvault.fsutil import atomic_write_text

    atomic_write_text(output, text)
    click.echo(f"wrote {output}")


from labvault.cli import catalog_db_commands as _catalog_db_commands  # noqa: E402,F401  (adds `catalog restore-db`)
