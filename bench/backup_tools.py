"""The two backup tools of bench/backup_bench.py, driven the same way: labvault's own engine to a
folder target, and restic to a local repository (password from a file).

Each tool gets, per repeat, its own copy of the workload, its own target and its own cache folder
(labvault's stat cache, restic's cache), so no run starts with what an earlier one learnt. Every
command's output is parsed into the same few counters (files hashed/new/changed, bytes added,
snapshot id), which the benchmark checks against what it expects.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from checks import OutputWrong

ROOT = Path(__file__).resolve().parent.parent
LABVAULT = str(ROOT / ".venv" / "bin" / "labvault")
RESTIC = shutil.which("restic") or "/usr/bin/restic"


@dataclass(frozen=True)
class Backed:
    """What one backup command reported."""

    snapshot: str
    files: int  # files in the snapshot
    read: int  # files read (hashed) by this run: not vouched for by a cache or a parent snapshot
    bytes_added: int  # what the target grew by, as the tool counts it


class Tool:
    name = ""

    def __init__(self, home: Path, source: Path) -> None:
        """``home``: this tool's folder for this repeat (target, caches); ``source``: the tree."""
        self.home, self.source = home, source
        self.target = home / "target"
        self.env = {**os.environ, "XDG_CACHE_HOME": str(home / "cache")}

    def setup(self) -> list[list[str]]:
        """Untimed commands to run before the first backup."""
        return []

    def backup_argv(self) -> list[str]:
        raise NotImplementedError

    def parse_backup(self, output: str) -> Backed:
        raise NotImplementedError

    def restore_argv(self, snapshot: str, to: Path) -> list[str]:
        raise NotImplementedError

    def restored_root(self, to: Path) -> Path:
        """Where the source tree lands inside a restore folder ``to``."""
        raise NotImplementedError


class Labvault(Tool):
    name = "labvault"

    def setup(self) -> list[list[str]]:
        self.home.mkdir(parents=True, exist_ok=True)
        lab = self.home / "lab.yaml"
        lab.write_text(
            f"tiers: {{hot: {{path: {self.source.parent}}}}}\n"
            f"catalog_url: sqlite:///{self.home / 'catalog.sqlite'}\n"
            "backups:\n"
            f"  - {{name: bench, sources: [{self.source}], target: {self.target}, retention: {{keep_last: 3}}}}\n"
        )
        self.env["LABVAULT_LAB"] = str(lab)
        self.env.pop("LABVAULT_CATALOG_URL", None)
        return []

    def backup_argv(self) -> list[str]:
        return [LABVAULT, "-q", "backup", "run", "bench", "--json"]

    def parse_backup(self, output: str) -> Backed:
        try:
            doc = json.loads(output[output.index("[") :])[0]
            return Backed(str(doc["snapshot"]), int(doc["files"]), int(doc["hashed_files"]), int(doc["bytes_added"]))
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise OutputWrong(f"labvault backup run: unreadable --json output ({exc}): {output[-300:]!r}") from None

    def restore_argv(self, snapshot: str, to: Path) -> list[str]:
        return [LABVAULT, "-q", "backup", "restore", snapshot, "--to", str(to), "--json"]

    def restored_root(self, to: Path) -> Path:
        return to / self.source.name


class Restic(Tool):
    name = "restic"

    def setup(self) -> list[list[str]]:
        self.home.mkdir(parents=True, exist_ok=True)
        pw = self.home / "password"
        pw.write_text("benchmark password\n")
        self.env |= {"RESTIC_REPOSITORY": str(self.target), "RESTIC_PASSWORD_FILE": str(pw),
                     "RESTIC_CACHE_DIR": str(self.home / "cache" / "restic")}
        return [[RESTIC, "init", "--quiet"]]

    def backup_argv(self) -> list[str]:
        return [RESTIC, "backup", "--json", str(self.source)]

    def parse_backup(self, output: str) -> Backed:
        for line in reversed(output.splitlines()):
            if '"message_type":"summary"' in line.replace(" ", ""):
                doc = json.loads(line)
                files = int(doc["files_new"]) + int(doc["files_changed"]) + int(doc["files_unmodified"])
                return Backed(str(doc["snapshot_id"]), files, int(doc["files_new"]) + int(doc["files_changed"]),
                              int(doc["data_added"]))
        raise OutputWrong(f"restic backup: no summary in its --json output: {output[-300:]!r}")

    def restore_argv(self, snapshot: str, to: Path) -> list[str]:
        return [RESTIC, "restore", snapshot, "--target", str(to)]

    def restored_root(self, to: Path) -> Path:
        return to / str(self.source).lstrip("/")


TOOLS: dict[str, type[Tool]] = {"labvault": Labvault, "restic": Restic}


def disk_usage(root: Path) -> tuple[int, int]:
    """(apparent bytes, allocated bytes) of every file below ``root``."""
    apparent = allocated = 0
    for dirpath, _, files in os.walk(root):
        for name in files:
            st = os.lstat(os.path.join(dirpath, name))
            apparent += st.st_size
            allocated += st.st_blocks * 512
    return apparent, allocated
