"""The step runner of the guided tour: runs commands like a shell session and checks results.

Each part of the tour lives in its own module (``demo/tour_*.py``) as a list ``STEPS`` of
functions ``step(tour: Tour) -> None``; ``demo/tour.py`` runs them in order.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# --------------------------------------------------------------------------------------------
# The step runner
# --------------------------------------------------------------------------------------------

MAX_SHOWN_LINES = 20


class TourFailure(Exception):
    """A command failed or a check did not hold; the tour stops here."""


@dataclass
class SectionTiming:
    title: str
    seconds: float
    commands: int


@dataclass
class Tour:
    """Runs commands in the demo workspace, prints them like a shell session, and checks results."""

    root: Path
    exe: Path
    env: dict[str, str]
    state: dict[str, Any] = field(default_factory=dict)
    timings: list[SectionTiming] = field(default_factory=list)
    checks: int = 0
    _commands_in_section: int = 0

    # -- presentation ---------------------------------------------------------------------

    @contextmanager
    def section(self, title: str) -> Iterator[None]:
        """A titled, timed group of commands and checks."""
        number = len(self.timings) + 1
        print()
        print(f"== {number}. {title} " + "=" * max(0, 74 - len(title)))
        self._commands_in_section = 0
        start = time.perf_counter()
        try:
            yield
        finally:
            seconds = time.perf_counter() - start
            self.timings.append(SectionTiming(title, seconds, self._commands_in_section))
        print(f"   -- step took {seconds:.2f} s")

    def say(self, text: str) -> None:
        """A line of narration."""
        print(f"# {text}")

    def found(self, text: str) -> None:
        """What a step found out, after its checks passed."""
        print(f"=> {text}")

    def check(self, condition: bool, message: str) -> None:
        """Stop the tour unless ``condition`` holds."""
        self.checks += 1
        if not condition:
            raise TourFailure(f"check failed: {message}")

    # -- running commands -----------------------------------------------------------------

    def run(
        self,
        argv: list[str],
        *,
        expect: int | None = 0,
        show_output: bool = True,
        display: str | None = None,
        render: Callable[[str], str] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` in the workspace; print it and its output; fail on an unexpected exit code.

        ``expect=None`` accepts any exit code. ``display`` overrides how the command is printed;
        ``render`` turns the standard output into what is shown.
        """
        shown = display if display is not None else shlex.join(argv)
        if cwd is not None:
            shown = f"(cd {cwd.name} && {shown})"
        print(f"$ {shown}")
        self._commands_in_section += 1
        start = time.perf_counter()
        try:
            proc = subprocess.run(
                argv,
                cwd=cwd or self.root,
                env=self.env,
                capture_output=True,
                text=True,
                check=False,
            )
        except OSError as exc:
            raise TourFailure(f"could not run {shown}: {exc}") from exc
        seconds = time.perf_counter() - start
        if show_output or (expect is not None and proc.returncode != expect):
            print_block(render(proc.stdout) if render else proc.stdout)
            print_block(proc.stderr)
        status = f"exit {proc.returncode}, " if proc.returncode != 0 else ""
        print(f"   ({status}{seconds:.2f} s)")
        if expect is not None and proc.returncode != expect:
            raise TourFailure(f"`{shown}` exited with {proc.returncode}, expected {expect}")
        return proc

    def labvault(
        self,
        *args: str,
        expect: int | None = 0,
        show_output: bool = True,
        render: Callable[[str], str] | None = None,
        cwd: Path | None = None,
    ) -> str:
        """Run ``labvault ARGS`` and return its standard output."""
        proc = self.run(
            [str(self.exe), *args],
            expect=expect,
            show_output=show_output,
            display=shlex.join(["labvault", *args]),
            render=render,
            cwd=cwd,
        )
        return proc.stdout

    def labvault_json(self, *args: str, cwd: Path | None = None, expect: int | None = 0) -> Any:
        """Run ``labvault ARGS --json`` and return the parsed document (output shown abridged)."""
        return parse_json(
            self.labvault(*args, "--json", render=compact_json, cwd=cwd, expect=expect),
            f"labvault {' '.join(args)}",
        )

    def dvc(self, *args: str, render: Callable[[str], str] | None = None) -> str:
        """Run the real ``dvc`` (see ``find_dvc``) and return its standard output."""
        dvc = self.state["dvc"]
        proc = self.run([str(dvc), *args], display=shlex.join(["dvc", *args]), render=render)
        return proc.stdout

    def git(self, *args: str, show_output: bool = True) -> str:
        proc = self.run(["git", *args], show_output=show_output)
        return proc.stdout

    # -- looking at the workspace ---------------------------------------------------------

    def path(self, relpath: str) -> Path:
        return self.root / relpath

    def snapshot(self, *relpaths: str) -> dict[str, str]:
        """MD5 of every file under the given paths, keyed by path relative to the workspace."""
        digests: dict[str, str] = {}
        for rel in relpaths:
            top = self.root / rel
            files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
            for f in files:
                digests[f.relative_to(self.root).as_posix()] = md5_file(f)
        return digests

    def cache_objects(self) -> set[str]:
        """Object ids in the local cache (DVC 3.x layout: .dvc/cache/files/md5/ab/cdef...)."""
        base = self.root / ".dvc" / "cache" / "files" / "md5"
        if not base.is_dir():
            return set()
        return {
            p.parent.name + p.name
            for p in base.glob("??/*")
            if p.is_file() and not p.name.endswith((".tmp", ".lock"))
        }

    def cache_path(self, oid: str) -> Path:
        return self.root / ".dvc" / "cache" / "files" / "md5" / oid[:2] / oid[2:]


def print_block(text: str) -> None:
    lines = text.rstrip("\n").splitlines()
    if not lines:
        return
    for line in lines[:MAX_SHOWN_LINES]:
        print(f"  {line}")
    if len(lines) > MAX_SHOWN_LINES:
        print(f"  ... ({len(lines) - MAX_SHOWN_LINES} more lines)")


def _abridge(text: str, limit: int = 220) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + f" ... ({len(text)} characters)"


def compact_json(text: str) -> str:
    """JSON output on one line, abridged (shown as is when it does not parse)."""
    try:
        text = json.dumps(json.loads(text))
    except json.JSONDecodeError:
        pass
    return _abridge(text)


def head(lines: int) -> Callable[[str], str]:
    """A renderer that keeps the first ``lines`` lines of an output."""

    def render(text: str) -> str:
        all_lines = text.rstrip("\n").splitlines()
        if len(all_lines) <= lines:
            return text
        return "\n".join([*all_lines[:lines], f"... ({len(all_lines) - lines} more lines)"])

    return render


def parse_json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise TourFailure(f"`{what} --json` printed invalid JSON: {exc}") from exc


def md5_file(path: Path) -> str:
    h = hashlib.md5()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def compare(expected: dict[str, str], actual: dict[str, str]) -> list[str]:
    """Human-readable differences between two snapshots (empty when they are identical)."""
    problems = [f"missing {p}" for p in sorted(expected.keys() - actual.keys())]
    problems += [f"unexpected {p}" for p in sorted(actual.keys() - expected.keys())]
    problems += [
        f"different {p}"
        for p in sorted(expected.keys() & actual.keys())
        if expected[p] != actual[p]
    ]
    return problems


def pointer_oids(text: str) -> list[str]:
    """The md5 object ids named in a .dvc file (a tiny reader, enough for the tour's checks)."""
    return re.findall(r"md5:\s*['\"]?([0-9a-f]{32}(?:\.dir)?)", text)
