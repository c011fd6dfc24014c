"""The commands of issue-level scope 'versioning': one small function each, over labvault.api."""

from __future__ import annotations

from typing import Any

import click

from labvault import api
from labvault.cli.main import _state, cli, emit_json, human_size, json_option


@cli.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--no-scm", is_flag=True, help="Use outside git (no .gitignore entries, no revisions).")
@click.option("-f", "--force", is_flag=True, help="Re-initialize an existing .dvc/ (keeps the cache).")
@click.option("--template", type=click.Choice(["ai-lab"]),
              help="Also lay out a project: ai-lab = the lab guide's folders, README, .gitignore (never overwrites).")
def init(no_scm: bool, force: bool, template: str | None) -> None:
    """Make the current folder a labvault (and DVC) repository.

    \b
    Example:
      git init && labvault init
      labvault init --no-scm        # a plain folder, no git
      labvault init --template ai-lab
    """
    root = api.init(".", no_scm=no_scm, force=force)
    click.echo(f"Initialized labvault repository in {root}")
    if template:
        done = api.scaffold(root, template)
        click.echo(f"Laid out the {template} template: created {len(done.created)}, kept {len(done.kept)} existing")
        for label, paths in (("created", done.created), ("kept", done.kept)):
            for rel in paths:
                click.echo(f"  {label} {rel}")


new_version_option = click.option(
    "--new-version", is_flag=True,
    help="Record new content of protected data as a new version (made read-only again); refused without it.")


@cli.command()
@click.argument("targets", nargs=-1, required=True)
@new_version_option
@click.option("--no-commit", is_flag=True, help="Write the .dvc files but store nothing in the cache (`labvault commit` stores it).")
@click.option("-o", "--out", help="Copy the one TARGET (a path outside, or an s3://, gs://, azure:// URL) here and track it.")
@click.option("-f", "--force", is_flag=True, help="With -o: replace an existing output (never content that is not in the cache).")
@click.option("--glob", "glob_", is_flag=True, help="Accepted as dvc takes it; patterns are expanded anyway (a path that exists is taken as it is).")
@click.option("-j", "--jobs", type=click.IntRange(1, 256), help="With -o from object storage: parallel downloads.")
@click.option("--to-remote", is_flag=True,
              help="Send the one TARGET's data straight to a remote (not the cache, not the workspace) and write "
                   "the .dvc file, as dvc; `pull` brings it later.")
@click.option("-r", "--remote", metavar="NAME", help="With --to-remote: the remote (default: the default remote).")
@click.option("--remote-jobs", type=click.IntRange(1, 256), help="With --to-remote: parallel transfers.")
@json_option
@click.pass_context
def add(ctx: click.Context, targets: tuple[str, ...], new_version: bool, no_commit: bool, out: str | None,
        force: bool, glob_: bool, jobs: int | None, to_remote: bool, remote: str | None, remote_jobs: int | None,
        as_json: bool) -> None:
    """Track files and folders: hash them, store them in the cache, write TARGET.dvc.

    TARGETS are files, folders or quoted glob patterns. New content of a protected output
    (`labvault protect`) is refused unless --new-version.

    \b
    Example:
      labvault add data/raw/dataset.csv data/images
      labvault add 'data/raw/*.parquet'
      labvault add /mnt/shared/imagenet -o data/imagenet      # copy in from outside, as dvc add -o
      labvault add --to-remote s3://raw/scans -o data/scans   # straight to the remote; pull later
      git add data/raw/dataset.csv.dvc data/images.dvc data/.gitignore data/raw/.gitignore
    """
    st = _state(ctx)
    results = api.add(list(targets), progress=st.progress, new_version=new_version, no_commit=no_commit, out=out,
                      force=force, jobs=remote_jobs or jobs, to_remote=to_remote, remote=remote)
    if as_json:
        emit_json(results)
        return
    for r in results:
        files = f", {r.nfiles} files" if r.nfiles is not None else ""
        if to_remote:
            click.echo(f"sent {r.path} ({human_size(r.size)}{files}) to the remote -> {r.pointer}; "
                       "`labvault pull` brings the data here")
        else:
            click.echo(f"added {r.path} ({human_size(r.size)}{files}) -> {r.pointer}")


