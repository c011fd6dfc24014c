"""Running the ``restic`` program for the restic engine: its environment, its JSON lines, its errors.

The repository is restic's own syntax (a folder, ``s3:https://host/bucket/prefix``, ``sftp:...``),
given in the lab config as ``restic:<repository>``. The password reaches restic only through the
environment (``RESTIC_PASSWORD_FILE`` or ``RESTIC_PASSWORD_COMMAND`` from the policy); any
``RESTIC_PASSWORD*`` or ``RESTIC_REPOSITORY*`` inherited from the caller is removed so that the
policy alone decides. Nothing of the environment is ever logged or put in argv.

restic 0.14 exits 1 for every fatal error, so its error is told by the ``Fatal:`` line: a wrong
password, a missing repository, a lock held by another restic (wait and retry: ``restic unlock``, which removes only stale locks,
i.e. of dead processes on this host or older than 30 min, then the command again, every few seconds
up to ``LABVAULT_LOCK_TIMEOUT`` seconds, then exit 5), anything else. Each
becomes one line (``labvault.errors``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from labvault.errors import ConfigError, LockTimeoutError, MissingBackendError, RemoteError

PREFIX = "restic:"
LOCK_WORDS = ("unable to create lock", "repository is already locked")
RETRY_SECONDS = 2.0


def lock_timeout() -> float:
    return float(os.environ.get("LABVAULT_LOCK_TIMEOUT", "600"))


@dataclass(frozen=True)
class Output:
    returncode: int
    stdout: str
    stderr: str

    def json_lines(self) -> list[dict[str, Any]]:
        out = []
        for line in self.stdout.splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    d = json.loads(line)
                except ValueError:
                    continue
                if isinstance(d, dict):
                    out.append(d)
        return out


class NoRepository(RemoteError):
    """The repository does not exist (yet)."""


def fatal_line(stderr: str) -> str:
    """restic's own reason, one line: its ``Fatal:`` line, else its last non-empty line."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for ln in lines:
        if ln.startswith("Fatal:"):
            return ln[len("Fatal:"):].strip()
    return lines[-1] if lines else "restic failed without saying why"


class Restic:
    """One restic repository and how to open it."""

    def __init__(self, repository: str, password_file: str | None, password_command: str | None,
                 policy: str = "") -> None:
        if not repository:
            raise ConfigError(f"backup policy {policy!r}: `restic:` names no repository",
                              "write restic:/path/to/repo or restic:s3:https://host/bucket/prefix")
        if not password_file and not password_command:
            raise ConfigError(f"backup policy {policy!r} has no restic password",
                              "add `password_file: /path` or `password_command: CMD` to the policy")
        self.repository = repository
        self.password_file = password_file
        self.password_command = password_command
        self.exe = shutil.which("restic")

    def describe(self) -> str:
        return PREFIX + self.repository

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("RESTIC_PASSWORD", "RESTIC_REPOSITORY"))}
        env["RESTIC_REPOSITORY"] = self.repository
        if self.password_file:
            env["RESTIC_PASSWORD_FILE"] = os.path.expanduser(self.password_file)
        else:
            assert self.password_command
            env["RESTIC_PASSWORD_COMMAND"] = self.password_command
        env.setdefault("RESTIC_PROGRESS_FPS", "2")
        return env

    def _exe(self) -> str:
        if self.exe is None:
            raise MissingBackendError("the restic engine needs the `restic` program, which is not installed",
                                      "install it (Debian: apt-get install restic)")
        return self.exe

    def _once(self, args: Sequence[str], stdin: bytes | None, on_json: Callable[[dict[str, Any]], None] | None,
              cwd: str | None) -> Output:
        cmd = [self._exe(), *args]
        if on_json is None:
            p = subprocess.run(cmd, input=stdin, capture_output=True, env=self.env(), cwd=cwd,
                               stdin=None if stdin is not None else subprocess.DEVNULL, check=False)
            return Output(p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"))
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=self.env(), cwd=cwd)
        assert proc.stdout is not None and proc.stderr is not None
        lines: list[str] = []
        try:
            for raw in proc.stdout:
                line = raw.decode("utf-8", "replace")
                lines.append(line)
                if line.startswith("{"):
                    try:
                        d = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(d, dict):
                        on_json(d)
            err = proc.stderr.read().decode("utf-8", "replace")
            proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        return Output(proc.returncode, "".join(lines), err)

    def call(self, args: Sequence[str], what: str, stdin: bytes | None = None,
             on_json: Callable[[dict[str, Any]], None] | None = None, cwd: str | None = None,
             ok_codes: tuple[int, ...] = (0,)) -> Output:
        """Run ``restic ARGS``; waits out other restic processes' locks; raises one line on failure."""
        deadline = time.monotonic() + lock_timeout()
        tries = 0
        while True:
            out = self._once(args, stdin, on_json, cwd)
            if out.returncode == 0:
                return out
            reason = fatal_line(out.stderr)
            if not any(w in out.stderr for w in LOCK_WORDS):
                err = self.error(reason, what)
                if out.returncode in ok_codes and not err.hint:  # the command's own "found problems"
                    return out
                raise err
            if tries and time.monotonic() >= deadline:
                raise LockTimeoutError(f"the restic repository {self.repository} stayed locked while {what} "
                                       f"({reason[:160]})",
                                       "wait for the other restic to finish, or raise LABVAULT_LOCK_TIMEOUT")
            if tries:
                time.sleep(min(RETRY_SECONDS, max(0.0, deadline - time.monotonic())))
            # stale locks only (owner dead on this host, or > 30 min old). Asked again on every try: a
            # killed owner counts as alive until its parent (often init, which reaps when it gets to it)
            # has reaped it, and an owner may also die while we wait.
            self._once(["unlock"], None, None, None)
            tries += 1

    def error(self, reason: str, what: str) -> RemoteError:
        if "wrong password" in reason:
            return RemoteError(f"restic refused the password for {self.repository} while {what}",
                               "check the policy's password_file or password_command")
        if "unable to open config file" in reason or "Is there a repository" in reason:
            return NoRepository(f"there is no restic repository at {self.repository}",
                                "make one with `labvault backup run`, or fix the policy's target")
        return RemoteError(f"restic failed while {what}: {reason[:300]}")

    def ensure_repository(self) -> bool:
        """Create the repository if there is none; True when it was created."""
        try:
            self.call(["cat", "config"], "opening the repository")
            return False
        except NoRepository:
            pass
        self.call(["init"], "creating the repository")
        return True
