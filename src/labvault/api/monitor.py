"""The storage monitor::

    from labvault import api

    report = api.monitor(record=True, prometheus="/var/lib/node_exporter/labvault.prom")
    for w in report.warnings:
        print(w)
    raise SystemExit(report.exit_code)      # 0 ok, 1 warn, 2 critical: for cron

``lab`` and ``catalog_url`` are found as for every lab function (``labvault.api.lab``).
"""

from __future__ import annotations

import os
from datetime import datetime

from labvault.api.lab import lab_catalog
from labvault.catalog.store import now as _now
from labvault.errors import UsageError
from labvault.tiers import load as _load
from labvault.tiers import monitor as _monitor
from labvault.tiers import prometheus as _prometheus
from labvault.tiers.forecast import Trend

PathLike = str | os.PathLike[str]
MonitorReport = _monitor.MonitorReport
MountUsage = _monitor.MountUsage
TierReport = _monitor.TierReport
GroupUsage = _monitor.GroupUsage

__all__ = ["GroupUsage", "MonitorReport", "MountUsage", "TierReport", "Trend", "monitor"]


def monitor(lab: PathLike | None = None, catalog_url: str | None = None, record: bool = False,
            prometheus: PathLike | None = None, window_days: float = 30.0, top: int = 20,
            at: datetime | None = None) -> MonitorReport:
    """Usage per mount (statvfs), per tier, per dataset and per project (from the catalog, no file
    walk), with thresholds, trends over the last ``window_days`` of recorded history and days until
    full. ``record`` appends this measurement to the history (a row per mount and per tier);
    ``prometheus`` writes the metrics there (node_exporter textfile format, atomically). ``at``
    (naive UTC) stands for the current time. The report's ``exit_code``: 0 ok, 1 warn, 2 critical."""
    if window_days <= 0:
        raise UsageError(f"window_days must be positive, got {window_days:g}", "pass a number of days such as 30")
    if top < 0:
        raise UsageError(f"top must be 0 or more, got {top}", "pass how many datasets and projects to list")
    config = _load.load_lab(lab)
    report = _monitor.monitor(lab_catalog(config, catalog_url), config, at or _now(), record, window_days, top)
    if prometheus is not None:
        _prometheus.write_textfile(report, prometheus)
    return report
