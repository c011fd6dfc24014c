"""``monitor``: the lab's storage report; its exit status is the state (0 ok, 1 warn, 2 critical).

Because 1 and 2 are states here, every error of this command (a bad option, a bad lab config, an
unreachable catalog, an unwritable --prometheus file) exits 3, "unknown" as monitoring plugins
(Nagios, Icinga) read it, with the usual one ``error:`` line.
"""

from __future__ import annotations

from typing import Any

import click

from labvault import api
from labvault.cli.main import cli, emit_json, human_size
from labvault.errors import LabvaultError

ERROR_EXIT = 3
json_option = click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
lab_option = click.option("--lab", "lab", metavar="FILE",
                          help="Lab config file (default: LABVAULT_LAB, then ~/.config/labvault/lab.yaml, "
                               "then /etc/labvault/lab.yaml).")
catalog_option = click.option("--catalog", "catalog_url", metavar="URL",
                              help="Catalog database holding the lab's state (default: LABVAULT_CATALOG_URL, "
                                   "the lab config's catalog_url, else the user's SQLite catalog).")


class _UsageError(click.UsageError):
    exit_code = ERROR_EXIT


class _StateCommand(click.Command):
    """A command whose exit codes 1 and 2 report a state: its errors exit :data:`ERROR_EXIT`."""

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            raise _UsageError(exc.message, exc.ctx) from exc

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LabvaultError as exc:
            exc.exit_code = ERROR_EXIT
            raise


@cli.command("monitor", cls=_StateCommand)
@click.option("--prometheus", metavar="FILE",
              help="Also write the metrics to FILE in node_exporter's textfile format (atomically; "
                   "name it *.prom in the collector's folder).")
@click.option("--record", is_flag=True, help="Append this measurement to the usage history (for trends).")
@click.option("--window", "window_days", type=float, default=30.0, show_default=True, metavar="DAYS",
              help="Fit trends over the history of the last DAYS days.")
@click.option("--top", type=int, default=20, show_default=True, metavar="N",
              help="List the N largest datasets and projects.")
@click.option("--verify", is_flag=True,
              help="First recompute the catalog's per-tier, per-project and per-dataset sums from its "
                   "placements; rebuild them (and warn) if they disagree.")
@lab_option
@catalog_option
@json_option
def monitor(prometheus: str | None, record: bool, window_days: float, top: int, verify: bool, lab: str | None,
            catalog_url: str | None, as_json: bool) -> int:
    """Storage usage per mount, tier, dataset and project, with thresholds, trends and days until full.

    Mounts are read with statvfs; tiers, datasets and projects come from the catalog (no file is
    visited): from sums the catalog keeps up to date with every change, which --verify checks
    against the placements themselves. A trend is a least-squares line over the history that --record builds (run it from
    cron); noise is reported as "no trend", never as an alarm.

    \b
    Exit status, for cron and monitoring systems:
      0 ok, 1 warn (a warn threshold passed, or full within 7 days at the current rate),
      2 critical (a critical threshold passed, or a tier's folder is missing),
      3 the monitor could not run (bad option, lab config or catalog).

    \b
    Example:
      labvault monitor
      labvault monitor --json --record --prometheus /var/lib/node_exporter/textfile/labvault.prom
      labvault monitor --verify
      */5 * * * *  labvault monitor --record -q >/dev/null || notify-admin
    """
    report = api.monitor(lab, catalog_url, record=record, prometheus=prometheus, window_days=window_days,
                         top=top, verify=verify)
    if as_json:
        emit_json(report)
        return report.exit_code
    _table(report)
    return report.exit_code


def _trend(t: api.Trend) -> str:
    if t.trend == "no trend" or t.slope_per_day is None:
        return f"no trend ({t.points} pts)"
    rate = f"{'+' if t.slope_per_day > 0 else '-'}{human_size(int(abs(t.slope_per_day)))}/day"
    if t.days_until_full is not None:
        return f"{rate}, full in {t.days_until_full:.1f} d"
    return rate


def _table(report: api.MonitorReport) -> None:
    click.echo(f"storage report {report.timestamp}: {report.status}")
    click.echo(f"{'MOUNT':<28} {'TOTAL':>10} {'USED':>10} {'FREE':>10} {'USE%':>6}  {'STATUS':<8} "
               f"{'TREND':<30} TIERS")
    for m in report.mounts:
        click.echo(f"{m.mount:<28} {human_size(m.total):>10} {human_size(m.used):>10} {human_size(m.free):>10} "
                   f"{m.percent:>6.1f}  {m.status:<8} {_trend(m.trend):<30} {', '.join(m.tiers)}")
    click.echo(f"{'TIER':<10} {'USED':>10} {'CAPACITY':>10} {'USE%':>6} {'WARN/CRIT':>9}  {'STATUS':<8} "
               f"{'UNITS':>7} {'$/MONTH':>9}  {'TREND':<30} WHERE")
    for t in report.tiers:
        pct = f"{t.percent:.1f}" if t.percent is not None else "-"
        click.echo(f"{t.name:<10} {human_size(t.used):>10} {human_size(t.capacity):>10} {pct:>6} "
                   f"{t.warn_percent:>4g}/{t.critical_percent:<4g}  {t.status:<8} {t.units:>7} "
                   f"{t.monthly_cost:>9.2f}  {_trend(t.trend):<30} {t.where}")
    for title, groups, total in (("DATASET", report.datasets, report.datasets_total),
                                 ("PROJECT", report.projects, report.projects_total)):
        if not groups:
            continue
        more = f" (largest {len(groups)} of {total})" if total > len(groups) else ""
        click.echo(f"{title + more:<40} {'SIZE':>10} {'UNITS':>7} {'FILES':>9}  TIERS")
        for g in groups:
            tiers = ", ".join(f"{k} {human_size(v)}" for k, v in g.tiers.items())
            click.echo(f"{g.name:<40} {human_size(g.bytes):>10} {g.units:>7} {g.objects:>9}  {tiers}")
    if report.recorded:
        click.echo(f"recorded {report.recorded} measurements")
    for w in report.warnings:
        click.echo(f"WARNING: {w}")
