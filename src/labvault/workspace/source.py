"""A repository to read from, at one revision: what it tracks, and where its objects are.

The source is a local repository (its workspace, or a git revision of it) or a git URL (a cached
bare clone, see ``clone.py``). At a revision, pointer files, ``dvc.lock`` files and ``.dvc/config``
are read from git objects; nothing is checked out. Objects come from the local repository's cache
(when the source is local), then its remote (named, or the default one of the source's config).
"""

from __future__ import annotations

import os
import posixpath
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from labvault.errors import PathError, PointerError
from labvault.remotes.reading import ObjectPlaces
from labvault.remotes.store import RemoteStore
from labvault.workspace import revmemo
from labvault.workspace.clone import bare_clone, is_git_url
from labvault.workspace.index import find_control_files, lock_outputs, outputs_of, workspace_outputs
from labvault.workspace.pointer import POINTER_SUFFIX, Pointer, parse_pointer
from labvault.workspace.repo import DVC_DIR, Repo, find_root_str
from labvault.workspace.scm import Git
from labvault.workspace.used import out_remote


@dataclass(frozen=True)
class Output:
    """A tracked output of the source: repo-relative path, oid, and what its record says."""

    rel: str
    oid: str
    legacy: bool
    size: int | None
    nfiles: int | None
    remote: str | None = None  # the remote a .dvc entry binds it to (`remote: NAME`), if any

    @property
    def is_dir(self) -> bool:
        return self.oid.endswith(".dir")