@cli.command()
@click.argument("targets", nargs=-1)
@click.option("-c", "--cloud", is_flag=True, help="Compare the cache with a remote instead.")
@click.option("-r", "--remote", help="Remote for --cloud (default: core.remote).")
@click.option("-j", "--jobs", type=click.IntRange(1, 256), help="Parallel requests for --cloud.")
@json_option
@click.pass_context
def status(
    ctx: click.Context, targets: tuple[str, ...], cloud: bool, remote: str | None, jobs: int | None, as_json: bool
) -> None:
    """Show what changed in tracked outputs, down to the files inside folders.

    With --cloud: what the remote lacks (or holds with another size than the cache's: push
    replaces it) and what the cache lacks.

    \b
    Example:
      labvault status
      labvault status data/images --json
      labvault status --cloud -r s3remote
      labvault status -q || echo "something changed"     # -q: no output; exit 1 when anything changed
    """
    if cloud:
        cs = api.status_cloud(list(targets), remote, jobs)
        if as_json:
            emit_json({"remote": cs.remote, "in_sync": cs.in_sync, "to_push": cs.to_push, "to_pull": cs.to_pull,
                       "lost": cs.lost, "wrong_size": cs.wrong_size})
            return
        if _state(ctx).quiet:  # as `dvc status -q`: the exit code tells
            ctx.exit(0 if cs.in_sync else 1)
        if cs.in_sync:
            click.echo(f"Cache and remote {cs.remote} are in sync.")
            return
        click.echo(f"{len(cs.to_push)} objects only in the cache (push them), "
                   f"{len(cs.to_pull)} only on remote {cs.remote} (pull them), {len(cs.lost)} in neither")
        for oid in cs.wrong_size[:50]:
            click.echo(f"wrong size on remote {cs.remote}: {oid} (push replaces it)")
        return
    data_targets, stage_targets = _split_targets(targets)
    # Stages first: their scan takes over the read-ahead helper the command line started (api.prefetch_for).
    has = stage_targets or (not targets and api.has_stages())
    stages = api.stage_status(stage_targets, read_ahead=True) if has else []
    if targets and not data_targets:
        report = api.StatusReport()
    else:
        report = api.status(data_targets, progress=_state(ctx).progress, read_ahead=True)
    changed_stages = [s for s in stages if s.changed]
    if as_json:
        emit_json({"clean": report.clean and not changed_stages, "outputs": report.outputs, "stages": stages})
        return
    if _state(ctx).quiet:  # as `dvc status -q`: nothing printed, the exit code tells
        ctx.exit(0 if report.clean and not changed_stages else 1)
    for s in changed_stages:
        click.echo(f"{s.address}: changed")
        for reason in s.reasons:
            click.echo(f"    {reason}")
    if not report.outputs and not stages:
        click.echo("No tracked outputs or stages. Track data with `labvault add` or write a dvc.yaml.")
        return
    if report.clean and not changed_stages:
        click.echo("Data and pipelines are up to date.")
        return
    for o in report.outputs:
        if o.status == "clean" and not o.changed_deps:
            continue
        label = ("protected, " if o.protected else "") + o.status.replace("_", " ")
        if o.changed_deps:
            label = "changed deps" if o.status == "clean" else f"{label}, changed deps"
        click.echo(f"{o.path}: {label}  ({o.pointer})")
        if o.status == "not_downloaded":
            click.echo(f"    an import recorded without its data: `labvault update {o.pointer}` downloads it "
                       "(`labvault pull` too, when the import recorded its source's checksum)")
        for source, change in o.changed_deps.items():
            if change == "unreachable":
                click.echo(f"    unreachable source: {source}  (status could not check it; as dvc, counted as changed)")
            else:
                click.echo(f"    {change} source: {source}  (`labvault update {o.pointer}` imports it again)")
        for note in o.notes:
            click.echo(f"    {note}")
        for label, items in (
            ("added", o.added), ("modified", o.modified), ("deleted", o.deleted), ("not in cache", o.missing)
        ):
            for item in items[:50]:
                click.echo(f"    {label}: {o.path}/{item}")
            if len(items) > 50:
                click.echo(f"    ... and {len(items) - 50} more {label}")


