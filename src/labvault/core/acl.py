"""POSIX ACLs of a file or folder tree, through ``setfacl`` and ``getfacl`` (Debian package ``acl``).

An entry names a user or a group and its permissions: ``read`` is ``r-x`` on folders (list and
enter) and ``r--`` on files, ``write`` adds ``w``. Folders also get the same entry as a default
ACL, so files and folders created inside later inherit it. Both tools walk the tree physically:
symlinks inside it are neither followed nor changed. They are run with a fixed argument list
(``--`` before the path), never through a shell.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field

from labvault.errors import StorageError, UsageError

PERMISSIONS = ("read", "write")
_SPEC = {"read": "rX", "write": "rwX"}


@dataclass(frozen=True)
class Principal:
    """A user or a group, by name."""

    kind: str  # user | group
    name: str

    @property
    def tag(self) -> str:
        return "u" if self.kind == "user" else "g"

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


@dataclass(frozen=True)
class FileAcl:
    """One file's ACL as ``getfacl`` prints it: owner, group, the base permissions, the named
    entries (``{(kind, name): "r-x"}``), the mask and the named default entries (folders)."""

    path: str
    owner: str
    group: str
    is_dir: bool
    base: dict[str, str] = field(default_factory=dict)  # user:: group:: other:: -> "rwx"
    named: dict[tuple[str, str], str] = field(default_factory=dict)
    mask: str | None = None
    default_named: dict[tuple[str, str], str] = field(default_factory=dict)

    def effective(self, key: tuple[str, str]) -> str:
        """A named entry's permissions after the mask."""
        perms = self.named.get(key, "---")
        if self.mask is None:
            return perms
        return "".join(p if m != "-" else "-" for p, m in zip(perms, self.mask, strict=True))


def missing_tool() -> str | None:
    for tool in ("setfacl", "getfacl"):
        if shutil.which(tool) is None:
            return tool
    return None


def _require() -> None:
    tool = missing_tool()
    if tool is not None:
        raise UsageError(f"{tool} is not installed",
                         "install the `acl` package (apt-get install acl), then run the command again")


def _run(argv: list[str]) -> str:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise StorageError(f"could not run {argv[0]}: {exc.strerror}") from exc
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        raise StorageError(f"{argv[0]} failed: {lines[0] if lines else f'exit {proc.returncode}'}",
                           "check the path's file system supports ACLs (mount option `acl`)")
    return proc.stdout


def apply(path: str, who: Principal, permission: str | None) -> None:
    """Give ``who`` exactly ``permission`` (read, write; None removes its entries) on the tree at
    ``path``, with default entries on folders."""
    _require()
    if permission is None:
        spec = f"{who.tag}:{who.name},d:{who.tag}:{who.name}"
        _run(["setfacl", "-R", "-P", "-x", spec, "--", path])
        return
    perms = _SPEC[permission]
    spec = f"{who.tag}:{who.name}:{perms},d:{who.tag}:{who.name}:{perms}"
    _run(["setfacl", "-R", "-P", "-m", spec, "--", path])


def read(path: str) -> list[FileAcl]:
    """Every file's and folder's ACL in the tree at ``path`` (symlinks not followed)."""
    _require()
    return parse(_run(["getfacl", "-R", "-P", "-p", "-E", "--", path]))


def _unescape(name: str) -> str:
    """getfacl writes whitespace, backslashes and non-ASCII bytes of names as ``\\ooo``."""
    if "\\" not in name:
        return name
    raw = re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), name.encode("utf-8", "surrogateescape"))
    return raw.decode("utf-8", "surrogateescape")


def parse(text: str) -> list[FileAcl]:
    """``getfacl -p -E`` output, block by block."""
    found: list[FileAcl] = []
    for block in text.split("\n\n"):
        lines = [line for line in block.splitlines() if line.strip()]
        if not lines or not lines[0].startswith("# file: "):
            continue
        head = {k: v for k, _, v in (line[2:].partition(": ") for line in lines if line.startswith("# "))}
        base: dict[str, str] = {}
        named: dict[tuple[str, str], str] = {}
        default_named: dict[tuple[str, str], str] = {}
        mask = None
        where = _unescape(head.get("file", ""))
        is_dir = os.path.isdir(where) and not os.path.islink(where)
        for line in lines:
            if line.startswith("#"):
                continue
            parts = line.split(":")
            if parts[0] == "default":
                if len(parts) == 4 and parts[2] and parts[1] in ("user", "group"):
                    default_named[(parts[1], parts[2])] = parts[3]
                continue
            if len(parts) != 3:
                continue
            tag, name, perms = parts
            if tag == "mask":
                mask = perms
            elif name and tag in ("user", "group"):
                named[(tag, name)] = perms
            else:
                base[tag] = perms
        found.append(FileAcl(where, head.get("owner", ""), head.get("group", ""), is_dir, base,
                             named, mask, default_named))
    return found
