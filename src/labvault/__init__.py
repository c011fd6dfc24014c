"""labvault: data management for AI labs.

Versioned datasets and models in DVC's on-disk formats, built for speed and for never losing data.

The public Python API lives in :mod:`labvault.api`; every command-line command is a thin layer over
one function there. Reading any version of a tracked file has shortcuts here, as in ``dvc.api``::

    import labvault

    with labvault.open("data/train.csv", repo="https://github.com/lab/project", rev="v2", mode="r") as f:
        print(f.readline())
    data = labvault.read("models/model.pt", rev="HEAD~1")
    url = labvault.get_url("data/train.csv")

They load on first use: ``import labvault`` stays cheap.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "get_url", "open", "read"]

_READ = ("open", "read", "get_url")


def __getattr__(name: str) -> Any:
    if name in _READ:
        import importlib

        value = getattr(importlib.import_module("labvault.api.read"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'labvault' has no attribute {name!r}")
