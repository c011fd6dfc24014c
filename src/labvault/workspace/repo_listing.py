"""What a repository holds, as ``dvc list`` and ``dvc du`` show it: the files git holds (at a
revision, or the workspace's files) and the outputs its pointers and ``dvc.lock`` files track,
merged into one tree, folders of tracked folders included (read from their manifests).

At a revision, nothing is checked out: git's tree gives the files, their sizes and exec bits;
pointers and locks give the outputs. In the workspace (a local repository, no revision), the
folder is walked (``.git``, the ``.dvc`` folder and what ``.dvcignore`` excludes are left out)
and a workspace file's size is the one on disk. A file inside a tracked folder has the size of
the workspace's copy, else none (a manifest records no sizes), as dvc shows it.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from labvault.errors import PathError
from labvault.workspace.pointer import POINTER_SUFFIX
from labvault.workspace.repo import DVC_DIR
from labvault.workspace.source import Output, Source

# Files of dvc's own that `dvc du` (which lists without them) leaves out, as dvc does.
_DVC_FILES = (POINTER_SUFFIX, "/dvc.yaml", "/dvc.lock", "/.dvcignore")


@dataclass(frozen=True)
class ListEntry:
    """One entry of a listing; the fields in the order of ``dvc list --json``."""

    isout: bool
    isdir: bool
    isexec: bool
    size: int | None
    md5: str | None
    path: str


@dataclass
class _Node:
    isdir: bool
    isout: bool = False
    isexec: bool = False
    size: int | None = None
    md5: str | None = None
    has_out: bool = False  # an output, or a folder holding one: what --dvc-only keeps
    recorded: int | None = None  # a tracked folder: the total size its pointer records
    children: dict[str, _Node] = field(default_factory=dict)
    expand: Callable[[], None] | None = None  # fills ``children`` of a tracked folder when first needed

    def entries(self) -> dict[str, _Node]:
        if self.expand is not None:
            expand, self.expand = self.expand, None
            expand()
        return self.children


TreeReader = Callable[[Output], list[tuple[str, str]]]


class RepoTree:
    """The merged tree of one source (see the module docstring)."""

    def __init__(self, source: Source, read_tree: TreeReader) -> None:
        self.source = source
        self.root = _Node(isdir=True)
        self._read_tree = read_tree
        if source.sha is None:
            self._add_workspace()
        else:
            self._add_git()
        for out in source.outputs():
            self._add_output(out)

    # -- building ------------------------------------------------------------------------------

    def _folder(self, parts: list[str]) -> _Node:
        node = self.root
        for name in parts:
            nxt = node.entries().get(name)
            if nxt is None or not nxt.isdir:
                nxt = node.children[name] = _Node(isdir=True)
            node = nxt
        return node

    def _add_git(self) -> None:
        """Git's files at the revision. A folder's size is the size of git's tree object for it
        (as dvc reports it): per entry, its mode, a space, its name, a NUL and 20 bytes of id."""
        assert self.source.git is not None and self.source.sha is not None
        prefix = self.source.prefix
        tree_bytes: dict[str, int] = {}
        for path, mode, kind, size in self.source.git.tree_at(self.source.sha):
            parent, _, name = path.rpartition("/")
            stored_mode = mode.lstrip("0")
            tree_bytes[parent] = tree_bytes.get(parent, 0) + len(stored_mode) + len(name.encode("utf-8", "surrogateescape")) + 22
            if kind != "blob" or not path.startswith(prefix):
                continue
            rel = path[len(prefix):]
            if rel.split("/", 1)[0] == DVC_DIR and "/" in rel:
                continue
            parts = rel.split("/")
            self._folder(parts[:-1]).children[parts[-1]] = _Node(isdir=False, isexec=mode == "100755", size=size)
        self._size_folders(self.root, prefix.rstrip("/"), tree_bytes)

    def _size_folders(self, node: _Node, path: str, tree_bytes: dict[str, int]) -> None:
        node.size = tree_bytes.get(path, node.size)
        for name, child in node.children.items():
            if child.isdir:
                self._size_folders(child, f"{path}/{name}" if path else name, tree_bytes)

    def _add_workspace(self) -> None:
        """The workspace's folders, each read when a listing first looks into it (a listing of
        the root does not walk a tracked folder of a million files)."""
        top = str(self.source.repo.root)
        self.root.size = os.stat(top).st_size
        self.root.expand = lambda: self._scan(top, "", self.root)

    def _scan(self, top: str, rel_dir: str, node: _Node) -> None:
        ignore = self.source.repo.ignore
        try:
            with os.scandir(os.path.join(top, rel_dir) if rel_dir else top) as it:
                found = list(it)
        except OSError:
            return
        for e in found:
            rel = f"{rel_dir}/{e.name}" if rel_dir else e.name
            if not rel_dir and e.name in (".git", DVC_DIR):
                continue
            # as dvc lists a workspace: a link is an entry of its own, never a folder to enter
            # (a link to a folder above would loop), with its target's size (0 when broken)
            link = e.is_symlink()
            try:
                st = e.stat()
            except OSError:
                st = None
            is_dir = st is not None and not link and stat.S_ISDIR(st.st_mode)
            if ignore.is_ignored(rel, is_dir):
                continue
            isexec = st is not None and not link and stat.S_ISREG(st.st_mode) and bool(st.st_mode & 0o111)
            child = node.children[e.name] = _Node(isdir=is_dir, isexec=isexec, size=st.st_size if st is not None else 0)
            if is_dir:
                child.expand = self._scanner(top, rel, child)

    def _scanner(self, top: str, rel: str, node: _Node) -> Callable[[], None]:
        return lambda: self._scan(top, rel, node)

    def _add_output(self, out: Output) -> None:
        rel = posixpath.normpath(out.rel)
        if rel.startswith(("../", "/")) or rel in (".", ".."):
            return  # a pointer naming a path outside the repository (an untrusted clone): not listed
        parts = rel.split("/")
        parent = self._folder(parts[:-1])
        on_disk = parent.entries().get(parts[-1])
        node = _Node(isdir=out.is_dir, isout=True, md5=out.oid, has_out=True, size=out.size, recorded=out.size)
        if on_disk is not None:  # the workspace's copy: its size, and for a folder its files
            node.size = on_disk.size
            node.isexec = on_disk.isexec
        parent.children[parts[-1]] = node
        walk = self.root
        walk.has_out = True
        for name in parts[:-1]:
            walk = walk.children[name]
            walk.has_out = True
        if out.is_dir:
            node.expand = lambda: self._expand(node, out, on_disk)

    def _expand(self, node: _Node, out: Output, on_disk: _Node | None) -> None:
        for rel, oid in self._read_tree(out):
            parts = rel.split("/")
            folder = node
            seen = on_disk
            for name in parts[:-1]:
                sub = folder.children.get(name)
                if sub is None:
                    sub = folder.children[name] = _Node(isdir=True, isout=True, has_out=True)
                    if seen is not None and name in seen.entries():
                        sub.size = seen.entries()[name].size
                folder = sub
                seen = seen.entries().get(name) if seen is not None else None
            disk = seen.entries().get(parts[-1]) if seen is not None else None
            size = disk.size if disk is not None and not disk.isdir else None
            folder.children[parts[-1]] = _Node(isdir=False, isout=True, md5=oid, has_out=True, size=size,
                                               isexec=disk.isexec if disk is not None else False)

    # -- reading -------------------------------------------------------------------------------

    def find(self, rel: str) -> _Node:
        node = self.root
        if not rel:
            return node
        for name in rel.split("/"):
            nxt = node.entries().get(name) if node.isdir else None
            if nxt is None:
                at = f" at {self.source.sha[:10]}" if self.source.sha else ""
                raise PathError(f"{rel} does not exist in {self.source.spec}{at}",
                                "check the path (`labvault list URL` shows what is there)")
            node = nxt
        return node

    def children(self, node: _Node, dvc_only: bool, dvc_files: bool) -> Iterator[tuple[str, _Node]]:
        for name, child in node.entries().items():
            if dvc_only and not child.has_out:
                continue
            if not dvc_files and not child.isout and _is_dvc_file(name):
                continue
            yield name, child


def _is_dvc_file(name: str) -> bool:
    return ("/" + name).endswith(_DVC_FILES)


def entry(path: str, node: _Node, dvc_only: bool = False) -> ListEntry:
    """The entry of ``node``; with ``dvc_only``, as the outputs' records alone describe it (the
    size a pointer records, none for a folder that is no output), the workspace unlooked at."""
    if dvc_only:
        return ListEntry(node.isout, node.isdir, False, node.recorded if node.isout else None, node.md5, path)
    return ListEntry(node.isout, node.isdir, node.isexec, node.size, node.md5, path)


def list_entries(tree: RepoTree, rel: str, recursive: bool, dvc_only: bool, maxdepth: int | None) -> list[ListEntry]:
    """``dvc list`` of ``rel``: a file as itself; a folder's entries (with ``recursive``, every
    file below it, folders only where ``maxdepth`` stops the descent), sorted by path."""
    node = tree.find(rel)
    depth = maxdepth if recursive else None
    if depth == 0 or not node.isdir:
        return [entry(posixpath.basename(rel) or ".", node)]  # described as itself, whatever --dvc-only
    found: dict[str, _Node] = {}

    def walk(folder: _Node, prefix: str, level: int) -> None:
        for name, child in tree.children(folder, dvc_only, dvc_files=True):
            path = f"{prefix}{name}"
            stop = not recursive or (depth is not None and level >= depth - 1)
            if not child.isdir or stop:
                found[path] = child
            if child.isdir and not stop:
                walk(child, f"{path}/", level + 1)

    walk(node, "", 0)
    return [entry(p, found[p], dvc_only) for p in sorted(found)]


@dataclass(frozen=True)
class TreeRow:
    """One row of ``list --tree``: the entry, named by its own name, and its depth."""

    entry: ListEntry
    depth: int
    last: tuple[bool, ...]  # for the entry and each folder above it: the last of its folder?


def tree_rows(tree: RepoTree, rel: str, dvc_only: bool, maxdepth: int | None) -> list[TreeRow]:
    """``dvc list --tree``: ``rel`` (``.`` for the root) and everything below, depth first,
    ``maxdepth`` levels at most."""
    node = tree.find(rel)
    rows = [TreeRow(entry(rel or ".", node), 0, ())]  # the top as itself, whatever --dvc-only

    def walk(folder: _Node, level: int, last: tuple[bool, ...]) -> None:
        items = sorted(tree.children(folder, dvc_only, dvc_files=True))
        for i, (name, child) in enumerate(items):
            mine = (*last, i == len(items) - 1)
            rows.append(TreeRow(entry(name, child, dvc_only), level, mine))
            if child.isdir and (maxdepth is None or level < maxdepth):
                walk(child, level + 1, mine)

    if node.isdir and (maxdepth is None or maxdepth > 0):
        walk(node, 1, ())
    return rows


def disk_usage(tree: RepoTree, rel: str, summarize: bool) -> list[tuple[str, int]]:
    """``dvc du``: (path, bytes) of each entry of the folder ``rel`` and then of ``rel`` itself;
    only ``rel``'s total with ``summarize`` or for a file. dvc's own files are not counted."""
    node = tree.find(rel)

    def total(n: _Node) -> int:
        if not n.isdir:
            return n.size or 0
        if n.recorded is not None:
            return n.recorded  # a tracked folder's recorded size: its manifest need not be read
        return sum(total(c) for _, c in tree.children(n, dvc_only=False, dvc_files=False))

    if summarize or not node.isdir:
        return [(rel, total(node))]
    rows = [(f"{rel}/{name}" if rel else name, total(child))
            for name, child in sorted(tree.children(node, dvc_only=False, dvc_files=False))]
    rows.append((rel, sum(size for _, size in rows)))
    return rows
