"""A monitor report as Prometheus metrics, in node_exporter's textfile collector format.

Built with prometheus-client (``CollectorRegistry`` + ``Gauge``, rendered by ``generate_latest``)
and written with labvault's atomic write (temp file beside it, fsync, rename, fsync the folder:
the collector never reads half a file, and a crash leaves the old file or the new one). The
temp file's name ends in ``.lvtmp``, which the collector (``*.prom`` only) ignores.

Metrics (bytes unless named otherwise; ``mount`` / ``tier`` / ``dataset`` / ``project`` labels)::

    labvault_mount_total_bytes  labvault_mount_used_bytes  labvault_mount_free_bytes
    labvault_mount_used_ratio   (0..1)
    labvault_tier_used_bytes    labvault_tier_capacity_bytes (when known)  labvault_tier_free_bytes
    labvault_tier_used_ratio    labvault_tier_objects  labvault_tier_units
    labvault_tier_monthly_cost_dollars
    labvault_days_until_full{mount=...} / {tier=...}   only for a growing trend
    labvault_dataset_bytes{dataset=...}  labvault_project_bytes{project=...}   the report's largest
    labvault_monitor_status     0 ok, 1 warn, 2 critical
    labvault_monitor_timestamp_seconds
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

from labvault.errors import UsageError
from labvault.fsutil import atomic_write_bytes
from labvault.tiers.monitor import MonitorReport


def render(report: MonitorReport) -> bytes:
    """The report in the Prometheus text exposition format."""
    try:
        from prometheus_client import CollectorRegistry, Gauge, generate_latest
    except ImportError as exc:
        raise UsageError("--prometheus needs the prometheus-client package",
                         "install it with `pip install 'labvault[monitor]'`") from exc
    reg = CollectorRegistry()

    def gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> Gauge:
        return Gauge(name, doc, labels, registry=reg)

    m_total = gauge("labvault_mount_total_bytes", "Size of the file system", ("mount",))
    m_used = gauge("labvault_mount_used_bytes", "Bytes used on the file system", ("mount",))
    m_free = gauge("labvault_mount_free_bytes", "Bytes free for unprivileged users", ("mount",))
    m_ratio = gauge("labvault_mount_used_ratio", "Used over total (0..1)", ("mount",))
    t_used = gauge("labvault_tier_used_bytes", "Bytes used on the tier", ("tier",))
    t_cap = gauge("labvault_tier_capacity_bytes", "The tier's capacity", ("tier",))
    t_free = gauge("labvault_tier_free_bytes", "Bytes left on the tier", ("tier",))
    t_ratio = gauge("labvault_tier_used_ratio", "Used over capacity (0..1)", ("tier",))
    t_objects = gauge("labvault_tier_objects", "Files of the units placed on the tier", ("tier",))
    t_units = gauge("labvault_tier_units", "Units placed on the tier", ("tier",))
    t_cost = gauge("labvault_tier_monthly_cost_dollars", "Monthly cost of what the tier holds", ("tier",))
    full = gauge("labvault_days_until_full", "Days until full at the fitted rate (growing trends only)",
                 ("mount", "tier"))
    ds = gauge("labvault_dataset_bytes", "Bytes placed for a dataset (all versions, all tiers)", ("dataset",))
    pj = gauge("labvault_project_bytes", "Bytes placed for a project (all kinds, all tiers)", ("project",))
    for m in report.mounts:
        m_total.labels(m.mount).set(m.total)
        m_used.labels(m.mount).set(m.used)
        m_free.labels(m.mount).set(m.free)
        m_ratio.labels(m.mount).set(m.used / m.total if m.total else 0.0)
        if m.trend.days_until_full is not None:
            full.labels(m.mount, "").set(m.trend.days_until_full)
    for t in report.tiers:
        if t.used is not None:
            t_used.labels(t.name).set(t.used)
        if t.capacity is not None:
            t_cap.labels(t.name).set(t.capacity)
            if t.used is not None:
                t_ratio.labels(t.name).set(t.used / t.capacity if t.capacity else 0.0)
        if t.free is not None:
            t_free.labels(t.name).set(t.free)
        t_objects.labels(t.name).set(t.objects)
        t_units.labels(t.name).set(t.units)
        t_cost.labels(t.name).set(t.monthly_cost)
        if t.trend.days_until_full is not None:
            full.labels("", t.name).set(t.trend.days_until_full)
    for g in report.datasets:
        ds.labels(g.name).set(g.bytes)
    for g in report.projects:
        pj.labels(g.name).set(g.bytes)
    gauge("labvault_monitor_status", "0 ok, 1 warn, 2 critical").set(report.exit_code)
    stamp = datetime.fromisoformat(report.timestamp.rstrip("Z")).replace(tzinfo=timezone.utc)
    gauge("labvault_monitor_timestamp_seconds", "When the report was made").set(stamp.timestamp())
    return bytes(generate_latest(reg))


def write_textfile(report: MonitorReport, path: str | os.PathLike[str]) -> None:
    """Write the metrics to ``path`` atomically (StorageError, exit 6, when the folder is missing or
    not writable)."""
    atomic_write_bytes(path, render(report))
