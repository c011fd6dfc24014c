"""The lab: storage tiers, what each holds, and where a unit lives::

    from labvault import api

    api.lab_init("/mnt")                       # nvme0/ ssd0/ hdd0/ areas, and a lab config
    api.lab_scan()                             # register the units found in the tiers' areas
    for t in api.tier_list():
        print(t.name, t.used, t.capacity, t.monthly_cost)
    print(api.where("imagenet@v2").units[0].placements)

Every function takes ``lab`` (a lab config file; default: ``LABVAULT_LAB``, then the user's, then
the system's ``labvault/lab.yaml``) and ``catalog_url`` (default: ``LABVAULT_CATALOG_URL``, then the
lab config's ``catalog_url``, then the user's SQLite catalog). No repository is needed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from labvault.catalog.store import Catalog, open_catalog
from labvault.data import naming as _naming
from labvault.tiers import layout as _layout
from labvault.tiers import load as _load
from labvault.tiers import scan as _scan
from labvault.tiers import totals as _totals
from labvault.tiers import usage as _usage
from labvault.tiers import where as _where
from labvault.tiers.lab import LabConfig, catalog_url_of
from labvault.tiers.types import LabUnit, ScanResult, TierUsage, UnitName

PathLike = str | os.PathLike[str]
LabInitResult = _layout.LabInitResult
WhereResult = _where.WhereResult

__all__ = ["LabConfig", "LabInitResult", "LabUnit", "ScanResult", "TierUsage", "WhereResult", "lab_catalog",
           "lab_config", "lab_init", "lab_scan", "tier_list", "unit_namer", "where"]


def lab_config(lab: PathLike | None = None) -> LabConfig:
    """The lab config in effect (ConfigError, exit 2, when there is none or it is malformed)."""
    return _load.load_lab(lab)


def lab_catalog(config: LabConfig, catalog_url: str | None = None) -> Catalog:
    """The catalog holding the lab's state: ``catalog_url``, LABVAULT_CATALOG_URL, the lab config's
    ``catalog_url``, else the default SQLite file."""
    return open_catalog(catalog_url_of(config, catalog_url))


def lab_init(root: PathLike, lab: PathLike | None = None) -> LabInitResult:
    """Lay out ``nvme0/``, ``ssd0/``, ``hdd0/`` and their areas under ``root`` and write a lab config
    (to ``lab``, else LABVAULT_LAB, else the user's ``labvault/lab.yaml``) with hot, warm and cold
    tiers there. Nothing is overwritten: existing folders and an existing config are reported."""
    target = Path(lab or os.environ.get("LABVAULT_LAB") or _load.user_lab_file()).expanduser()
    return _layout.init_layout(Path(root).expanduser(), Path(os.path.abspath(target)))


def unit_namer() -> _scan.Namer:
    """Names units by the lab's naming conventions when they follow them, else by their own name:
    ``imagenet_v2_train.tar`` is dataset ``imagenet@v2`` part ``train``;
    ``resnet50_imagenet_20241113_v1.pth`` model ``resnet50_imagenet@v1`` part ``20241113``;
    ``sentiment_20241113_run001/`` experiment ``sentiment@run001`` part ``20241113``."""
    conventions = _naming.Conventions({k: re.compile(p) for k, p in _naming.DEFAULT_PATTERNS.items()})
    tries = {"datasets": ("dataset",), "models": ("model",), "experiments": ("experiment",),
             "checkpoints": ("model",), "archive": ("dataset", "model", "experiment")}

    def name(area: str, entry: str, is_dir: bool) -> UnitName:
        plain = _scan.folder_namer(area, entry, is_dir)
        for kind in tries.get(area, ()):
            candidates = (entry, entry + ".dir") if is_dir and kind != "experiment" else (entry,)
            for text in candidates:
                m = conventions.patterns[kind].fullmatch(text)
                if m is None or not conventions.matches(kind, text):
                    continue
                g = m.groupdict()
                unit_kind = "checkpoint" if area == "checkpoints" else kind
                if kind == "dataset":
                    return UnitName(unit_kind, g["name"], g["version"], g["split"])
                if kind == "model":
                    return UnitName(unit_kind, g["architecture_dataset"], g["version"], g["date"])
                return UnitName(unit_kind, g["name"], g["run"], g["date"])
        return plain

    return name


def lab_scan(lab: PathLike | None = None, catalog_url: str | None = None,
             tiers: list[str] | None = None) -> ScanResult:
    """Register the units in the folder tiers' areas (or those of ``tiers``) in the catalog:
    content hashed once, then trusted by the stat cache while inode, size and mtime match."""
    config = _load.load_lab(lab)
    for name in tiers or ():
        config.tier(name)
    return _scan.scan_lab(lab_catalog(config, catalog_url), config, unit_namer(), tiers)


def tier_list(lab: PathLike | None = None, catalog_url: str | None = None) -> list[TierUsage]:
    """Every tier, hottest first: used/free/capacity, object and dataset counts, monthly cost."""
    config = _load.load_lab(lab)
    with lab_catalog(config, catalog_url).sql_rows() as rows:
        return _usage.tier_usage(config, _totals.tier_totals(rows))


def where(target: str, lab: PathLike | None = None, catalog_url: str | None = None) -> WhereResult:
    """Which tiers hold ``NAME[@VERSION]`` or the unit at (or containing) a path: real paths, size,
    copies, last access. CatalogError (exit 2) when no unit matches."""
    path = _load.find_lab_file(lab)
    url = catalog_url or os.environ.get("LABVAULT_CATALOG_URL")
    if url is None and path is not None:
        url = _load.load_lab(path).catalog_url
    return _where.where(open_catalog(url), target)
