"""The lab's project conventions: ``names check|new`` and ``card new|check|show``
(``init --template`` lives in commands.py)."""

from __future__ import annotations

import os

import click

from labvault import api
from labvault.cli.main import cli, emit_json, human_size, json_option


@cli.group()
def names() -> None:
    """Check names against the lab's naming conventions, and make names that follow them.

    \b
    datasets     name_version_split.format          imagenet_v2_train.tar, coco_2017_val.zip
    models       architecture_dataset_YYYYMMDD_version.ext
                                                    resnet50_imagenet_20241113_v1.pth
    experiments  name_YYYYMMDD_runNNN/              sentiment_analysis_20241113_run001/

    A labvault-names.yaml (or .toml) at the project root may replace any pattern with a regular
    expression per kind (keys: dataset, model, experiment).

    \b
    Example:
      labvault names check .
      labvault names new model --architecture resnet50 --dataset imagenet --format pth
    """


@names.command("check")
@click.argument("paths", nargs=-1)
@click.option("--kind", type=click.Choice(["auto", "dataset", "model", "experiment"]), default="auto",
              show_default=True, help="Check every name as this kind instead of telling by location.")
@json_option
@click.pass_context
def names_check(ctx: click.Context, paths: tuple[str, ...], kind: str, as_json: bool) -> None:
    """Find the dataset, model and experiment names that break the conventions.

    With --kind auto (the default), paths relative to the project root tell the kind: files under
    data/ are datasets, files under models/ are models, folders directly in experiments/ are
    experiments, and so are folders directly in outputs/ (but for logs/, metrics/ and
    visualizations/, whose subfolders are). Hidden files, READMEs, .dvc pointers, checksum files and
    the content of a dataset or model folder (one with a provenance card or its own .dvc pointer)
    are not checked. Without PATHS: the whole project. Exit 1 when any name breaks the conventions.

    \b
    Example:
      labvault names check .
      labvault names check data/raw models --json
      labvault names check --kind model ~/Downloads/weights.pth
    """
    report = api.names_check(list(paths), kind=kind)
    if as_json:
        emit_json({"ok": report.ok, "checked": report.checked, "config": report.config,
                   "violations": report.violations, "skipped": report.skipped})
    else:
        for v in report.violations:
            click.echo(v.line())
        for s in report.skipped:
            click.echo(f"skipped {s}", err=True)
        if report.ok:
            click.echo(f"{report.checked} name{'' if report.checked == 1 else 's'} checked: all follow the conventions.")
    if not report.ok:
        if not as_json:
            click.echo(f"error: {len(report.violations)} of {report.checked} names break the naming conventions: "
                       "rename them as suggested", err=True)
        ctx.exit(1)


@names.command("new")
@click.argument("kind", type=click.Choice(["dataset", "model", "experiment"]))
@click.option("--name", help="Dataset or experiment name (words are joined with '_').")
@click.option("--version", help="Dataset: v2, 1.0, 2017 (default v1). Model: v1, final, best, checkpoint-1000.")
@click.option("--split", help="Dataset split: train, val or test.")
@click.option("--format", "fmt", help="File extension: csv, tar.gz, parquet, pth, safetensors...")
@click.option("--architecture", help="Model architecture, e.g. resnet50.")
@click.option("--dataset", help="Dataset a model was trained on, e.g. imagenet.")
@click.option("--date", help="Model or experiment date, YYYYMMDD (default: today).")
@click.option("--run", type=click.IntRange(0), help="Experiment run number (default 1, printed as run001).")
@json_option
def names_new(kind: str, name: str | None, version: str | None, split: str | None, fmt: str | None,
              architecture: str | None, dataset: str | None, date: str | None, run: int | None,
              as_json: bool) -> None:
    """Print a name that follows the conventions, made from its parts.

    \b
    Example:
      labvault names new dataset --name imagenet --version 2 --split train --format tar
      labvault names new model --architecture bert_base --dataset squad --version final --format safetensors
      labvault names new experiment --name sentiment_analysis --run 42
    """
    g = api.names_new(kind, name=name, version=version, split=split, fmt=fmt, architecture=architecture,
                      dataset=dataset, date=date, run=run)
    if as_json:
        emit_json({"kind": g.kind, "name": g.name, "parts": dict(g.parts)})
    else:
        click.echo(g.name + ("/" if kind == "experiment" else ""))


