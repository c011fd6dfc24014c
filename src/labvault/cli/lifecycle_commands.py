"""The lab's lifecycle and cost: ``lifecycle plan``, ``cost``."""

from __future__ import annotations

from datetime import datetime

import click

from labvault import api
from labvault.cli.lab_commands import catalog_option, lab_option
from labvault.cli.main import cli, emit_json, human_size, json_option


class _Date(click.ParamType[datetime]):
    name = "DATE"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        try:
            return datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError:
            self.fail(f"{value!r} is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+HH:MM] (UTC when "
                      "no offset is given)", param, ctx)


@cli.group()
def lifecycle() -> None:
    """Move units down the tiers by the lab config's rules, and up again on use.

    \b
    Example:
      labvault lifecycle plan
      labvault lifecycle plan --as-of 2027-01-31 --json
      labvault lifecycle apply --dry-run
    """


@lifecycle.command("plan")
@click.option("--as-of", "as_of", type=_Date(), metavar="DATE",
              help="Plan as if it were DATE (YYYY-MM-DD or an ISO time; UTC unless an offset is given).")
@click.option("--allow-early", is_flag=True,
              help="Plan moves off a tier before its minimum storage duration (paying the early-deletion fee).")
@lab_option
@catalog_option
@json_option
def plan(as_of: datetime | None, allow_early: bool, lab: str | None, catalog_url: str | None,
         as_json: bool) -> None:
    """What would move where and why: rule, last access, age; bytes and monthly cost per tier.

    Scans the folder tiers first, as `lab scan` does, except that a folder unit whose folders keep
    their inode and mtime is taken as unchanged without listing its files (run `lab scan` after
    rewriting files in place). Then, for each unit, applies promotion on access and the first
    matching lifecycle rule of its tier. Demoting a pinned unit (tag, name,
    input of a recent run), leaving a tier before its minimum storage duration (unless
    --allow-early), and sending objects under 128 KiB to an infrequent-access class are refused
    and listed with the reason and fee. Nothing moves: `lifecycle apply` does that.

    \b
    Example:
      labvault lifecycle plan
      labvault lifecycle plan --as-of 2027-01-31 --allow-early --json
    """
    result = api.lifecycle_plan(lab, catalog_url, as_of, allow_early)
    if as_json:
        emit_json(result.to_json())
        return
    for line in result.scan.skipped if result.scan is not None else ():
        click.echo(f"skipped {line}", err=True)
    when = result.as_of.isoformat(sep=" ", timespec="minutes")
    click.echo(f"lifecycle plan as of {when} UTC: {result.units} units, {len(result.moves)} moves "
               f"({human_size(result.moved_bytes)}), {len(result.refused)} refused")
    lines: list[str] = []  # one write for the whole table (a plan may list 100,000 moves)
    if result.moves:
        lines.append(f"\n{'ACTION':<8} {'FROM':<8} {'TO':<8} {'SIZE':>10}  {'UNIT':<40} WHY")
        for m in result.moves:
            fee = f" [early fee ${m.early_fee:.2f}]" if m.early_fee else ""
            lines.append(f"{m.action:<8} {m.src_tier:<8} {m.dst_tier:<8} {human_size(m.size):>10}  "
                         f"{m.kind + ' ' + m.ref():<40} {m.reason}{fee}")
    if result.refused:
        lines.append(f"\n{'REFUSED':<14} {'FROM':<8} {'TO':<8} {'SIZE':>10}  {'UNIT':<40} WHY")
        for r in result.refused:
            lines.append(f"{r.cause:<14} {r.src_tier:<8} {r.dst_tier:<8} {human_size(r.size):>10}  "
                         f"{r.kind + ' ' + r.ref():<40} {r.reason}")
    if lines:
        click.echo("\n".join(lines))
    click.echo(f"\n{'TIER':<10} {'BEFORE':>10} {'AFTER':>10} {'$/MONTH':>10} {'AFTER':>10}")
    for t in result.bytes_before:
        click.echo(f"{t:<10} {human_size(result.bytes_before[t]):>10} {human_size(result.bytes_after[t]):>10} "
                   f"{result.cost_before[t]:>10.2f} {result.cost_after[t]:>10.2f}")
    click.echo(f"monthly cost ${result.monthly_cost_before:.2f} -> ${result.monthly_cost_after:.2f}: "
               f"saving ${result.saving:.2f}/month; early-deletion fees ${result.early_fees:.2f}")
    if result.unknown_tiers:
        click.echo(f"not planned: placements on tiers the lab config does not name: "
                   f"{', '.join(result.unknown_tiers)}", err=True)