@cli.command()
@click.argument("targets", nargs=-1)
@click.option("-f", "--force", is_flag=True, help="Accepted for DVC compatibility; commit never prompts.")
@new_version_option
@json_option
@click.pass_context
def commit(ctx: click.Context, targets: tuple[str, ...], force: bool, new_version: bool, as_json: bool) -> None:
    """Record the current content of tracked outputs in their .dvc files, and of pipeline stages
    (deps, params, outputs) in dvc.lock without running them. New content of a protected output
    is refused unless --new-version.

    \b
    Example:
      labvault commit                 # every tracked output and every stage
      labvault commit data/images.dvc
      labvault commit train           # a stage, after running its command by hand
    """
    rest: list[str] = list(targets)
    staged: list[api.Recorded] = []
    if api.has_stages():
        staged, rest = api.commit_stages(list(targets) or None)
    results = api.commit(rest, progress=_state(ctx).progress, new_version=new_version) if rest or not targets else []
    results = [*results, *staged]
    if as_json:
        emit_json(results)
        return
    changed = [r for r in results if r.changed]
    for r in changed:
        click.echo(f"committed {r.path} -> {r.pointer}")
    if not changed:
        click.echo("Nothing to commit: every output matches its .dvc file or dvc.lock (and its objects are in the cache).")


@cli.command()
@click.argument("targets", nargs=-1)
@click.option("-f", "--force", is_flag=True, help="Overwrite data that is not in the cache (it is lost).")
@click.option("--relink", is_flag=True, help="Re-create every file with the configured link type.")
@json_option
@click.pass_context
def checkout(ctx: click.Context, targets: tuple[str, ...], force: bool, relink: bool, as_json: bool) -> int:
    """Make the workspace hold exactly the data the .dvc files name.

    Refuses, changing nothing, when that would destroy data that is not in the cache.

    \b
    Example:
      git checkout v1.0 && labvault checkout
      labvault checkout data/images.dvc --relink
    """
    result = api.checkout(list(targets), force=force, relink=relink, progress=_state(ctx).progress)
    if as_json:
        emit_json(result)
    else:
        click.echo(
            f"{len(result.added)} added, {len(result.modified)} modified, {len(result.deleted)} deleted, "
            f"{result.unchanged} unchanged"
        )
        for f in result.failed[:20]:
            click.echo(f"missing from the cache: {f}", err=True)
    if result.failed:
        click.echo(
            f"error: {len(result.failed)} file(s) could not be restored: their objects are not in the cache: "
            "fetch them with `labvault pull`",
            err=True,
        )
        ctx.exit(1)
    return 0


@cli.command()
@click.argument("targets", nargs=-1, required=True)
@click.option("--outs", is_flag=True, help="Also delete the data from the workspace.")
@click.option(
    "-f", "--force", is_flag=True,
    help="With --outs, also delete files whose current content is not in the cache (it is lost).",
)
@click.option("-n", "--dry-run", is_flag=True, help="Run every check and say what would go; change nothing.")
@json_option
def remove(targets: tuple[str, ...], outs: bool, force: bool, dry_run: bool, as_json: bool) -> None:
    """Stop tracking outputs: delete their .dvc files and .gitignore entries.

    With --outs the data goes too; a file whose current content is not in the cache (an
    uncommitted edit) is the only copy, so the command refuses (exit 4, nothing changed) unless
    --force is given.

    \b
    Example:
      labvault remove data/images.dvc
      labvault remove data/old.csv --outs
      labvault remove data/old.csv --outs --dry-run   # what would go
    """
    results = api.remove(list(targets), outs=outs, force=force, dry_run=dry_run)
    if as_json:
        emit_json(results)
        return
    for r in results:
        verb = "would remove" if r.dry_run else "removed"
        click.echo(f"{verb} {r.pointer}" + (" and its data" if r.data_deleted else ""))


@cli.command()
@click.argument("src")
@click.argument("dst")
def move(src: str, dst: str) -> None:
    """Rename a tracked output with its .dvc file.

    \b
    Example:
      labvault move data/raw/reviews.csv data/raw/reviews_v1.csv
    """
    m = api.move(src, dst)
    click.echo(f"moved {m.src} -> {m.dst} ({m.pointer})")


