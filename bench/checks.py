"""Every timed command's output is checked before its time is kept: a wrong answer is not a figure.

The expected values are computed here, independently of both tools, from the generated workload:
the md5 of every file (plain ``hashlib``) and the DVC 3 folder oid (md5 of the sorted JSON
manifest). A check that fails raises :class:`OutputWrong`; the benchmark scripts let it stop the
run with a non-zero exit (they do not record the measurement, nor carry on).

Fault injection, to prove that the checks bite: with ``BENCH_FAULT=corrupt-restored`` in the
environment, one byte of one restored file is flipped right after every timed checkout / pull,
before the check; the run must then fail. ``BENCH_FAULT=ignore-change`` makes the benchmark check
a status-after-a-change against the "clean" expectation (the run must fail too).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import yaml

FAULT = os.environ.get("BENCH_FAULT", "")
CLEAN_TEXT = "Data and pipelines are up to date"  # same words in labvault and dvc


class OutputWrong(RuntimeError):
    """A timed command exited 0 but did not do what it was timed for."""


def file_md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb", buffering=0) as f:
        while chunk := f.read(16 << 20):
            h.update(chunk)
    return h.hexdigest()


def manifest(root: Path) -> dict[str, str]:
    """relative path -> md5 of every file below ``root`` (links followed, as a checkout writes)."""
    out: dict[str, str] = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            out[p.relative_to(root).as_posix()] = file_md5(p)
    return out


def tree_oid(entries: dict[str, str]) -> str:
    """DVC 3's oid of a folder: md5 of its manifest, JSON of the entries sorted by path."""
    items = [{"md5": entries[rel], "relpath": rel} for rel in sorted(entries)]
    return hashlib.md5(json.dumps(items, sort_keys=True).encode()).hexdigest() + ".dir"


def expected_content(pristine: Path) -> dict[str, str]:
    """The workload's manifest ({"": md5} for a single file), computed once and kept beside it."""
    stamp = pristine.parent / f"{pristine.name}.manifest.json"
    if stamp.exists() and stamp.stat().st_mtime >= pristine.stat().st_mtime:
        return dict(json.loads(stamp.read_text()))
    got = {"": file_md5(pristine)} if pristine.is_file() else manifest(pristine)
    stamp.write_text(json.dumps(got))
    return got


def oid_of(content: dict[str, str]) -> str:
    return content[""] if set(content) == {""} else tree_oid(content)


def pointer_oid(pointer: Path) -> str:
    """The oid a ``.dvc`` pointer names for its single output."""
    try:
        data = yaml.safe_load(pointer.read_text())
        return str(data["outs"][0]["md5"])
    except (OSError, yaml.YAMLError, KeyError, IndexError, TypeError) as exc:
        raise OutputWrong(f"{pointer}: no readable output oid ({exc})") from None


def check_pointer(pointer: Path, expect: str, who: str) -> None:
    got = pointer_oid(pointer)
    if got != expect:
        raise OutputWrong(f"{who}: {pointer.name} names {got}, expected {expect}")


def _inject_restore_fault(root: Path) -> None:
    victim = root if root.is_file() else min(p for p in root.rglob("*") if p.is_file())
    os.chmod(victim, 0o644)
    with open(victim, "r+b") as f:
        first = f.read(1)
        f.seek(0)
        f.write(bytes([first[0] ^ 0xFF]) if first else b"x")


def check_restored(root: Path, expect: dict[str, str], who: str) -> None:
    """Every byte restored at ``root`` equals the source's (full md5 of every file)."""
    if FAULT == "corrupt-restored" and root.exists():
        _inject_restore_fault(root)
    if not root.exists():
        raise OutputWrong(f"{who}: {root} was not restored")
    got = {"": file_md5(root)} if root.is_file() else manifest(root)
    if got != expect:
        wrong = sorted(k for k in set(got) | set(expect) if got.get(k) != expect.get(k))
        raise OutputWrong(f"{who}: restored data differs from the source in {len(wrong)} file(s), e.g. {wrong[:3]}")


def check_clean(output: str, who: str) -> None:
    if CLEAN_TEXT not in output:
        raise OutputWrong(f"{who}: expected a clean status, got: {output.strip()[-300:]!r}")


def check_reports_change(output: str, path: str, who: str) -> None:
    """A status after a change must name the changed output as modified (not "up to date")."""
    if FAULT == "ignore-change":
        check_clean(output, who)
        return
    if CLEAN_TEXT in output or path not in output or "modified" not in output:
        raise OutputWrong(f"{who}: expected {path} reported modified, got: {output.strip()[-300:]!r}")


def count_files(root: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(root)) if root.exists() else 0


def check_count(got: int, expect: int, who: str) -> None:
    if got != expect:
        raise OutputWrong(f"{who}: {got:,} files, expected {expect:,}")


def check_md5sum_lines(text: str, expect: dict[str, str], who: str) -> None:
    """``md5sum`` output (``<md5>  ./<rel>`` lines) against the expected manifest."""
    got = {}
    for line in text.splitlines():
        digest, _, name = line.partition("  ")
        if len(digest) == 32:
            got[name.removeprefix("./").lstrip("/")] = digest
    if got != expect:
        raise OutputWrong(f"{who}: {len(got):,} digests printed, {sum(got.get(k) == v for k, v in expect.items()):,} of {len(expect):,} right")


def run_checked(main: Callable[[list[str] | None], int], argv: list[str] | None) -> int:
    """Run a benchmark's ``main``; a wrong output ends it with exit 1 and nothing recorded for it."""
    try:
        return main(argv)
    except OutputWrong as exc:
        print(f"\nFAILED: wrong output, nothing recorded for it: {exc}", file=sys.stderr)
        return 1
