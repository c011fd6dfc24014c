"""``labvault backup run|list|restore|forget|prune|check|drill``: the lab's backups."""

from __future__ import annotations

import click

from labvault import api
from labvault.cli.main import _state, cli, emit_json, human_size, json_option

lab_option = click.option("--lab", "lab", metavar="FILE",
                          help="Lab config file (default: LABVAULT_LAB, then ~/.config/labvault/lab.yaml, "
                               "then /etc/labvault/lab.yaml).")
policy_option = click.option("--policy", "policy", metavar="NAME", help="Only this policy's target.")
wait_option = click.option("--wait", is_flag=True,
                           help="From an archive class (S3 GLACIER, DEEP_ARCHIVE): wait for the restores it requests.")
timeout_option = click.option("--timeout", type=click.FloatRange(min=0), metavar="SECONDS",
                              help="With --wait: give up after this long (exit 10); default no limit.")


def _wait(wait: bool, timeout: float | None) -> api.Wait:
    if timeout is not None and not wait:
        raise click.UsageError("--timeout needs --wait")
    return api.Wait(wait, timeout)


@cli.group(name="backup")
def backup_group() -> None:
    """Snapshots of the lab's data by the policies of the lab config (`backups:`).

    A snapshot stores each file's content once (objects named by md5, as a DVC remote): a run
    of unchanged data reads nothing and sends one small snapshot file. A policy whose target is
    `restic:REPOSITORY` (with `password_file:` or `password_command:`) uses restic instead.
    `forget` removes nothing until a newer snapshot has been verified (drill, restore --verify,
    check --read-data).

    \b
    Example:
      labvault backup run daily
      labvault backup list
      labvault backup restore 20261203T101500.123456Z-1f2e3d4c --to /tmp/restore --verify
      labvault backup forget --dry-run && labvault backup forget && labvault backup prune
      labvault backup check --read-data-subset 1/7
      labvault backup drill
      labvault backup schedule --install daily
    """


@backup_group.command(name="run")
@click.argument("policy", required=False)
@click.option("--dry-run", is_flag=True, help="Say what would be read and sent; change nothing.")
@lab_option
@json_option
@click.pass_context
def run_cmd(ctx: click.Context, policy: str | None, dry_run: bool, lab: str | None, as_json: bool) -> None:
    """Make a snapshot of POLICY's sources (default: of every policy).

    \b
    Example:
      labvault backup run daily
      labvault backup run --dry-run --json
    """
    results = api.backup_run(policy, dry_run=dry_run, lab=lab, progress=_state(ctx).progress)
    if as_json:
        emit_json([r.to_json() for r in results])
        return
    for r in results:
        what = "would send" if r.dry_run else f"snapshot {r.snapshot}:"
        click.echo(f"{r.policy}: {what} {r.objects_added} objects ({human_size(r.bytes_added)}) of {r.files} files "
                   f"({human_size(r.bytes)}); {r.hashed_files} read, {r.cached_files} unchanged")
        for s in r.skipped:
            click.echo(f"warning: skipped {s}", err=True)


@backup_group.command(name="list")
@policy_option
@lab_option
@json_option
def list_cmd(policy: str | None, lab: str | None, as_json: bool) -> None:
    """The snapshots on the backup targets, oldest first.

    \b
    Example:
      labvault backup list
      labvault backup list --policy daily --json
    """
    snaps = api.backup_list(policy, lab=lab)
    if as_json:
        emit_json([s.to_json() for s in snaps])
        return
    for s in snaps:
        click.echo(f"{s.id}  {s.time[:19]}  {s.policy:<12} {s.files:>8} files {human_size(s.bytes):>10}  "
                   f"+{human_size(s.bytes_added)}  {', '.join(s.sources)}")