class _Size(click.ParamType[int]):
    name = "N"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> int:
        from labvault.tiers.load import parse_size

        size = parse_size(value if isinstance(value, int) else str(value).strip())
        if size is None:
            self.fail(f"{value!r} is not a size: use bytes (1000000) or 500GB, 2TiB", param, ctx)
        return size


@lifecycle.command("apply")
@click.option("--dry-run", is_flag=True, help="Say what would move; change nothing.")
@click.option("--allow-early", is_flag=True,
              help="Also make moves that pay an early-deletion fee (leaving a tier before its minimum storage days).")
@click.option("--max-bytes", "max_bytes", type=_Size(), metavar="N",
              help="Move at most N bytes this time (bytes, or 500GB / 2TiB); moves that would go past it are skipped.")
@click.option("--as-of", "as_of", type=_Date(), metavar="DATE", help="Plan as if it were DATE (as `lifecycle plan`).")
@lab_option
@catalog_option
@json_option
@click.pass_context
def apply(ctx: click.Context, dry_run: bool, allow_early: bool, max_bytes: int | None, as_of: datetime | None,
          lab: str | None, catalog_url: str | None, as_json: bool) -> int:
    """Carry out the lifecycle plan: move each unit, verified, then delete its old copy.

    Makes the plan as `lifecycle plan` does (scanning the folder tiers first), then moves the
    units one by one: journaled, copied, the copy verified against the unit's content hash, the
    catalog switched, and only then the source deleted (a symlink left at the old path unless
    symlink_old_path is false). Interrupted moves of earlier commands are finished or rolled back
    first. A full target tier stops the moves to it with one line; nothing is half-moved. A second
    apply waits for the first, then skips what is already done. Exit 0, or the exit code of the
    first failed move (6 for a full tier or a copy that does not verify).

    \b
    Example:
      labvault lifecycle apply --dry-run
      labvault lifecycle apply --max-bytes 500GB
      labvault lifecycle apply --allow-early --json
    """
    from labvault.cli.main import _state
    from labvault.cli.move_commands import report_moves

    result = api.lifecycle_apply(dry_run, allow_early, max_bytes, as_of, lab, catalog_url,
                                 progress=_state(ctx).progress)
    if as_json:
        from labvault.api.jsonshape import apply_json

        emit_json(apply_json(result))
        return next((o.exit_code for o in result.report.failed), 0)
    for r in result.plan.refused:
        click.echo(f"refused {r.kind} {r.ref()} {r.src_tier} -> {r.dst_tier}: {r.reason}")
    code = report_moves(result.report, False)
    if not result.plan.moves:
        click.echo("nothing to move")
    elif not dry_run:
        click.echo(f"moved {human_size(result.report.moved_bytes)} in "
                   f"{sum(1 for o in result.report.outcomes if o.status in ('moved', 'copied'))} units")
    return code


@cli.command("cost")
@click.option("--by", "by", type=click.Choice(["tier", "kind", "project"]), default="tier", show_default=True,
              help="Group by tier, by unit kind, or by project (the name's first '_'-separated word, as monitor counts).")
@lab_option
@catalog_option
@json_option
def cost(by: str, lab: str | None, catalog_url: str | None, as_json: bool) -> None:
    """Monthly storage cost now and after the lifecycle plan (bytes placed x price per GiB-month).

    Reads the catalog only: run `lab scan` (or `lifecycle plan`) first to bring it up to date.

    \b
    Example:
      labvault cost
      labvault cost --by project --json
    """
    report = api.cost(by, lab, catalog_url)
    if as_json:
        emit_json(report.to_json())
        return
    click.echo(f"{by.upper():<24} {'BYTES':>10} {'$/MONTH':>10} {'AFTER':>10} {'$/MONTH':>10} {'SAVING':>10}")
    for r in report.rows:
        click.echo(f"{r.key:<24} {human_size(r.bytes_now):>10} {r.cost_now:>10.2f} {human_size(r.bytes_after):>10} "
                   f"{r.cost_after:>10.2f} {r.saving:>10.2f}")
    click.echo(f"{'total':<24} {'':>10} {report.total_now:>10.2f} {'':>10} {report.total_after:>10.2f} "
               f"{report.saving:>10.2f}")
    if report.early_fees:
        click.echo(f"the plan's moves would pay ${report.early_fees:.2f} of early-deletion fees once")