@cli.group()
def card() -> None:
    """Provenance cards: a dataset folder's README.md whose YAML front matter records name,
    version, source, downloaded (YYYY-MM-DD), license, description and preprocessing steps.

    \b
    Example:
      labvault card new data/raw/reviews --source https://example.com/reviews --license "CC BY 4.0"
      labvault card check data
      labvault card show data/raw/reviews --json
    """


@card.command("new")
@click.argument("path")
@click.option("--name", help="Dataset name (default: the folder's name).")
@click.option("--source", help="Where the data came from: URL, person, instrument.")
@click.option("--license", "license_", help="The data's license, e.g. 'CC BY 4.0'.")
@click.option("--description", help="What the data is.")
@click.option("-f", "--force", is_flag=True, help="Replace an existing README.md.")
@json_option
def card_new(path: str, name: str | None, source: str | None, license_: str | None, description: str | None,
             force: bool, as_json: bool) -> None:
    """Write PATH/README.md, a provenance card for the dataset folder PATH.

    Pre-filled: name (the folder's), version 1.0, downloaded (today), the number of files and their
    total size. Refuses to replace an existing README.md unless --force.

    \b
    Example:
      labvault card new data/raw/reviews --source https://example.com/reviews --license "CC BY 4.0"
      labvault card check data/raw/reviews
    """
    w = api.card_new(path, name=name, source=source, license=license_, description=description, force=force)
    if as_json:
        emit_json({"path": w.path, "replaced": w.replaced, "tracked_folder": w.tracked_folder,
                   "to_fill": w.to_fill, "card": w.card.as_dict()})
        return
    files, size = w.card.extra.get("files", "?"), w.card.extra.get("size")
    size_text = human_size(int(size)) if isinstance(size, str) and size.isdigit() else "?"
    where = os.path.join(path, "README.md")
    click.echo(f"{'replaced' if w.replaced else 'wrote'} {where} ({files} file{'' if files == '1' else 's'}, {size_text})")
    if w.to_fill:
        click.echo(f"fill in: {', '.join(w.to_fill)}; then run `labvault card check {path}`")
    if w.tracked_folder:
        click.echo(f"{path} is tracked as a whole: record the card with `labvault commit {path}.dvc`")


@card.command("check")
@click.argument("paths", nargs=-1, required=True)
@json_option
@click.pass_context
def card_check(ctx: click.Context, paths: tuple[str, ...], as_json: bool) -> None:
    """Check provenance cards: card files, or every card in and below folders.

    One line per problem: a required field missing or empty, a TODO placeholder, a version that is
    not numbers (1.0, v2), a downloaded date that is not a past YYYY-MM-DD date, preprocessing that
    is not a list. A folder with no card at all is a problem too. Exit 1 on any problem.

    \b
    Example:
      labvault card check data
      labvault card check data/raw/reviews/README.md --json
    """
    report = api.card_check(list(paths))
    if as_json:
        emit_json({"ok": report.ok, "checked": report.checked, "problems": report.problems})
    else:
        for p in report.problems:
            click.echo(p.line())
        if report.ok:
            n = len(report.checked)
            click.echo(f"{n} card{'' if n == 1 else 's'} checked: no problems.")
    if not report.ok:
        if not as_json:
            click.echo(f"error: {len(report.problems)} problem(s) in provenance cards: fix the fields named above",
                       err=True)
        ctx.exit(1)


@card.command("show")
@click.argument("path")
@json_option
def card_show(path: str, as_json: bool) -> None:
    """Print the provenance card of a dataset folder (or a card file).

    \b
    Example:
      labvault card show data/raw/reviews
      labvault card show data/raw/reviews --json
    """
    c = api.read_card(path)
    if as_json:
        emit_json(c.as_dict())
        return
    for key, value in c.as_dict().items():
        if key == "preprocessing":
            click.echo("preprocessing:" + ("" if value else " (none)"))
            for step in value:
                click.echo(f"  - {step}")
        elif key == "extra":
            for k, v in value.items():
                click.echo(f"{k}: {v}")
        elif key == "description" and "\n" in value:
            click.echo("description:")
            for line in value.splitlines():
                click.echo(f"  {line}")
        else:
            click.echo(f"{key}: {value}")
