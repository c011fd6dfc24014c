"""The stage graph: which stage produces each output, which stages feed each other, in what order.

Refuses (naming file, stage and path) two stages writing one output, an output inside another's,
an output also tracked by a ``.dvc`` file, and cycles.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from labvault.errors import PipelineError
from labvault.pipelines.spec import Stage


def paths_overlap(a: str, b: str) -> bool:
    """Whether repo paths ``a`` and ``b`` are the same or one is inside the other."""
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


def _parents(rel: str) -> Iterator[str]:
    """``a/b/c`` -> ``a/b``, ``a``."""
    while "/" in rel:
        rel = rel.rpartition("/")[0]
        yield rel


class _PathIndex:
    """Paths with a value each, answering "which one equals, contains or is inside this path"
    in time proportional to the path's depth, not to how many paths are held."""

    def __init__(self) -> None:
        self.exact: dict[str, str] = {}
        self.below: dict[str, list[str]] = {}  # a folder -> the held paths inside it, in insertion order

    def add(self, rel: str, value: str) -> None:
        self.exact[rel] = value
        for p in _parents(rel):
            self.below.setdefault(p, []).append(rel)

    def overlapping(self, rel: str) -> str | None:
        """A held path overlapping ``rel``: itself, a folder holding it, or one inside it."""
        if rel in self.exact:
            return rel
        for p in _parents(rel):
            if p in self.exact:
                return p
        inside = self.below.get(rel)
        return inside[0] if inside else None

    def all_overlapping(self, rel: str) -> list[str]:
        """Every held path overlapping ``rel``: itself or the folders holding it (nearest first),
        then the held paths inside it (in insertion order)."""
        found = [rel] if rel in self.exact else []
        found += [p for p in _parents(rel) if p in self.exact]
        return found + self.below.get(rel, [])


@dataclass
class Graph:
    stages: dict[str, Stage]
    producer: dict[str, str] = field(default_factory=dict)  # out rel -> stage address
    upstream: dict[str, set[str]] = field(default_factory=dict)
    downstream: dict[str, set[str]] = field(default_factory=dict)
    outs: _PathIndex = field(default_factory=_PathIndex)
    # ``.dvc`` files: pointer file -> its outputs, and -> the stages depending on (part of) them
    pointers: dict[str, list[str]] = field(default_factory=dict)
    pointer_users: dict[str, set[str]] = field(default_factory=dict)

    def producer_of(self, rel: str) -> str | None:
        """A stage whose output is ``rel`` or contains it, or is inside it."""
        out = self.outs.overlapping(rel)
        return None if out is None else self.producer[out]

    def producers_of(self, rel: str) -> list[str]:
        """Every stage whose output is ``rel``, contains it or is inside it (a dependency on a folder
        needs each stage writing something in it), without repeats, nearest first."""
        return list(dict.fromkeys(self.producer[o] for o in self.outs.all_overlapping(rel)))

    def order(self, subset: Iterable[str] | None = None) -> list[str]:
        """Stages of ``subset`` (default: all) in definition order, each right after what it needs
        (the order DVC runs and locks them in)."""
        chosen = set(self.stages if subset is None else subset)
        position = {a: i for i, a in enumerate(self.stages)}
        out: list[str] = []
        done: set[str] = set()

        def visit(a: str) -> None:
            if a in done:
                return
            done.add(a)
            for u in sorted(self.upstream[a] & chosen, key=position.__getitem__):
                visit(u)
            out.append(a)

        for a in self.stages:
            if a in chosen:
                visit(a)
        return out

    def ancestors(self, addr: str) -> set[str]:
        seen: set[str] = set()
        stack = [addr]
        while stack:
            for u in self.upstream[stack.pop()]:
                if u not in seen:
                    seen.add(u)
                    stack.append(u)
        return seen

    def descendants(self, addr: str) -> set[str]:
        seen: set[str] = set()
        stack = [addr]
        while stack:
            for d in self.downstream[stack.pop()]:
                if d not in seen:
                    seen.add(d)
                    stack.append(d)
        return seen

    def component(self, addr: str) -> set[str]:
        seen = {addr}
        stack = [addr]
        while stack:
            cur = stack.pop()
            for n in self.upstream[cur] | self.downstream[cur]:
                if n not in seen:
                    seen.add(n)
                    stack.append(n)
        return seen


def build_graph(stages: list[Stage], tracked: Iterable[tuple[str, str]] = (), strict: bool = True) -> Graph:
    """The graph of ``stages``; ``tracked`` holds (output, ``.dvc`` file) of each output tracked by a
    ``.dvc`` file, drawn as nodes by ``dag`` and never written by a stage. ``strict=False`` (what
    ``status`` reads, as dvc's status does) lets overlapping outputs, an output a ``.dvc`` file
    tracks, a stage depending on its own output (no edge) and cycles pass."""
    g = Graph({})
    for s in stages:
        if s.address in g.stages:
            raise PipelineError(f"{s.dvcfile}: stage {s.name!r} is defined twice")
        g.stages[s.address] = s
        g.upstream[s.address] = set()
        g.downstream[s.address] = set()
    known = _PathIndex()
    for out, pointer in tracked:
        known.add(out, pointer)
        g.pointers.setdefault(pointer, []).append(out)
        g.pointer_users.setdefault(pointer, set())
    for s in stages:
        for o in s.outs:
            other = g.outs.overlapping(o.rel)
            if other is not None and strict:
                addr = g.producer[other]
                what = "both write" if o.rel == other else "write overlapping outputs"
                raise PipelineError(
                    f"{s.dvcfile}: stages {addr!r} and {s.address!r} {what} {o.rel if o.rel == other else o.rel + ' / ' + other}",
                    "each output must come from exactly one stage",
                )
            held = known.overlapping(o.rel)
            if held is not None and strict:
                raise PipelineError(
                    f"{s.dvcfile}: stage {s.address!r} writes {o.rel}, which a .dvc file already tracks ({held})",
                    f"stop tracking it with `labvault remove {held}.dvc`",
                )
            g.producer[o.rel] = s.address
            g.outs.add(o.rel, s.address)
    for s in stages:
        for d in s.deps:
            for p in g.producers_of(d.rel):
                if p == s.address:
                    if not strict:
                        continue
                    raise PipelineError(f"{s.dvcfile}: stage {s.address!r} depends on its own output {d.rel}")
                g.upstream[s.address].add(p)
                g.downstream[p].add(s.address)
            for out in known.all_overlapping(d.rel):
                g.pointer_users[known.exact[out]].add(s.address)
    if strict:
        _check_cycles(g)
    return g


def _check_cycles(g: Graph) -> None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(a: str) -> None:
        state[a] = 1
        path.append(a)
        for u in sorted(g.upstream[a]):
            if state.get(u) == 1:
                cycle = [*path[path.index(u) :], u]
                raise PipelineError(
                    f"{g.stages[a].dvcfile}: the stages form a cycle: {' -> '.join(reversed(cycle))}",
                    "a stage may not depend, directly or not, on its own outputs",
                )
            if u not in state:
                visit(u)
        path.pop()
        state[a] = 2

    for a in g.stages:
        if a not in state:
            visit(a)
