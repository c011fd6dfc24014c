"""Verification records (revision 0008) on SQLite and PostgreSQL: the newest result per item wins."""

from __future__ import annotations

from datetime import timedelta

from labvault.catalog.scrub_log import Record, record, records
from labvault.catalog.store import now, open_catalog


def test_records_upsert_per_scope_and_item(catalog_url: str) -> None:
    cat = open_catalog(catalog_url)
    t0 = now().replace(microsecond=0)
    first = [Record(f"{i:032x}", i, t0, True, None, None) for i in range(700)]  # more than one batch
    record(cat, "remote:/srv/a", first)
    record(cat, "tier:cold", [Record("/mnt/x", 5, t0, False, "missing", "gone")])
    later = t0 + timedelta(days=1)
    record(cat, "remote:/srv/a", [Record(f"{3:032x}", 3, later, False, "corrupt", "bytes hash to ...")])
    got = records(cat, "remote:/srv/a")
    assert len(got) == 700
    assert got[f"{3:032x}"] == Record(f"{3:032x}", 3, later, False, "corrupt", "bytes hash to ...")
    assert got[f"{4:032x}"] == Record(f"{4:032x}", 4, t0, True, None, None)
    assert records(cat, "tier:cold") == {"/mnt/x": Record("/mnt/x", 5, t0, False, "missing", "gone")}
    assert records(cat, "tier:other") == {}