@dataclass
class Source:
    spec: str  # the repository as the user named it
    repo: Repo  # the local repository, or a stand-in holding the revision's .dvc/config
    git: Git | None
    sha: str | None  # the commit read; None: the local workspace
    prefix: str = ""  # the repository's folder inside the git tree ("" or "sub/")
    local: bool = True
    _tmp: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)
    _outputs: list[Output] | None = field(default=None, repr=False)

    def outputs(self) -> list[Output]:
        """Outputs of pointer files, and cached stage outputs recorded in ``dvc.lock`` files."""
        if self._outputs is None:
            if self.sha is None or self.git is None:
                self._outputs = self._load_outputs()
            else:  # a commit's outputs never change (revmemo.py)
                known = revmemo.outputs(self.git.root, self.sha, self.prefix)
                if known is None:
                    known = self._load_outputs()
                    revmemo.remember_outputs(self.git.root, self.sha, self.prefix, known)
                self._outputs = list(known)
        return self._outputs

    def _load_outputs(self) -> list[Output]:
        found: list[Output] = []
        if self.sha is None:
            for t in workspace_outputs(self.repo):
                if t.out.oid and t.out.use_cache:
                    found.append(Output(t.rel, t.out.oid, t.out.legacy, t.out.size, t.out.nfiles,
                                    out_remote(t.out.extra)))
            locks = {p.relative_to(self.repo.root).as_posix(): p.read_text(encoding="utf-8")
                     for p in find_control_files(self.repo)[1]}
        else:
            assert self.git is not None
            p = self.prefix
            names = [n for n in self.git.ls_files_at(self.sha, (POINTER_SUFFIX, "dvc.lock")) if n.startswith(p)]
            names = [n for n in names if not n[len(p):].startswith(DVC_DIR + "/")]
            blobs = self.git.read_files_at(self.sha, names)
            locks = {}
            for name, data in sorted(blobs.items()):
                rel = name[len(p):]
                text = data.decode("utf-8", errors="replace")
                if posixpath.basename(rel) == "dvc.lock":
                    locks[rel] = text
                    continue
                try:
                    pointer = parse_pointer(text, f"{rel} at {self.sha[:10]}")
                except PointerError:
                    continue  # a broken pointer elsewhere in the repo is not this read's business
                pointer = Pointer(Path(rel), pointer.outs, pointer.extra, pointer.keys)
                try:
                    tracked = outputs_of(pointer, posixpath.dirname(rel))
                except PointerError:
                    continue  # an output outside the repository: as a broken pointer, not read
                for t in tracked:
                    if t.out.oid and t.out.use_cache:
                        found.append(Output(t.rel, t.out.oid, t.out.legacy, t.out.size, t.out.nfiles,
                                    out_remote(t.out.extra)))
        for rel, text in locks.items():
            base = posixpath.dirname(rel)
            for path, oid, legacy in lock_outputs(text):
                out_rel = posixpath.normpath(posixpath.join(base, path))
                if not out_rel.startswith("../"):
                    found.append(Output(out_rel, oid, legacy, None, None))
        return found

    def git_file(self, rel: str) -> bytes | None:
        """A file git holds at the revision (None in the workspace, or when absent)."""
        if self.git is None or self.sha is None:
            return None
        return self.git.read_files_at(self.sha, [self.prefix + rel]).get(self.prefix + rel)

    def places(self, remote: str | None, jobs: int | None = None) -> ObjectPlaces:
        """The cache (local sources), then the remote, opened only when the cache lacks an object;
        a named remote that does not exist is an error at once. Without ``remote``, an output
        bound to a remote is read from that one (``ObjectPlaces.bind``, called by ``locate``),
        the others from the default."""
        from labvault.workspace.remotes import open_remote

        odb = self.repo.odb if self.local else None
        if remote is not None:
            return ObjectPlaces(odb, [open_remote(self.repo, remote, jobs)])
        repo = self.repo

        def default_remote() -> RemoteStore:
            return open_remote(repo, None, jobs)

        def named_remote(name: str) -> RemoteStore:
            return open_remote(repo, name, jobs)

        return ObjectPlaces(odb, opener=default_remote, open_named=named_remote)

    @property
    def rev_lock(self) -> str | None:
        return self.sha

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_source(spec: str | os.PathLike[str] | None, rev: str | None, workspace: bool = True) -> Source:
    """The repository ``spec`` (a path, a git URL, or None for the current folder's) at ``rev``.

    Without ``rev``: the workspace of a local repository when ``workspace`` (``labvault.open``),
    else its ``HEAD`` (``get``/``import``, which record the commit they read)."""
    text = os.fspath(spec) if spec is not None else None
    if text is not None and not os.path.exists(text):
        if is_git_url(text):
            return _remote_source(text, rev)
        raise PathError(f"repository {text} does not exist", "give a repository's folder or a git URL")
    root = find_root_str(text)
    repo = Repo(Path(root))
    if rev is None and workspace:
        return Source(text or ".", repo, None, None)
    # the usual layout (.git beside .dvc) needs no `git rev-parse --show-toplevel`
    git = Git(repo.root) if os.path.isdir(root + "/.git") else repo.scm
    if git is None or repo.config.get_bool("core", "no_scm", False):
        if rev is None:
            return Source(text or ".", repo, None, None)
        git = repo.require_scm()
    sha = revmemo.resolve(git, rev or "HEAD")
    prefix = "." if git.root == repo.root else repo.root.resolve().relative_to(git.root.resolve()).as_posix()
    return Source(text or ".", repo, git, sha, "" if prefix == "." else prefix + "/")


def _remote_source(url: str, rev: str | None) -> Source:
    git = bare_clone(url, rev)
    sha = git.resolve(rev or "HEAD")
    tmp = tempfile.TemporaryDirectory(prefix="labvault-source-")
    try:
        dvc_dir = Path(tmp.name) / DVC_DIR
        dvc_dir.mkdir()
        config = git.read_files_at(sha, [f"{DVC_DIR}/config"]).get(f"{DVC_DIR}/config")
        if config is not None:
            (dvc_dir / "config").write_bytes(config)
        repo = Repo(Path(tmp.name))
        return Source(url, repo, git, sha, "", local=False, _tmp=tmp)
    except BaseException:
        tmp.cleanup()
        raise
