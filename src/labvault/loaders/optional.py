"""The optional packages of the loaders, imported when first needed, with one clear error."""

from __future__ import annotations

import importlib
from typing import Any

from labvault.errors import MissingBackendError

_PACKAGES = {"h5py": "h5py", "pyarrow": "pyarrow", "pyarrow.dataset": "pyarrow",
             "pyarrow.compute": "pyarrow", "pyarrow.parquet": "pyarrow"}


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
