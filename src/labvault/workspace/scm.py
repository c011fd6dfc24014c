"""Git, through its command line: revisions, files at a revision, staging.

Reading many files at one revision uses one ``git cat-file --batch`` process, not one per file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from labvault.errors import ScmError, UnknownRevisionError


class Git:
    def __init__(self, root: Path) -> None:
        self.root = root

    @staticmethod
    def find_root(start: Path) -> Path | None:
        try:
            import subprocess

            out = subprocess.run(
                ["git", "rev-parse", "--show-toplevel"], cwd=start, capture_output=True, text=True, check=False
            )
        except FileNotFoundError:
            return None
        if out.returncode != 0:
            return None
        return Path(out.stdout.strip())

    def _run(self, *args: str, input: bytes | None = None) -> bytes:
        try:
            import subprocess

            proc = subprocess.run(["git", *args], cwd=self.root, capture_output=True, input=input, check=False)
        except FileNotFoundError:
            raise ScmError("git is not installed", "install git, or use a repo made with `labvault init --no-scm`") from None
        if proc.returncode != 0:
            msg = proc.stderr.decode(errors="replace").strip().splitlines()
            raise ScmError(f"git {args[0]} failed: {msg[-1] if msg else proc.returncode}")
        return proc.stdout

    def git_path(self, name: str) -> Path:
        """Where git keeps ``name`` (``hooks``, ...): ``git rev-parse --git-path``, which follows
        ``core.hooksPath``, worktrees and ``.git`` files."""
        raw = self._run("rev-parse", "--git-path", name).decode().strip()
        return Path(raw) if os.path.isabs(raw) else self.root / raw

    def resolve(self, rev: str) -> str:
        try:
            return self._run("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").decode().strip()
        except ScmError:
            raise UnknownRevisionError(f"unknown git revision {rev!r}", "check `git log` / `git tag` for the name") from None

    def status(self, all_untracked: bool = False) -> list[tuple[str, str]]:
        """``git status``: (two-letter code, path relative to the git root) of each change, ``??``
        for untracked files (with ``all_untracked``, each file rather than its folder)."""
        out = self._run("status", "--porcelain", "-z", f"--untracked-files={'all' if all_untracked else 'normal'}")
        fields = out.decode("utf-8", errors="surrogateescape").split("\0")
        found: list[tuple[str, str]] = []
        i = 0
        while i < len(fields):
            entry = fields[i]
            i += 1
            if len(entry) < 4:
                continue
            code, path = entry[:2], entry[3:]
            if "R" in code or "C" in code:
                i += 1  # the old name of a rename or copy follows
            found.append((code, path))
        return found

    def has_commits(self) -> bool:
        try:
            self._run("rev-parse", "--verify", "--quiet", "HEAD")
            return True
        except ScmError:
            return False

    def ls_files_at(self, rev: str, suffixes: tuple[str, ...]) -> list[str]:
        out = self._run("ls-tree", "-r", "-z", "--name-only", "--full-tree", rev)
        names = [n for n in out.decode("utf-8", errors="surrogateescape").split("\0") if n]
        return [n for n in names if n.endswith(suffixes)]

    def tree_at(self, rev: str) -> list[tuple[str, str, str, int]]:
        """(path, mode, type, size) of every entry git holds at ``rev``, folders (``tree``, size -1)
        and submodules (``commit``, size -1) included."""
        out = self._run("ls-tree", "-r", "-t", "-z", "-l", "--full-tree", rev)
        found: list[tuple[str, str, str, int]] = []
        for record in out.split(b"\0"):
            meta, _, path = record.partition(b"\t")
            fields = meta.split()
            if len(fields) == 4:
                size = int(fields[3]) if fields[3].isdigit() else -1
                found.append((path.decode("utf-8", errors="surrogateescape"), fields[0].decode(), fields[1].decode(), size))
        return found

    def read_files_at(self, rev: str, paths: Iterable[str]) -> dict[str, bytes]:
        paths = list(paths)
        if not paths:
            return {}
        query = "".join(f"{rev}:{p}\n" for p in paths).encode("utf-8", errors="surrogateescape")
        out = self._run("cat-file", "--batch", input=query)
        result: dict[str, bytes] = {}
        pos = 0
        for p in paths:
            nl = out.index(b"\n", pos)
            line = out[pos:nl]
            pos = nl + 1
            if line.endswith(b" missing") or line.endswith(b" ambiguous"):
                continue
            size = int(line.split()[2])
            result[p] = out[pos : pos + size]
            pos += size + 1
        return result

    def refs(self, tags: bool, branches: bool) -> list[str]:
        revs: list[str] = []
        if branches:
            revs += self._run("for-each-ref", "--format=%(objectname)", "refs/heads").decode().split()
        if tags:
            revs += self._run("for-each-ref", "--format=%(objectname)", "refs/tags").decode().split()
        return revs

    def first_parents(self, rev: str, count: int) -> list[str]:
        """``rev`` and the commits before it along first parents, ``count`` at most."""
        return self._run("rev-list", "--first-parent", "-n", str(count), self.resolve(rev), "--").decode().split()

    def commits_since(self, timestamp: float) -> list[str]:
        """Every commit reachable from a ref whose commit time is ``timestamp`` or later (compared
        here: git's own date parsing gives up on far dates and then lists every commit)."""
        if not self.has_commits():
            return []
        out = []
        for line in self._run("rev-list", "--all", "--format=%H %ct", "--no-commit-header").decode().splitlines():
            sha, _, when = line.partition(" ")
            if when and int(when) >= timestamp:
                out.append(sha)
        return out

    def all_commits(self) -> list[str]:
        if not self.has_commits():
            return []
        return self._run("rev-list", "--all").decode().split()

    def tracked(self, paths: list[str]) -> list[str]:
        """Which of ``paths`` (relative to the root) git already tracks."""
        if not paths:
            return []
        out = self._run("ls-files", "-z", "--", *paths)
        return [n for n in out.decode("utf-8", errors="surrogateescape").split("\0") if n]

    def add(self, paths: list[str]) -> None:
        if paths:
            self._run("add", "--", *paths)

    def is_ignored(self, path: str) -> bool:
        import subprocess

        proc = subprocess.run(["git", "check-ignore", "-q", "--", path], cwd=self.root, check=False)
        return proc.returncode == 0


def git_available() -> bool:
    return any(os.access(os.path.join(d, "git"), os.X_OK) for d in os.environ.get("PATH", "").split(os.pathsep))
