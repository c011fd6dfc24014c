"""H5Dataset: reads equal h5py's, batched reads in order, DataLoader under fork and spawn, bad input."""

from __future__ import annotations

import os
import pickle
import pickletools
from pathlib import Path

import h5py
import numpy as np
import pytest

from labvault.errors import LabvaultError, LoaderError, PathError
from labvault.loaders import BlockShuffleSampler, H5Dataset
from tests.loaders.conftest import CHUNK_ROWS, N_SAMPLES
from tests.loaders.helpers import double, need_torch


def _truth(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with h5py.File(path, "r") as f:
        return f["images"][:], f["labels"][:]


def test_items_match_h5py(h5_file: Path) -> None:
    images, labels = _truth(h5_file)
    ds = H5Dataset(h5_file, "images", labels_key="labels")
    assert len(ds) == N_SAMPLES and ds.chunk_rows == CHUNK_ROWS and ds.sample_shape == (4, 5)
    for i in (0, 1, 17, N_SAMPLES - 1, -1):
        x, y = ds[i]
        np.testing.assert_array_equal(x, images[i])
        assert y == labels[i]
    with pytest.raises(IndexError):
        ds[N_SAMPLES]


@pytest.mark.parametrize("indices", [[5, 3, 3, 299, 0], list(range(40, 72)), [250, 10], [], [-1, 0]])
def test_getitems_keeps_order_and_duplicates(h5_file: Path, indices: list[int]) -> None:
    images, labels = _truth(h5_file)
    ds = H5Dataset(h5_file, "images", labels_key="labels", transform=double)
    got = ds.__getitems__(indices)
    assert len(got) == len(indices)
    for i, (x, y) in zip(indices, got, strict=True):
        np.testing.assert_array_equal(x, images[i] * 2)
        assert y == labels[i]


def _pickled_modules(blob: bytes) -> set[str]:
    """Modules of the classes and functions a pickle refers to (its STACK_GLOBAL operands)."""
    strings: list[str] = []
    modules: set[str] = set()
    for op, arg, _ in pickletools.genops(blob):
        if isinstance(arg, str):
            strings.append(arg)
        if op.name == "STACK_GLOBAL":
            modules.add(strings[-2])
        elif op.name == "GLOBAL":
            modules.add(str(arg).split(" ")[0])
    return modules


def test_pickle_carries_no_h5py_object(h5_file: Path) -> None:
    ds = H5Dataset(h5_file, "images", labels_key="labels")
    ds[3]  # opens the handle in this process
    assert ds._file is not None
    blob = pickle.dumps(ds)
    assert not [m for m in _pickled_modules(blob) if m.split(".")[0] == "h5py"]
    assert "labvault.loaders.hdf5" in _pickled_modules(blob)
    copy = pickle.loads(blob)
    assert copy._file is None and copy._data is None
    np.testing.assert_array_equal(copy[3][0], ds[3][0])


def test_forked_child_opens_its_own_handle(h5_file: Path) -> None:
    ds = H5Dataset(h5_file, "images")
    parent_file = (ds[0], ds._file)[1]
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: must not reuse the parent's handle
        try:
            ds[1]
            ok = ds._file is not parent_file and ds._pid == os.getpid()
            os.write(w, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(w)
    answer = os.read(r, 1)
    os.waitpid(pid, 0)
    assert answer == b"1"
    assert ds._file is parent_file  # the parent's handle is untouched


def _loader_samples(ds: H5Dataset, num_workers: int, context: str | None, sampler: object = None) -> list:
    torch = need_torch()
    from torch.utils.data import DataLoader

    loader = DataLoader(ds, batch_size=8, num_workers=num_workers, sampler=sampler,
                        multiprocessing_context=context if num_workers else None)
    out = []
    for x, y in loader:
        assert isinstance(x, torch.Tensor)
        out.extend(zip(x.numpy(), y.numpy(), strict=True))
    return out


@pytest.mark.parametrize(("num_workers", "context"),
                         [(0, None), (1, "fork"), (2, "fork"), (1, "spawn"), (2, "spawn")])
def test_dataloader_matches_single_process(h5_file: Path, num_workers: int, context: str | None) -> None:
    images, labels = _truth(h5_file)
    ds = H5Dataset(h5_file, "images", labels_key="labels", transform=double)
    ds[0]  # a handle open in the parent before the workers start must not leak into them
    sampler = BlockShuffleSampler(ds, seed=3)
    got = _loader_samples(ds, num_workers, context, sampler)
    order = list(sampler)
    assert len(got) == N_SAMPLES
    for i, (x, y) in zip(order, got, strict=True):
        np.testing.assert_array_equal(x, images[i] * 2)
        assert y == labels[i]


def test_missing_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PathError) as err:
        H5Dataset(tmp_path / "nope.h5", "images")
    assert "nope.h5" in err.value.line() and "\n" not in err.value.line()


def test_missing_key_names_the_keys_there(h5_file: Path) -> None:
    with pytest.raises(LoaderError) as err:
        H5Dataset(h5_file, "imgs")
    line = err.value.line()
    assert "'imgs'" in line and "images" in line and "\n" not in line
    assert err.value.exit_code == 2


@pytest.mark.parametrize(("key", "labels_key"), [("group", None), ("images", "group/short")])
def test_group_or_mismatched_labels_refused(h5_file: Path, key: str, labels_key: str | None) -> None:
    with pytest.raises(LoaderError):
        H5Dataset(h5_file, key, labels_key=labels_key)


def test_not_hdf5_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"not hdf5 at all")
    with pytest.raises(LabvaultError) as err:
        H5Dataset(bad, "images")
    assert "bad.h5" in err.value.line()


def test_ranks_times_workers_times_epochs_every_sample_once(h5_file: Path) -> None:
    """Two ranks, two fork workers each, two epochs: every sample exactly once per epoch."""
    _, labels = _truth(h5_file)
    ds = H5Dataset(h5_file, "images", labels_key="labels")
    samplers = [BlockShuffleSampler(ds, seed=5, rank=r, world_size=2) for r in range(2)]
    orders = []
    for epoch in range(2):
        seen: list[int] = []
        for s in samplers:
            s.set_epoch(epoch)
            seen.extend(int(y) for _, y in _loader_samples(ds, 2, "fork", s))
        assert sorted(seen) == sorted(labels.tolist())
        orders.append(seen)
    assert orders[0] != orders[1]  # a new order each epoch
