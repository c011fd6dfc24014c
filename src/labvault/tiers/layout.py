"""``lab init``: the lab guide's folder tree under a root, and a lab config with three tiers.

Never overwrites: existing folders are kept (and reported), an existing config is left as it is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from labvault.errors import PathError, from_os_error
from labvault.fsutil import fsync_dir, tmp_name

LAYOUT: dict[str, tuple[str, ...]] = {
    "nvme0": ("datasets", "experiments", "cache"),
    "ssd0": ("datasets", "models", "checkpoints"),
    "hdd0": ("archive", "backups", "raw"),
}

CONFIG_TEMPLATE = """\
# labvault lab config (see docs/design.md, "The lab"). Tiers are listed hottest first.
version: 1
tiers:
  hot:                      # NVMe: active datasets, current experiments
    path: {root}/nvme0
    price_per_gb_month: 0.15
    warn_percent: 80
    critical_percent: 90
  warm:                     # SATA SSD/HDD: recent datasets, model checkpoints
    path: {root}/ssd0
    price_per_gb_month: 0.035
    warn_percent: 80
    critical_percent: 90
  cold:                     # archive disks: historical datasets, completed experiments
    path: {root}/hdd0
    price_per_gb_month: 0.007
    warn_percent: 85
    critical_percent: 95
min_copies: 1
symlink_old_path: true      # leave a symlink at a moved unit's old path
lifecycle:
  rules:
    - name: hot-to-warm
      from: hot
      to: warm
      last_access_days: 7
    - name: warm-to-cold
      from: warm
      to: cold
      last_access_days: 30
  pins:
    tags: [production]      # never demoted
    active_run_days: 14     # nor the inputs of runs started this recently
  promotion:
    reads: 3                # 3 reads within 7 days bring a unit back to the hottest tier
    within_days: 7
"""


@dataclass(frozen=True)
class LabInitResult:
    """What ``lab init`` did: folders made and found, and the config written or kept."""

    root: str
    created: tuple[str, ...]
    existing: tuple[str, ...]
    config: str
    config_written: bool


def init_layout(root: Path, config_path: Path) -> LabInitResult:
    root = Path(os.path.abspath(root))
    if root.exists() and not root.is_dir():
        raise PathError(f"{root} exists and is not a folder", "choose another --root")
    created: list[str] = []
    existing: list[str] = []
    for mount, areas in LAYOUT.items():
        for folder in (root / mount, *(root / mount / a for a in areas)):
            if folder.is_dir():
                existing.append(str(folder))
                continue
            try:
                folder.mkdir(parents=True)
            except FileExistsError:
                raise PathError(f"{folder} exists and is not a folder", "move it away, then run again") from None
            except OSError as e:
                raise from_os_error(e, "creating") from e
            created.append(str(folder))
    written = _write_new(config_path, CONFIG_TEMPLATE.format(root=root))
    return LabInitResult(str(root), tuple(created), tuple(existing), str(config_path), written)


def _write_new(path: Path, text: str) -> bool:
    """Write ``path`` atomically unless it exists (then False): link a complete temp file in place."""
    if path.exists() or path.is_symlink():
        return False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = tmp_name(path)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, text.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        finally:
            os.unlink(tmp)
    except OSError as e:
        raise from_os_error(e, "writing") from e
    fsync_dir(path.parent)
    return True
