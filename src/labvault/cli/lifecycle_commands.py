"""The lab's lifecycle and cost: ``lifecycle plan``, ``cost``."""

from __future__ import annotations

from datetime import datetime

import click

from labvault import api
from labvault.cli.lab_commands import catalog_option, json_option, lab_option
from labvault.cli.main import cli, emit_json, human_size


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

    Scans the folder tiers first (as `lab scan` does), then, for each unit, applies promotion on
    access and the first matching lifecycle rule of its tier. Demoting a pinned unit (tag, name,
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
    if result.moves:
        click.echo(f"\n{'ACTION':<8} {'FROM':<8} {'TO':<8} {'SIZE':>10}  {'UNIT':<40} WHY")
        for m in result.moves:
            fee = f" [early fee ${m.early_fee:.2f}]" if m.early_fee else ""
            click.echo(f"{m.action:<8} {m.src_tier:<8} {m.dst_tier:<8} {human_size(m.size):>10}  "
                       f"{m.kind + ' ' + m.ref():<40} {m.reason}{fee}")
    if result.refused:
        click.echo(f"\n{'REFUSED':<14} {'FROM':<8} {'TO':<8} {'SIZE':>10}  {'UNIT':<40} WHY")
        for r in result.refused:
            click.echo(f"{r.cause:<14} {r.src_tier:<8} {r.dst_tier:<8} {human_size(r.size):>10}  "
                       f"{r.kind + ' ' + r.ref():<40} {r.reason}")
    click.echo(f"\n{'TIER':<10} {'BEFORE':>10} {'AFTER':>10} {'$/MONTH':>10} {'AFTER':>10}")
    for t in result.bytes_before:
        click.echo(f"{t:<10} {human_size(result.bytes_before[t]):>10} {human_size(result.bytes_after[t]):>10} "
                   f"{result.cost_before[t]:>10.2f} {result.cost_after[t]:>10.2f}")
    click.echo(f"monthly cost ${result.monthly_cost_before:.2f} -> ${result.monthly_cost_after:.2f}: "
               f"saving ${result.saving:.2f}/month; early-deletion fees ${result.early_fees:.2f}")
    if result.unknown_tiers:
        click.echo(f"not planned: placements on tiers the lab config does not name: "
                   f"{', '.join(result.unknown_tiers)}", err=True)


@cli.command("cost")
@click.option("--by", "by", type=click.Choice(["tier", "kind", "project"]), default="tier", show_default=True,
              help="Group by tier, by unit kind, or by project (the first part of a '/'-separated name).")
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
