"""Forwarding links after repeated moves point straight at the newest place (never a chain), and
datasets go to a cold disk's archive/ area (the guide's hdd0 has archive/, no datasets/)."""

from __future__ import annotations

import os
from pathlib import Path

from labvault import api
from tests.tiers.test_move import _dataset, _leftovers, manifest


def test_moved_again_the_old_paths_point_at_the_newest_place(lab_root: Path, lab_env: Path,
                                                             catalog_url: str) -> None:
    unit = _dataset(lab_root, nfiles=6, big=1000)
    before = manifest(unit)
    api.lab_scan(catalog_url=catalog_url)
    warm = lab_root / "ssd0/datasets/imagenet_v2_train"
    cold = lab_root / "hdd0/archive/imagenet_v2_train"
    api.demote("imagenet@v2", to="warm", catalog_url=catalog_url)
    assert os.readlink(unit) == str(warm)
    [o] = api.demote("imagenet@v2", to="cold", catalog_url=catalog_url).outcomes
    assert o.dst_location == str(cold) and manifest(cold) == before
    assert os.readlink(unit) == str(cold) and os.readlink(warm) == str(cold)  # one hop each
    assert not (lab_root / "hdd0/datasets").exists()
    [u] = api.where(str(unit), catalog_url=catalog_url).units
    assert [(p.tier, p.location) for p in u.placements] == [("cold", str(cold))]

    [back] = api.promote("imagenet@v2", to="warm", catalog_url=catalog_url).outcomes  # archive/ -> datasets/
    assert back.dst_location == str(warm) and manifest(warm) == before and not os.path.islink(warm)
    assert os.readlink(unit) == str(warm) and os.readlink(cold) == str(warm)
    api.promote("imagenet@v2", to="hot", catalog_url=catalog_url)
    assert not os.path.islink(unit) and manifest(unit) == before
    assert os.readlink(warm) == str(unit) and os.readlink(cold) == str(unit)
    assert _leftovers(lab_root) == []