@cli.command()
@click.argument("a_rev", required=False)
@click.argument("b_rev", required=False)
@json_option
def diff(a_rev: str | None, b_rev: str | None, as_json: bool) -> None:
    """Show outputs and files added, deleted, renamed and modified between two git revisions.

    A_REV defaults to HEAD and B_REV to the workspace. Outputs of .dvc files and of pipeline
    stages (dvc.lock) are compared; a folder output is listed as PATH/ beside its files. Against
    the workspace, entries of A_REV whose objects are missing from the cache are listed too.

    \b
    Example:
      labvault diff                 # HEAD against the workspace
      labvault diff v1.0 v2.0
    """
    report = api.diff(a_rev, b_rev)
    sections: list[tuple[str, list[Any]]] = [
        ("added", list(report.added)),
        ("deleted", list(report.deleted)),
        ("renamed", [{"old": old, "new": new} for old, new in report.renamed]),
        ("modified", list(report.modified)),
    ]
    if report.not_in_cache is not None:
        sections.append(("not in cache", list(report.not_in_cache)))
    if as_json:
        order = ("added", "deleted", "modified", "renamed", "not in cache")
        doc = {k: [{"path": p} for p in v] for k, v in sorted(sections, key=lambda kv: order.index(kv[0]))}
        emit_json({} if report.empty else doc)
        return
    summary = []
    for label, items in sections:
        if not items:
            continue
        click.echo(f"{label.capitalize()}:")
        files = 0
        for p in items:
            text = f"{p['old']} -> {p['new']}" if isinstance(p, dict) else p
            files += 0 if text.endswith("/") else 1
            click.echo(f"    {text}")
        click.echo()
        if files:
            summary.append(f"{files} {label}")
    if summary:
        click.echo(f"files summary: {', '.join(summary)}")


@cli.command()
@click.option("--remove-corrupt", is_flag=True, help="Move corrupt objects to the quarantine folder (the cache only).")
@click.option("--remote", "remote", metavar="NAME", help="Read back the objects of this remote instead of the cache.")
@click.option("--tier", "tier", metavar="NAME", help="Read back the units placed on this folder tier of the lab.")
@click.option("--slice", "slice_", metavar="N/T", help="Only the N-th of T slices (T runs cover everything).")
@click.option("--budget", metavar="BYTES|TIME",
              help="Only the least recently verified objects, up to BYTES (500GB) or TIME (30m, 2h).")
@click.option("--status", "status", is_flag=True, help="Show what was verified when (coverage), read nothing.")
@click.option("--rev", "revisions", multiple=True, metavar="REV",
              help="Also name the outputs at this git revision when reporting (--remote; repeatable).")
@click.option("--lab", "lab", metavar="FILE", help="Lab config file (--tier).")
@click.option("--catalog", "catalog_url", metavar="URL", help="Catalog database holding the verification records.")
@json_option
@click.pass_context
def verify(ctx: click.Context, remove_corrupt: bool, remote: str | None, tier: str | None, slice_: str | None,
           budget: str | None, status: bool, revisions: tuple[str, ...], lab: str | None, catalog_url: str | None,
           as_json: bool) -> int:
    """Re-hash stored objects: the cache (default), a remote's objects, or a tier's units.

    The whole cache: corrupt objects and ones the workspace needs but lacks; exit 3 when any.
    --remote/--tier, or --slice/--budget (the cache then too): every object (or that part of
    them) is read back and its md5 compared with its name or its unit's content hash; what was
    checked is recorded in the catalog, and --status shows the coverage. Exit 9 when anything is
    missing or corrupt.

    \b
    Example:
      labvault verify
      labvault verify --remote storage --slice 3/7      # cron: --slice $(( $(date +%j) % 7 + 1 ))/7
      labvault verify --tier cold --budget 2h
      labvault verify --status --remote storage --json
      labvault verify --budget 50GB                     # scrub the cache, least recently verified first
    """
    if remote is not None or tier is not None or status or slice_ is not None or budget is not None:
        from labvault.cli.verify_render import run_scrub

        return run_scrub(ctx, remote, tier, slice_, budget, status, revisions, lab, catalog_url, as_json,
                         remove_corrupt)
    r = api.verify(remove_corrupt=remove_corrupt, progress=_state(ctx).progress)
    if as_json:
        emit_json({"checked": r.checked, "corrupt": r.corrupt, "missing": r.missing, "unreadable": r.unreadable,
                   "quarantined": r.quarantined, "spilled": r.spilled})
    else:
        spilled = f", {len(r.spilled)} spilled (on a tier, not re-hashed)" if r.spilled else ""
        click.echo(f"checked {r.checked} objects: {len(r.corrupt)} corrupt, {len(r.missing)} missing{spilled}")
        for oid in r.corrupt:
            click.echo(f"corrupt: {oid}")
        for oid in r.missing:
            click.echo(f"missing: {oid}")
    if not r.ok:
        ctx.exit(3)
    return 0


