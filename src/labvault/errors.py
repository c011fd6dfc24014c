"""The exception tree of labvault. Every error says what happened and what to do about it.

::

    LabvaultError                      exit 1 unless stated
    ├── UsageError                     exit 2   bad arguments
    ├── NotARepoError                  exit 2   no .dvc/ found
    ├── ConfigError                    exit 2   bad or unknown configuration key / value
    ├── PathError                      exit 2   missing path, outside the repo, inside .dvc/,
    │                                           an output behind a symlink leaving the repo
    ├── OverlapError                   exit 2   an output inside a tracked directory, or the reverse
    ├── PointerError                   exit 2   a malformed .dvc file, or one naming .git/.dvc
    │                                           or a control file
    ├── ManifestError                  exit 3   a malformed or unsafe .dir manifest
    ├── CacheError                     exit 3   a missing or corrupt cache object
    │   └── CorruptObjectError         exit 3
    ├── WorkspaceConflictError         exit 4   checkout would overwrite uncommitted data
    │   └── ProtectedDataError         exit 4   add/commit would record new content of protected data
    ├── LockTimeoutError               exit 5   another process held the repo lock for too long
    ├── StorageError                   exit 6   permission denied, disk full, other OS failures
    ├── ScmError                       exit 7   git failed or a revision is unknown
    ├── RemoteError                    exit 8   a remote or url is unreachable after the retries,
    │   │                                       refuses the credentials, lacks its bucket/container
    │   │                                       or folder (push, pull, fetch, status -c, cp, ls)
    │   └── MissingBackendError        exit 8   the package for a storage kind is not installed
    ├── PipelineError                  exit 2   a bad dvc.yaml / params file (points at file, stage, key)
    │   └── StageFailedError           exit 1   a stage's command failed
    ├── CatalogError                   exit 2   unknown entity, malformed filter, duplicate version,
    │                                           unreachable catalog database
    ├── LoaderError                    exit 2   a dataset file a loader cannot read as asked (missing
    │                                           HDF5 key, sidecar that does not match its file)
    └── RestorePendingError            exit 10  a unit's objects are in an archive class (S3 GLACIER,
                                                DEEP_ARCHIVE): restore requested or still in progress

The command line maps each error to its exit code (``exit_code``) and prints ``error: <line()>``;
Ctrl-C exits 130. docs/design.md and docs/cli-contract.md hold the same table.
"""

from __future__ import annotations


class LabvaultError(Exception):
    """Root of every error labvault raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(self.line())

    def line(self) -> str:
        """The one line shown to a user: what happened, and how to fix it."""
        if self.hint:
            return f"{self.message}: {self.hint}"
        return self.message


class UsageError(LabvaultError):
    exit_code = 2


class NotARepoError(LabvaultError):
    exit_code = 2


class ConfigError(LabvaultError):
    exit_code = 2


class PathError(LabvaultError):
    exit_code = 2


class OverlapError(LabvaultError):
    exit_code = 2


class PointerError(LabvaultError):
    exit_code = 2


class ManifestError(LabvaultError):
    exit_code = 3


class CacheError(LabvaultError):
    exit_code = 3


class CorruptObjectError(CacheError):
    exit_code = 3


class WorkspaceConflictError(LabvaultError):
    exit_code = 4


class ProtectedDataError(WorkspaceConflictError):
    exit_code = 4


class LockTimeoutError(LabvaultError):
    exit_code = 5


class StorageError(LabvaultError):
    exit_code = 6


class ScmError(LabvaultError):
    exit_code = 7


class RemoteError(LabvaultError):
    exit_code = 8


class MissingBackendError(RemoteError):
    exit_code = 8


class PipelineError(LabvaultError):
    exit_code = 2


class StageFailedError(PipelineError):
    exit_code = 1


class CatalogError(LabvaultError):
    exit_code = 2


class NotFound:
    """Mixed into an error raised because a name given names nothing known (a catalog entry or
    version, a user, a token, a lab unit, a stage, a git revision): the dashboard answers 404."""


class UnknownNameError(CatalogError, NotFound):
    """No catalog entry, version, user, token or lab unit by that name."""


class UnknownStageError(PipelineError, NotFound):
    """No stage or output of the pipeline by that name."""


class UnknownRevisionError(ScmError, NotFound):
    """No git revision by that name."""


class LoaderError(LabvaultError):
    exit_code = 2


def from_os_error(exc: OSError, action: str) -> StorageError:
    """Turn an OSError into a StorageError with a hint a person can act on."""
    import errno

    where = exc.filename or ""
    if exc.errno in (errno.EACCES, errno.EPERM):
        return StorageError(
            f"permission denied while {action} {where}".rstrip(),
            "check the file's owner and mode, or run as a user who may write it",
        )
    if exc.errno == errno.ENOSPC:
        return StorageError(
            f"disk full while {action} {where}".rstrip(),
            "free some space (for example `labvault gc`) and run the command again",
        )
    if exc.errno == errno.EDQUOT:
        return StorageError(f"disk quota exceeded while {action} {where}".rstrip(), "free some space")
    if exc.errno == errno.EROFS:
        return StorageError(f"read-only file system while {action} {where}".rstrip(), "remount it read-write")
    return StorageError(f"{exc.strerror or exc} while {action} {where}".rstrip())


class RestorePendingError(LabvaultError):
    """Objects in an archive storage class must be restored before they can be read; the restore
    is requested (or was already in progress)."""

    exit_code = 10