@backup_group.command(name="restore")
@click.argument("snapshot")
@click.argument("paths", nargs=-1)
@click.option("--to", "to", required=True, metavar="DIR", help="Folder to restore into (created if needed).")
@click.option("--verify", is_flag=True, help="Read every restored file back and compare its md5.")
@wait_option
@timeout_option
@policy_option
@lab_option
@json_option
@click.pass_context
def restore_cmd(ctx: click.Context, snapshot: str, paths: tuple[str, ...], to: str, verify: bool, wait: bool,
                timeout: float | None, policy: str | None, lab: str | None, as_json: bool) -> None:
    """Restore SNAPSHOT (an id, a unique prefix, or `latest`), or only PATHS of it, into DIR.

    Paths start with the source's last component (`datasets/imagenet` for a source
    /mnt/nvme0/datasets). Each file is written at a temp name, checked against its md5, fsynced
    and renamed into place. From an archive class the restores are requested first: exit 10
    ("restore requested, ready in about N h") unless --wait.

    \b
    Example:
      labvault backup restore latest --to /tmp/restore --policy daily
      labvault backup restore 20261203T1015 datasets/imagenet --to /mnt/nvme0 --verify
      labvault backup restore latest --to /tmp/restore --policy cold --wait --timeout 86400
    """
    r = api.backup_restore(snapshot, to, list(paths), verify=verify, policy=policy, lab=lab,
                           progress=_state(ctx).progress, wait=_wait(wait, timeout))
    if as_json:
        emit_json(r.to_json())
    else:
        click.echo(f"restored {r.files} files ({human_size(r.bytes)}), {r.dirs} folders, {r.symlinks} symlinks "
                   f"of {r.snapshot} to {r.to}" + (" (verified)" if r.verified else ""))


@backup_group.command(name="forget")
@policy_option
@click.option("--dry-run", is_flag=True, help="Print the plan: which snapshots are kept (and why) or removed.")
@lab_option
@json_option
@click.pass_context
def forget_cmd(ctx: click.Context, policy: str | None, dry_run: bool, lab: str | None, as_json: bool) -> None:
    """Remove the snapshots the policies' retention does not keep (restic's rules). Deletes
    snapshot files only; `backup prune` then deletes the data no snapshot needs.

    \b
    Example:
      labvault backup forget --dry-run
      labvault backup forget --policy daily
    """
    results = api.backup_forget(policy, dry_run=dry_run, lab=lab, progress=_state(ctx).progress)
    if as_json:
        emit_json([{**r.to_json(), "removed": list(r.removed)} for r in results])
        return
    for r in results:
        for i in r.items:
            word = "keep  " if i.keep else ("remove" if dry_run else "removed")
            click.echo(f"{word} {i.id}  {i.policy:<12} {', '.join(i.reasons)}")


@backup_group.command(name="prune")
@policy_option
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
@click.option("--allow-early", is_flag=True,
              help="Also delete objects younger than their storage class's minimum duration (pays the fee).")
@lab_option
@json_option
@click.pass_context
def prune_cmd(ctx: click.Context, policy: str | None, dry_run: bool, allow_early: bool, lab: str | None,
              as_json: bool) -> None:
    """Delete the objects no remaining snapshot references (waits for a run in progress). On a
    cold target, objects younger than their class's minimum storage duration are kept unless
    --allow-early; the plan shows the early-deletion fee avoided (or paid).

    \b
    Example:
      labvault backup prune --dry-run
      labvault backup prune
      labvault backup prune --policy cold --allow-early --dry-run
    """
    results = api.backup_prune(policy, dry_run=dry_run, lab=lab, progress=_state(ctx).progress,
                               allow_early=allow_early)
    if as_json:
        emit_json([r.to_json() for r in results])
        return
    for r in results:
        verb = "would delete" if r.dry_run else "deleted"
        click.echo(f"{r.target}: {r.snapshots} snapshots reference {r.referenced} objects; {verb} "
                   f"{r.deleted if not r.dry_run else r.unreferenced - (0 if r.allow_early else r.young)} of "
                   f"{r.unreferenced} unreferenced ({human_size(r.bytes_freed)})")
        if r.young:
            fate = "deleted early" if r.allow_early else "kept (younger than their class's minimum duration)"
            paid = "paying" if r.allow_early else "avoiding"
            click.echo(f"  {r.young} objects ({human_size(r.young_bytes)}) {fate}, {paid} an early-deletion fee "
                       f"of ${r.early_fee:.2f}")


