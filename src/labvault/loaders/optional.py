"""The optional packages of the loaders, imported when first needed, with one clear error."""

from __future__ import annotations

import importlib
from typing import Any

from labvault.errors import MissingBackendError

_PACKAGES = {"h5py": "h5py", "pyarrow": "pyarrow", "pyarrow.dataset": "pyarrow",
             "pyarrow.compute": "pyarrow", "pyarrow.parquet": "pyarrow", "PIL.Image": "pillow"}


def require(module: str) -> Any:
    """Import ``module`` or raise MissingBackendError naming the package to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        package = _PACKAGES.get(module, module)
        raise MissingBackendError(
            f"{module} is not installed, and this loader needs it",
            f"pip install 'labvault[loaders]' (or pip install {package})") from None


def worker_info() -> tuple[int, int]:
    """``(worker id, number of workers)`` inside a torch DataLoader worker, else ``(0, 1)``.

    torch is only consulted when it is already imported: a process that never imported torch is
    not a DataLoader worker.
    """
    import sys

    torch_data = sys.modules.get("torch.utils.data")
    if torch_data is None:
        return 0, 1
    info = torch_data.get_worker_info()
    if info is None:
        return 0, 1
    return int(info.id), int(info.num_workers)


_registered: set[type] = set()


def register_iterable_dataset(cls: type) -> None:
    """Make ``isinstance(x, torch.utils.data.IterableDataset)`` true for ``cls``, when torch is installed.

    DataLoader treats a dataset as iterable only if it is an IterableDataset. That class is an ABC,
    so registering keeps torch out of the class's bases (and out of ``import labvault.loaders``);
    torch is imported here, at the first construction, only when it is installed.
    """
    import importlib.util
    import sys

    if cls in _registered:
        return
    if "torch.utils.data" not in sys.modules and importlib.util.find_spec("torch") is None:
        return
    torch_data = importlib.import_module("torch.utils.data")
    torch_data.IterableDataset.register(cls)
    _registered.add(cls)