@cli.command()
@click.argument("key", required=False)
@click.argument("value", required=False)
@click.option("--local", "level", flag_value="local", help="Use .dvc/config.local (not in git).")
@click.option("--global", "level", flag_value="global", help="Use the user's config file.")
@click.option("--system", "level", flag_value="system", help="Use the machine's config file.")
@click.option("--repo", "level", flag_value="repo", help="Use .dvc/config (the default for writing).")
@click.option("-u", "--unset", is_flag=True, help="Remove KEY.")
@click.option("-l", "--list", "list_all", is_flag=True, help="List every key.")
@json_option
def config(
    key: str | None, value: str | None, level: str | None, unset: bool, list_all: bool, as_json: bool
) -> None:
    """Get or set configuration, in DVC's file format.

    \b
    Example:
      labvault config cache.type hardlink,copy
      labvault config --local labvault.jobs 4
      labvault config core.remote
      labvault config --list
    """
    if list_all or key is None:
        values = api.config_list(level)
        if as_json:
            emit_json(values)
        else:
            for k, v in values.items():
                click.echo(f"{k}={v}")
        return
    if unset:
        api.config_unset(key, level or "repo")
        return
    if value is None:
        got = api.config_get(key, level)
        if got is None:
            raise click.ClickException(f"{key} is not set")
        click.echo(got)
        return
    api.config_set(key, value, level or "repo")


@cli.command()
def version() -> None:
    """Print labvault's version.

    \b
    Example:
      labvault version
    """
    click.echo(f"labvault {api.version()}")


@cli.command()
@click.option("--lab", "lab", metavar="FILE", help="The lab config to report (default: as every lab command finds it).")
@json_option
def doctor(lab: str | None, as_json: bool) -> None:
    """What this installation and this repository are made of, for a bug report or a first
    check (as `dvc doctor`): versions, the storage kinds and optional parts installed (and how
    to add a missing one), the tools labvault drives, and, inside a repository, its cache
    (folder, link types, file system, free space), remotes, catalog and lab config. Nothing is
    contacted or changed.

    \b
    Example:
      labvault doctor
      labvault doctor --json > env.json    # attach it to a bug report
    """
    report = api.doctor(lab=lab)
    if as_json:
        emit_json(report)
        return
    click.echo(f"labvault {report.labvault}, Python {report.python} on {report.platform}")
    for label, parts in (("Storage", report.storage), ("Optional", report.optional)):
        click.echo(f"{label}:")
        for p in parts:
            state = f"{p.name} {p.version}" if p.version else f"missing ({p.how})"
            click.echo(f"  {p.what:<20} {state}")
    click.echo("Tools:")
    for p in report.tools:
        click.echo(f"  {p.what:<32} {p.version or f'{p.name} missing ({p.how})'}")
    click.echo(f"Lab config: {report.lab_config or 'none (labvault lab init --root DIR writes one)'}")
    r = report.repo
    if r is None:
        click.echo("Repository: none here")
        return
    click.echo(f"Repository: {r.root} ({'git' if r.git else 'no git'})")
    free = f", {human_size(r.free_bytes)} free" if r.free_bytes is not None else ""
    click.echo(f"  cache: {r.cache_dir} ({r.file_system}{free}); link types: {', '.join(r.cache_types)}")
    remotes = ", ".join(f"{name} ({kind}{', default' if default else ''})" for name, kind, default in r.remotes)
    click.echo(f"  remotes: {remotes or 'none'}")
    click.echo(f"  catalog: {r.catalog}")


def _split_targets(targets: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Targets naming tracked data (outputs, .dvc files) and targets naming stages."""
    from labvault.errors import PathError

    data: list[str] = []
    stages: list[str] = []
    for t in targets:
        try:
            api.status([t])
            data.append(t)
        except PathError:
            stages.append(t)
    return data, stages