def _subset(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    try:
        n, t = (int(x) for x in value.split("/"))
    except ValueError:
        raise click.BadParameter(f"expected N/T such as 1/7, got {value!r}") from None
    return n, t


@backup_group.command(name="check")
@policy_option
@click.option("--read-data", is_flag=True, help="Also download every object and compare its md5.")
@click.option("--read-data-subset", "subset", metavar="N/T", help="Read only the N-th of T slices of the objects.")
@wait_option
@timeout_option
@lab_option
@json_option
@click.pass_context
def check_cmd(ctx: click.Context, policy: str | None, read_data: bool, subset: str | None, wait: bool,
              timeout: float | None, lab: str | None, as_json: bool) -> None:
    """Check that every object a snapshot needs is on the target with the right size (and, with
    --read-data, the right content). Exit 1 when anything is missing or damaged, naming the
    snapshots and paths that need it. Reading data from an archive class requests its restore
    first (exit 10 unless --wait).

    \b
    Example:
      labvault backup check
      labvault backup check --read-data-subset 3/7 --json
    """
    results = api.backup_check(policy, read_data=read_data, subset=_subset(subset), lab=lab,
                               progress=_state(ctx).progress, wait=_wait(wait, timeout))
    if as_json:
        emit_json([r.to_json() for r in results])
    else:
        for r in results:
            click.echo(f"{r.target}: {r.snapshots} snapshots, {r.objects} objects, {r.objects_read} read "
                       f"({human_size(r.bytes_read)}): {'ok' if r.ok else 'PROBLEMS'}")
            for sid in r.bad_snapshots:
                click.echo(f"  snapshot {sid}: unreadable")
            for b in r.bad:
                users = "; ".join(f"{s} {p}" for s, p in b.used_by[:5])
                more = f" (+{len(b.used_by) - 5} more)" if len(b.used_by) > 5 else ""
                click.echo(f"  {b.problem} object {b.md5}: {users}{more}")
    if not all(r.ok for r in results):
        ctx.exit(1)


@backup_group.command(name="drill")
@click.argument("snapshot", default="latest")
@click.option("--sample", default=20, show_default=True, type=click.IntRange(1), help="Files to restore.")
@click.option("--seed", type=int, help="Choose the sample reproducibly.")
@wait_option
@timeout_option
@policy_option
@lab_option
@json_option
@click.pass_context
def drill_cmd(ctx: click.Context, snapshot: str, sample: int, seed: int | None, wait: bool, timeout: float | None,
              policy: str | None, lab: str | None, as_json: bool) -> None:
    """Restore a random sample of SNAPSHOT's files (default: the latest) to a temporary folder,
    compare every byte with the recorded md5 and record the outcome in the catalog. Exit 1 on
    any mismatch. From an archive class the sample's restores are requested first (exit 10
    unless --wait); the sample is then fixed per snapshot unless --seed is given.

    \b
    Example:
      labvault backup drill --policy daily
      labvault backup drill latest --sample 100 --json
    """
    r = api.backup_drill(snapshot, policy, sample, seed, lab=lab, progress=_state(ctx).progress,
                         wait=_wait(wait, timeout))
    if as_json:
        emit_json(r.to_json())
    else:
        click.echo(f"drill of {r.snapshot}: {r.sampled} of {r.of_files} files restored and compared "
                   f"({human_size(r.bytes)}): {'ok' if r.ok else 'FAILED'}")
        for f in r.failed:
            click.echo(f"  {f}")
    if not r.ok:
        ctx.exit(1)


from labvault.cli import backup_schedule_commands as _schedule  # noqa: E402,F401  (registers `backup schedule`)
