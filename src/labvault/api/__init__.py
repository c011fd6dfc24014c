"""The public Python API: one function per user-facing operation.

Every function takes ``repo`` (any path inside the repository; the current folder by default) and an
optional ``progress`` reporter, and returns frozen dataclasses. The command line is a thin layer
over these functions::

    from labvault import api

    api.init("/data/project")
    api.add(["data/raw/reviews.csv", "data/images"], repo="/data/project")
    report = api.status(repo="/data/project")
    print(report.clean)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from labvault.api.config import config_get, config_list, config_set, config_unset
    from labvault.api.data import (
        GcResult,
        StatusReport,
        VerifyResult,
        add,
        checkout,
        commit,
        diff,
        gc,
        init,
        list_outputs,
        move,
        remove,
        status,
        unprotect,
        verify,
        version,
    )
    from labvault.api.pipelines import ReproOptions, repro, stage_status
    from labvault.api.remote import (
        Revisions,
        fetch,
        pull,
        push,
        remote_add,
        remote_default,
        remote_list,
        remote_modify,
        remote_remove,
        remote_rename,
        status_cloud,
    )
    from labvault.api.storage import CopyResult, cp, ls

# Submodules load on first use, so that `labvault status` does not import the whole library.
_WHERE = {
    "CopyResult": "labvault.api.storage",
    "GcResult": "labvault.api.data",
    "ReproOptions": "labvault.api.pipelines",
    "Revisions": "labvault.api.remote",
    "StatusReport": "labvault.api.data",
    "VerifyResult": "labvault.api.data",
    "add": "labvault.api.data",
    "checkout": "labvault.api.data",
    "commit": "labvault.api.data",
    "config_get": "labvault.api.config",
    "config_list": "labvault.api.config",
    "config_set": "labvault.api.config",
    "config_unset": "labvault.api.config",
    "cp": "labvault.api.storage",
    "diff": "labvault.api.data",
    "fetch": "labvault.api.remote",
    "gc": "labvault.api.data",
    "init": "labvault.api.data",
    "list_outputs": "labvault.api.data",
    "ls": "labvault.api.storage",
    "move": "labvault.api.data",
    "pull": "labvault.api.remote",
    "push": "labvault.api.remote",
    "remote_add": "labvault.api.remote",
    "remote_default": "labvault.api.remote",
    "remote_list": "labvault.api.remote",
    "remote_modify": "labvault.api.remote",
    "remote_remove": "labvault.api.remote",
    "remote_rename": "labvault.api.remote",
    "remove": "labvault.api.data",
    "repro": "labvault.api.pipelines",
    "stage_status": "labvault.api.pipelines",
    "status": "labvault.api.data",
    "status_cloud": "labvault.api.remote",
    "unprotect": "labvault.api.data",
    "verify": "labvault.api.data",
    "version": "labvault.api.data",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'labvault.api' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "CopyResult",
    "GcResult",
    "ReproOptions",
    "Revisions",
    "StatusReport",
    "VerifyResult",
    "add",
    "checkout",
    "commit",
    "config_get",
    "config_list",
    "config_set",
    "config_unset",
    "cp",
    "diff",
    "fetch",
    "gc",
    "init",
    "list_outputs",
    "ls",
    "move",
    "pull",
    "push",
    "remote_add",
    "remote_default",
    "remote_list",
    "remote_modify",
    "remote_remove",
    "remote_rename",
    "remove",
    "repro",
    "stage_status",
    "status",
    "status_cloud",
    "unprotect",
    "verify",
    "version",
]
