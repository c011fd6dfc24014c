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
