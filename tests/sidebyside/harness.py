"""Side by side: the same generated repository in two identical copies, one driven by labvault and
one by the real dvc, with their answers compared as data.

    sbs = SideBySide(tmp_path)
    sbs.write({"params.yaml": "lr: 1\\n", "dvc.yaml": DVC_YAML}).git_commit("pipeline")
    lv, dvc = sbs.run("repro")                  # both CompletedProcess, run at the same time
    sbs.assert_same_json("params", "diff")      # `--json` added, outputs parsed and compared
    sbs.assert_same_lock()                      # dvc.lock bytes after repro

Both copies are git repositories initialised as ``dvc init`` leaves them (written directly: the
files are fixed and ``dvc init`` costs a second). Stage commands run ``python`` from the test
interpreter's folder. Only what must differ between two runs is normalised (see ``normalise``).

Building (both copies): ``write(files)``, ``remove(*rels)``, ``git(*args)``, ``git_commit(msg)``.
Running: ``run(*args, cwd=, lv_args=)`` both at once -> (labvault, dvc) ``CompletedProcess``;
``run_ok`` the same, failing unless both exit 0; ``json(*args)`` both ``--json`` outputs parsed;
``assert_same_json(*args, transform=)``; ``repro(*targets)`` -> the stages each ran, in order;
``stage_status()`` -> the stages each reports changed; ``lv(*args)`` / ``dvc(*args)`` one side only.
Reading: ``read(rel)`` -> both copies' bytes; ``assert_same_lock(rel)``. Parsing: ``dot_graph``,
``mermaid_graph``, ``ascii_labels`` (``dag`` drawings as node and edge sets), ``dvc_ran``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI, _clean_env, _labvault_cmd, dvc_oracle_path

DVC_INIT_FILES = {
    ".dvc/config": "",
    ".dvc/.gitignore": "/config.local\n/tmp\n/cache\n",
    ".dvcignore": (
        "# Add patterns of files dvc should ignore, which could improve\n"
        "# the performance. Learn more at\n"
        "# https://dvc.org/doc/user-guide/dvcignore\n"
    ),
}

Proc = subprocess.CompletedProcess[str]


def oracle() -> Path:
    """The real dvc's executable; skips (fails in CI) when it is not installed."""
    path = dvc_oracle_path()
    if not path.exists():
        msg = f"dvc oracle not found at {path}: run `make dvc-oracle`"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return path


def normalise(data: Any) -> Any:
    """The default transform before comparing: none. Nothing in the outputs compared so far differs
    between two runs but their spelling (``1e-05`` and ``1e-5`` are one number once parsed), so
    ``--json`` outputs are compared as parsed data, unchanged. A test comparing something that must
    differ (timestamps, absolute paths) passes its own ``transform``."""
    return data


