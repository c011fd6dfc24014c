"""Storage tiers: the lab's hot, warm and cold storage, what each holds, and (later) moving units.

Glossary:
    lab          a set of mounts and buckets run together, described by one YAML lab config
                 (``labvault.tiers.load``); its state lives in the catalog database
    tier         a named storage level (``hot``, ``warm``, ``cold`` or any name): a folder (a mount)
                 or a bucket URL with a storage class, a price per GiB-month, a capacity, thresholds
    area         a folder of a tier that holds units: datasets/, models/, experiments/,
                 checkpoints/, archive/
    unit         what moves as a whole: a dataset, model, experiment or checkpoint (a file or a
                 folder in an area), keyed by kind, name, version and part
    placement    one copy of a unit on a tier, at a real path or URL, with a state (present,
                 verified, copying, deleting, missing)
    rule         a lifecycle rule: units on one tier matching conditions (last access, age, size,
                 kind, name, tag) move to another
    pin          what is never demoted (a tag such as ``production``, inputs of recent runs)
    promotion    moving a unit to a hotter tier, by hand or after K reads within T days
    access log   reads recorded by labvault (batched), the source of "last access"
    move journal the rows of ``lab_moves``: a move's plan and progress, finished or rolled back
                 after a crash

This package sits beside ``pipelines`` and ``data`` (neither is imported here); anything that
needs both (naming units by the lab's naming conventions) is composed in ``labvault.api.lab``.
"""

from __future__ import annotations

from labvault.tiers.lab import LabConfig, Pins, Promotion, Rule, Tier
from labvault.tiers.types import LabUnit, Placement, ScanResult, TierUsage, UnitName

__all__ = ["LabConfig", "LabUnit", "Pins", "Placement", "Promotion", "Rule", "ScanResult", "Tier", "TierUsage",
           "UnitName"]
