"""The access log: batched reads, one write per flush, last access only moves forward; strictatime
detection from mountinfo."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from labvault import api
from labvault.catalog import store
from labvault.catalog.lab_schema import lab_access
from labvault.tiers.access import AccessLog, atime_trusted, mount_options


def test_reads_are_batched_and_last_access_moves_forward(lab_root: Path, catalog_url: str) -> None:
    (lab_root / "nvme0/datasets/coco_2017_val.zip").write_bytes(b"x")
    api.lab_scan(catalog_url=catalog_url)
    unit = api.where("coco@2017", catalog_url=catalog_url).units[0]
    cat = store.open_catalog(catalog_url)
    t1, t2, t0 = datetime(2026, 3, 1), datetime(2026, 3, 2), datetime(2025, 1, 1)
    with AccessLog(cat) as log:
        for at in (t1, t2, t1):
            log.record(unit.id, "checkout", at)
        log.record(unit.id, "pull", t1)
        assert log.pending == 4
        with cat.read() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(lab_access)).scalar() == 0
    with cat.read() as conn:
        rows = sorted((r.source, r.reads, r.at) for r in conn.execute(sa.select(lab_access)))
    assert rows == [("checkout", 3, t2), ("pull", 1, t1)]
    assert api.where("coco@2017", catalog_url=catalog_url).units[0].last_access == t2
    log = AccessLog(cat)
    log.record(unit.id, "read", t0)
    assert log.flush() == 1 and log.flush() == 0
    assert api.where("coco@2017", catalog_url=catalog_url).units[0].last_access == t2


MOUNTINFO = """\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
30 22 8:2 / /mnt/nvme0 rw,noatime shared:2 - ext4 /dev/nvme0n1 rw
31 22 8:3 / /mnt/hdd\\0400 rw,nosuid shared:3 - ext4 /dev/sdb1 rw
"""


def test_strictatime_from_mountinfo() -> None:
    assert mount_options("/mnt/nvme0/datasets/x", MOUNTINFO) == {"rw", "noatime"}
    assert not atime_trusted("/mnt/nvme0/datasets/x", MOUNTINFO)
    assert not atime_trusted("/home/u/file", MOUNTINFO)  # relatime
    assert atime_trusted("/mnt/hdd 0/archive/x", MOUNTINFO)  # neither: strict atime
    assert not atime_trusted("/x", "")
    assert isinstance(atime_trusted(str(Path.cwd())), bool)  # the real /proc/self/mountinfo parses
