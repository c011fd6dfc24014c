"""Where stage commands run: local subprocesses (default) or a Dask distributed cluster whose
workers share the repository's file system. Both return (exit code, last lines of output)."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import subprocess

from labvault.errors import PipelineError

TAIL = 40


class Executor(Protocol):
    name: str

    def run(self, cmd: str, cwd: str, env: dict[str, str]) -> tuple[int, str]: ...

    def cancel(self) -> None: ...

    def close(self) -> None: ...


def run_shell(cmd: str, cwd: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run ``cmd`` in a shell (a function Dask workers can run too)."""
    import subprocess

    proc = subprocess.run(cmd, shell=True, cwd=cwd, env=env, capture_output=True, text=True, errors="replace")
    tail = (proc.stdout + proc.stderr).splitlines()[-TAIL:]
    return proc.returncode, "\n".join(tail)


class LocalExecutor:
    name = "local"

    def __init__(self, stream: bool = True) -> None:
        self.stream = stream
        self._procs: set[subprocess.Popen[bytes]] = set()  # subprocess: imported when a stage runs
        self._lock = threading.Lock()
        self._cancelled = False

    def run(self, cmd: str, cwd: str, env: dict[str, str]) -> tuple[int, str]:
        import subprocess

        # A stage's own output goes to stderr: labvault's stdout carries only its results (--json).
        out_to: int | None = 2 if self.stream else subprocess.PIPE
        err_to: int | None = None if self.stream else subprocess.PIPE
        # The check, the start and the registration are one step under the lock, so that a cancel()
        # (Ctrl-C in the main thread) either comes first and nothing starts, or waits until the
        # command is registered and then stops it. Registered after the start, a command begun
        # while cancel() ran was never stopped, and the run waited for it to finish on its own.
        with self._lock:
            if self._cancelled:
                return 130, "cancelled"
            proc = subprocess.Popen(
                cmd, shell=True, cwd=cwd, env=env, start_new_session=True, stdout=out_to, stderr=err_to
            )
            self._procs.add(proc)
        try:
            data, err = proc.communicate()
        finally:
            with self._lock:
                self._procs.discard(proc)
        text = ""
        if data or err:
            text = ((data or b"") + (err or b"")).decode(errors="replace")
        return proc.returncode, "\n".join(text.splitlines()[-TAIL:])

    def cancel(self) -> None:
        """Stop every running command (its whole process group); no command starts afterwards."""
        with self._lock:
            self._cancelled = True
            procs = list(self._procs)
        import signal

        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def close(self) -> None:
        return None


class DaskExecutor:
    name = "dask"

    def __init__(self, scheduler: str | None, client: Any = None) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise PipelineError(
                "the dask executor needs dask.distributed", "install it with `pip install 'labvault[dask]'`"
            ) from None
        if client is not None:
            self.client = client
            self._own = False
        else:
            if not scheduler:
                raise PipelineError("--executor dask needs --scheduler ADDRESS", "e.g. --scheduler tcp://head:8786")
            try:
                self.client = Client(scheduler, timeout=10)  # type: ignore[no-untyped-call]
            except (OSError, TimeoutError) as exc:
                raise PipelineError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
            self._own = True
        self._futures: set[Any] = set()
        self._lock = threading.Lock()

    def run(self, cmd: str, cwd: str, env: dict[str, str]) -> tuple[int, str]:
        fut = self.client.submit(run_shell, cmd, cwd, env, pure=False)
        with self._lock:
            self._futures.add(fut)
        try:
            code, tail = fut.result()
        finally:
            with self._lock:
                self._futures.discard(fut)
        return int(code), str(tail)

    def cancel(self) -> None:
        with self._lock:
            futs = list(self._futures)
        for f in futs:
            f.cancel()

    def close(self) -> None:
        if self._own:
            self.client.close()