class SideBySide:
    """Two copies of one repository: ``lv_root`` (labvault) and ``dvc_root`` (the real dvc)."""

    def __init__(self, tmp_path: Path, env: dict[str, str] | None = None) -> None:
        self.base = tmp_path
        self.lv_root = tmp_path / "lv"
        self.dvc_root = tmp_path / "dvc"
        home = tmp_path / "home"
        home.mkdir(exist_ok=True)
        self.env = env if env is not None else _clean_env(home)
        self.env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), self.env.get("PATH", "")])
        self.env["PYTHONDONTWRITEBYTECODE"] = "1"
        self.lv_cmd = _labvault_cmd()
        self.dvc_cmd = [str(oracle())]
        for root in self.roots:
            root.mkdir()
            self._git(root, "init", "-q", "-b", "main")
        self.write(DVC_INIT_FILES)

    @property
    def roots(self) -> tuple[Path, Path]:
        return self.lv_root, self.dvc_root

    # --- building the repository (always both copies) --------------------------------------------
    def write(self, files: dict[str, str | bytes]) -> SideBySide:
        """Write (or overwrite) files, paths relative to the repository root, in both copies."""
        for root in self.roots:
            for rel, content in files.items():
                p = root / rel
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_bytes(content.encode() if isinstance(content, str) else content)
        return self

    def remove(self, *rels: str) -> SideBySide:
        for root in self.roots:
            for rel in rels:
                (root / rel).unlink()
        return self

    def git(self, *args: str) -> SideBySide:
        for root in self.roots:
            self._git(root, *args)
        return self

    def git_commit(self, message: str = "change") -> SideBySide:
        """Stage everything and commit, in both copies (same message, same content)."""
        return self.git("add", "-A").git("commit", "-q", "--no-verify", "--allow-empty", "-m", message)

    def _git(self, root: Path, *args: str) -> None:
        subprocess.run(["git", *args], cwd=root, env=self.env, check=True, capture_output=True)

    # --- running both tools ------------------------------------------------------------------------
    def run(self, *args: str, cwd: str = "", lv_args: Iterable[str] | None = None,
            timeout: float = 300) -> tuple[Proc, Proc]:
        """``labvault ARGS`` in one copy and ``dvc ARGS`` in the other, at the same time; returns
        (labvault's, dvc's) completed processes, whatever their exit codes. ``lv_args`` replaces
        the arguments on labvault's side where the two command lines must differ."""
        lv = subprocess.Popen(
            [*self.lv_cmd, *(args if lv_args is None else lv_args)], cwd=self.lv_root / cwd, env=self.env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        dvc = subprocess.Popen(
            [*self.dvc_cmd, *args], cwd=self.dvc_root / cwd, env=self.env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        out = []
        for argv, p in ((["labvault", *args], lv), (["dvc", *args], dvc)):
            stdout, stderr = p.communicate(timeout=timeout)
            out.append(subprocess.CompletedProcess(argv, p.returncode, stdout, stderr))
        return out[0], out[1]

    def lv(self, *args: str, cwd: str = "") -> Proc:
        """``labvault ARGS`` in labvault's copy only (exit code not checked)."""
        return self._one(self.lv_cmd, self.lv_root / cwd, args)

    def dvc(self, *args: str, cwd: str = "") -> Proc:
        """``dvc ARGS`` in dvc's copy only (exit code not checked)."""
        return self._one(self.dvc_cmd, self.dvc_root / cwd, args)

    def _one(self, argv0: list[str], cwd: Path, args: tuple[str, ...]) -> Proc:
        return subprocess.run([*argv0, *args], cwd=cwd, env=self.env, capture_output=True, text=True, timeout=300)

    def run_ok(self, *args: str, cwd: str = "", lv_args: Iterable[str] | None = None) -> tuple[Proc, Proc]:
        """``run``, failing the test (with both outputs) unless both tools exit 0."""
        lv, dvc = self.run(*args, cwd=cwd, lv_args=lv_args)
        if lv.returncode or dvc.returncode:
            raise AssertionError(f"{' '.join(args)}: labvault exited {lv.returncode}, dvc {dvc.returncode}\n"
                                 + describe(lv, dvc))
        return lv, dvc

    def json(self, *args: str, cwd: str = "") -> tuple[Any, Any]:
        """Both tools' ``ARGS --json`` output, parsed (both must exit 0)."""
        lv, dvc = self.run_ok(*args, "--json", cwd=cwd)
        return parse_json(lv), parse_json(dvc)

    def assert_same_json(self, *args: str, cwd: str = "",
                         transform: Callable[[Any], Any] = normalise) -> Any:
        """Both tools' ``ARGS --json`` are the same data (after ``transform``); returns it."""
        lv, dvc = self.json(*args, cwd=cwd)
        lv, dvc = transform(lv), transform(dvc)
        assert lv == dvc, f"{' '.join(args)} --json differs\nlabvault: {lv!r}\ndvc:      {dvc!r}"
        return lv

    def repro(self, *targets: str) -> tuple[list[str], list[str]]:
        """``repro TARGETS`` on both sides; returns the stages each one ran, in the order they ran."""
        lv, dvc = self.run_ok("repro", *targets, lv_args=["repro", "--json", *targets])
        ran_lv = [r["address"] for r in parse_json(lv) if r["action"] in ("ran", "restored")]
        return ran_lv, dvc_ran(dvc.stdout)

    def read(self, rel: str) -> tuple[bytes, bytes]:
        """A file's bytes in each copy (b"" when missing)."""
        return tuple(  # type: ignore[return-value]
            (root / rel).read_bytes() if (root / rel).exists() else b"" for root in self.roots
        )

    def assert_same_lock(self, rel: str = "dvc.lock") -> bytes:
        lv, dvc = self.read(rel)
        assert lv == dvc, f"{rel} differs\n--- labvault\n{lv.decode()}\n--- dvc\n{dvc.decode()}"
        return lv

    def stage_status(self, *targets: str) -> tuple[dict[str, bool], dict[str, bool]]:
        """Which stages each tool reports as changed: ``{address: True}`` (only changed ones;
        dvc's ``status --json`` lists only those; labvault's names every stage with ``changed``)."""
        lv, dvc = self.run_ok("status", "--json", *targets)
        lv_data, dvc_data = parse_json(lv), parse_json(dvc)
        lv_changed = {s["address"]: True for s in lv_data.get("stages", []) if s.get("changed")}
        dvc_changed = {k: True for k in dvc_data if not k.endswith(".dvc")}
        return lv_changed, dvc_changed


def describe(lv: Proc, dvc: Proc) -> str:
    return (f"--- labvault stdout\n{lv.stdout}\n--- labvault stderr\n{lv.stderr}\n"
            f"--- dvc stdout\n{dvc.stdout}\n--- dvc stderr\n{dvc.stderr}")


def parse_json(proc: Proc) -> Any:
    text = proc.stdout.strip()
    if not text:
        raise AssertionError(f"{' '.join(proc.args)} printed nothing\n{proc.stderr}")
    try:
        return json.loads(text)
    except ValueError:
        raise AssertionError(f"{' '.join(proc.args)} printed no JSON:\n{proc.stdout}\n{proc.stderr}") from None


_RUNNING = re.compile(r"^Running stage '([^']+)'", re.M)


def dvc_ran(stdout: str) -> list[str]:
    """Stage addresses from dvc's ``Running stage 'x':`` lines, in order."""
    return _RUNNING.findall(stdout)


_DOT_EDGE = re.compile(r'^\s*"([^"]+)"\s*->\s*"([^"]+)"', re.M)
_DOT_NODE = re.compile(r'^\s*"([^"]+)"\s*;?\s*$', re.M)


def dot_graph(text: str) -> tuple[set[str], set[tuple[str, str]]]:
    """(nodes, edges) of a ``strict digraph`` as both tools print it with ``dag --dot``."""
    edges = set(_DOT_EDGE.findall(text))
    nodes = set(_DOT_NODE.findall(text)) | {n for e in edges for n in e}
    return nodes, edges


_MERMAID_NODE = re.compile(r'^\s*(node\d+)\["([^"]*)"\]', re.M)
_MERMAID_EDGE = re.compile(r"^\s*(node\d+)-->(node\d+)", re.M)


def mermaid_graph(text: str) -> tuple[set[str], set[tuple[str, str]]]:
    """(nodes, edges) of a mermaid ``flowchart TD`` by node label."""
    names = dict(_MERMAID_NODE.findall(text))
    edges = {(names[a], names[b]) for a, b in _MERMAID_EDGE.findall(text)}
    return set(names.values()), edges


_BOX = re.compile(r"\| (\S(?:.*?\S)?) \|")


def ascii_labels(text: str) -> set[str]:
    """The node labels of a ``dag`` drawing in boxes (``| name |``), as both tools draw them."""
    return set(_BOX.findall(text))


__all__ = [
    "SideBySide", "ascii_labels", "describe", "dot_graph", "dvc_ran", "mermaid_graph", "normalise", "oracle",
    "parse_json",
]
