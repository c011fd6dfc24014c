"""``repro``: run what changed, in dependency order, in parallel where the graph allows.

For each selected stage, once its upstream stages are done: compare with its lock entry; if it
changed, try the run cache, else remove its (non-persistent) outputs, run its command(s), hash and
cache the outputs, and only then write its lock entry. A failed stage changes no lock entry; the
stages that depend on it do not run; with ``keep_going`` every other branch still does.
"""

from __future__ import annotations

import os
import posixpath
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from labvault.errors import LabvaultError, PipelineError, from_os_error
from labvault.pipelines.dag import Graph
from labvault.pipelines.executors import Executor, LocalExecutor
from labvault.pipelines.lock import LockFile, content_dict, make_entry
from labvault.pipelines.runcache import RunCache, run_key
from labvault.pipelines.spec import Stage
from labvault.pipelines.status import Elsewhere, Inputs, StageStatus, stage_status
from labvault.pipelines.targets import load_graph, select
from labvault.workspace import readlog
from labvault.workspace.atrisk import save_uncached
from labvault.workspace.ignore import gitignore_add
from labvault.workspace.index import workspace_outputs
from labvault.workspace.prefetch import discard_listings
from labvault.workspace.repo import Repo
from labvault.workspace.safepath import guard_for
from labvault.workspace.scan import Content, Scanner
from labvault.workspace.used import out_remote

if TYPE_CHECKING:
    from labvault.remotes.transfer import TransferResult


@dataclass(frozen=True)
class ReproOptions:
    force: bool = False
    single_item: bool = False
    dry: bool = False
    downstream: bool = False
    recursive: bool = False
    pipeline: bool = False
    keep_going: bool = False
    jobs: int = 1
    run_cache: bool = True
    # a helper process lists deps and outs ahead of the checks (workspace.prefetch); opt-in
    read_ahead: bool = False
    all_pipelines: bool = False  # every stage, whatever the targets
    force_downstream: bool = False  # once a stage runs, every stage after it runs too
    glob: bool = False  # targets may hold shell wildcards, matched against stage names
    allow_missing: bool = False  # data missing from the workspace or cache is no change (status.stage_status)
    # a stage changed only by missing data gets its outputs from the default remote instead of
    # running; every stage first gets its missing inputs that `.dvc` files track
    pull: bool = False


@dataclass
class StageRun:
    address: str
    action: str  # ran | restored | pulled | unchanged | would-run | would-pull | failed | skipped | frozen
    reasons: tuple[str, ...] = ()
    message: str = ""
    seconds: float = 0.0
    # Wall-clock start and end (epoch seconds) of a stage that ran or was restored, for the catalog.
    started: float | None = None
    ended: float | None = None


@dataclass
class ReproResult:
    runs: list[StageRun] = field(default_factory=list)

    def by(self, action: str) -> list[str]:
        return [r.address for r in self.runs if r.action == action]

    @property
    def ok(self) -> bool:
        return not self.by("failed")


def select_stages(repo: Repo, g: Graph, targets: list[str] | None, opts: ReproOptions) -> list[str]:
    """The stages ``targets`` name, with what ``opts`` adds (upstream, downstream, the pipeline), in order."""
    return select(repo, g, targets, all_pipelines=opts.all_pipelines, glob=opts.glob, recursive=opts.recursive,
                  pipeline=opts.pipeline, downstream=opts.downstream, single_item=opts.single_item)


def _validate(repo: Repo, g: Graph, order: list[str], inputs: Inputs, allow_missing: bool = False) -> None:
    """Catch every input problem before anything runs (a missing dependency is none with
    ``allow_missing``: a stage that needs it and must run fails then, with its command's error)."""
    for a in order:
        s = g.stages[a]
        inputs.params(s)
        for d in s.deps if not allow_missing else ():
            if g.producer_of(d.rel) is None and not os.path.lexists(repo.abspath(d.rel)):
                raise PipelineError(
                    f"{s.dvcfile}: stage {a!r}: dependency {d.path} does not exist and no stage produces it",
                    "create it, or add the stage that writes it",
                )


class _Runner:
    def __init__(self, repo: Repo, g: Graph, opts: ReproOptions, executor: Executor,
                 elsewhere: Elsewhere | None = None) -> None:
        self.repo = repo
        self.g = g
        self.opts = opts
        self.executor = executor
        self.inputs = Inputs(repo, elsewhere)
        self.locks: dict[str, LockFile] = {}
        self.position: dict[str, int] = {}  # run order, so that new lock entries never depend on timing
        self.new_names: set[str] = set()
        self.run_cache = RunCache(repo.odb.cache_dir)
        # --force-downstream: stages after one that ran (added before any of them starts)
        self.forced: set[str] = set()
        self._pulling = threading.Lock()  # --pull: one download and checkout at a time
        self._pointer_hashes: dict[str, tuple[str | None, bool]] | None = None  # .dvc outputs, read once

    def lock_for(self, stage: Stage) -> LockFile:
        if stage.lockfile not in self.locks:
            self.locks[stage.lockfile] = LockFile(self.repo.abspath(stage.lockfile), self.repo.state)
        return self.locks[stage.lockfile]

    def status(self, stage: Stage) -> StageStatus:
        entry = self.lock_for(stage).get(stage.name)
        return stage_status(stage, entry, self.inputs, self.opts.allow_missing, self._upstream_hash)

    def _upstream_hash(self, rel: str) -> tuple[str | None, bool] | None:
        """What the stage or ``.dvc`` file producing exactly ``rel`` records for it now (a stage:
        after it ran in this repro, its new hash), as (md5 or None, legacy); None when nothing
        produces that path."""
        producer = self.g.producer_of(rel)
        if producer is not None:
            stage = self.g.stages[producer]
            for o in (self.lock_for(stage).get(stage.name) or {}).get("outs") or []:
                if isinstance(o, dict) and o.get("path") is not None:
                    path = posixpath.normpath(posixpath.join(stage.wdir, str(o["path"]))) if stage.wdir else o["path"]
                    if path == rel:
                        md5 = o.get("md5")
                        return (md5 if isinstance(md5, str) else None, "hash" not in o)
            return (None, False) if any(o.rel == rel for o in stage.outs) else None
        if self._pointer_hashes is None:
            wanted = {out for outs in self.g.pointers.values() for out in outs}
            self._pointer_hashes = {t.rel: (t.out.oid, t.out.legacy) for t in workspace_outputs(self.repo)
                                    if t.rel in wanted}
        return self._pointer_hashes.get(rel)

    # runs in a worker thread; returns (StageRun, lock entry or None)
    def run_stage(self, address: str) -> tuple[StageRun, dict[str, Any] | None]:
        import time

        start = time.monotonic()
        wall_start = time.time()
        stage = self.g.stages[address]
        if self.opts.pull and not self.opts.dry:
            self._pull_inputs(stage)  # as dvc pulls the `.dvc` data sources of what it reproduces
        st = self.status(stage)
        if st.frozen:
            return self._verify_frozen(stage, st)
        if not st.changed and not self.opts.force and address not in self.forced:
            return StageRun(address, "unchanged"), None
        reasons = st.reasons if st.changed else ("forced",) if address not in self.forced else ("an upstream stage ran",)
        if st.changed and self.opts.pull and not self.opts.force and address not in self.forced:
            entry = self.lock_for(stage).get(stage.name)
            if entry is not None and not stage_status(stage, entry, self.inputs, True, self._upstream_hash).changed:
                if self.opts.dry:
                    return StageRun(address, "would-pull", reasons), None
                why = self._pull_outputs(stage, entry)
                if why is None:
                    return StageRun(address, "pulled", reasons, seconds=time.monotonic() - start), None
                reasons = (*reasons, f"not pulled: {why}")
        if self.opts.dry:
            return StageRun(address, "would-run", reasons), None
        deps = [(d.path, self._content(d.rel, d.path, stage)) for d in stage.deps]
        params = self.inputs.params(stage)
        dep_dicts = [content_dict(p, c) for p, c in deps]
        cacheable = self.opts.run_cache and not stage.always_changed and all(o.cache for o in stage.outs) and stage.outs
        key = run_key(stage.cmd, dep_dicts, params, [o.path for o in stage.outs])
        if cacheable and not self.opts.force:
            hit = self.run_cache.get(key)
            if hit is not None and self._restore(stage, hit):
                entry = make_entry(stage.cmd, deps, params, self._out_contents(stage, hit))
                return StageRun(address, "restored", reasons, seconds=time.monotonic() - start,
                                started=wall_start, ended=time.time()), entry
        self._clear_outs(stage)
        cwd = str(self.repo.abspath(stage.wdir)) if stage.wdir else str(self.repo.root)
        env = dict(os.environ)
        reads = readlog.log_path(self.repo.tmp_dir, address)  # what labvault.open reads, for the lineage
        readlog.start(reads)
        env[readlog.ENV] = str(reads)
        for cmd in stage.commands:
            self.repo.progress.message(f"running stage {address}: {cmd}")
            code, tail = self.executor.run(cmd, cwd, env)
            if code != 0:
                return StageRun(address, "failed", reasons, f"`{cmd}` exited with {code}\n{tail}".rstrip()), None
        self.inputs.forget()
        outs, missing = self._save_outs(stage)
        if missing is not None:
            return StageRun(address, "failed", reasons, f"the command did not produce output {missing}"), None
        entry = make_entry(stage.cmd, deps, params, outs)
        if cacheable:
            self.run_cache.put(key, entry.get("outs", []))
        return StageRun(address, "ran", reasons, seconds=time.monotonic() - start,
                        started=wall_start, ended=time.time()), entry

    def _save_outs(self, stage: Stage) -> tuple[list[tuple[str, Content]], str | None]:
        """Hash (and cache) the stage's outputs as they are now; the first missing one, if any."""
        outs: list[tuple[str, Content]] = []
        for o in stage.outs:
            content = Scanner(self.repo, store=o.cache).scan(o.rel)
            if content is None:
                return outs, o.path
            outs.append((o.path, content))
            if o.cache and self.repo.linker().types[0] in ("symlink", "hardlink"):
                from labvault.workspace.checkout import relink_output

                relink_output(self.repo, o.rel, content)
        if any(o.cache for o in stage.outs) and self.repo.fsync:
            self.repo.odb.sync()
        return outs, None

    def _verify_frozen(self, stage: Stage, st: StageStatus) -> tuple[StageRun, dict[str, Any] | None]:
        """A frozen stage never runs. Unchanged (or changed only in deps and params, which a frozen
        stage does not look at): skipped. Otherwise, as DVC does, its outputs must all be there:
        they are then recorded in dvc.lock as they are; a missing one fails the stage."""
        if not st.changed and not self.opts.force:
            return StageRun(stage.address, "frozen", st.reasons), None
        if self.opts.dry:
            return StageRun(stage.address, "would-run", st.reasons), None
        for o in stage.outs:
            if self.inputs.content(o.rel) is None:
                return StageRun(
                    stage.address, "failed", st.reasons,
                    f"output {o.path} of frozen stage is missing: restore it, or unfreeze the stage "
                    "(`frozen: false` in dvc.yaml) to run it",
                ), None
        deps = [(d.path, self._content(d.rel, d.path, stage)) for d in stage.deps]
        params = self.inputs.params(stage)
        self.inputs.forget()
        outs, missing = self._save_outs(stage)
        if missing is not None:  # removed while being read
            return StageRun(stage.address, "failed", st.reasons, f"output {missing} of frozen stage is missing"), None
        entry = make_entry(stage.cmd, deps, params, outs)
        return StageRun(stage.address, "frozen", (*st.reasons, "outputs verified, dvc.lock updated")), entry

    def _content(self, rel: str, path: str, stage: Stage) -> Content:
        c = self.inputs.content(rel)
        if c is None:
            raise PipelineError(f"{stage.dvcfile}: stage {stage.address!r}: dependency {path} does not exist")
        return c

    def _clear_outs(self, stage: Stage) -> None:
        # The workspace changes from here on: what was read of it before is out of date.
        discard_listings()
        self.inputs.forget()
        guard = guard_for(self.repo)
        for o in stage.outs:  # every output checked before any is deleted
            p = str(self.repo.abspath(o.rel))
            guard.check_output(o.rel, os.path.isdir(p) and not os.path.islink(p))
        # A cached output's current content that is not in the cache is the only copy (an edit,
        # a lost object, what a failed run left): it is stored before the output is deleted.
        doomed = [o.rel for o in stage.outs if o.cache and not o.persist]
        for rel, oid in save_uncached(self.repo, doomed):
            where = self.repo.odb.oid_path(oid)
            self.repo.progress.message(
                f"warning: {rel} held content that was in no cache; saved as {oid} ({where}) before "
                "the stage replaces it"
            )
        for o in stage.outs:
            if o.persist:
                continue
            p = str(self.repo.abspath(o.rel))
            try:
                if os.path.isdir(p) and not os.path.islink(p):
                    import shutil

                    shutil.rmtree(p)
                elif os.path.lexists(p):
                    os.unlink(p)
            except OSError as exc:
                raise from_os_error(exc, "removing an old output") from exc
            self.repo.state.forget(o.rel)

    def _pull_outputs(self, stage: Stage, entry: dict[str, Any]) -> str | None:
        """``--pull``: bring the stage's outputs as its lock entry records them from their remote
        (the one dvc.yaml binds each to, else the default; verified into the cache, then checked
        out); None when done, else why not."""
        outs = [o for o in entry.get("outs") or [] if isinstance(o, dict)]
        recorded = {o.get("path"): o for o in outs}
        if any(not o.cache for o in stage.outs):
            return "an output is not cached"
        refs: dict[str | None, set[tuple[str, bool]]] = {}
        for o in stage.outs:
            rec = recorded.get(o.path)
            if rec is None or not isinstance(rec.get("md5"), str) or "hash" not in rec:
                return f"{o.path}: no md5 of this dvc version in dvc.lock"
            refs.setdefault(out_remote(o.flags), set()).add((rec["md5"], False))
        with self._pulling:
            try:
                got = self._fetch(refs)
            except LabvaultError as exc:
                return exc.line()
            if not got.ok:
                return f"the remote lacks {len(got.missing_remote)} object(s)" if got.missing_remote else \
                    "; ".join([*got.corrupt, *got.failed][:3]) or "download failed"
            if not self._restore(stage, outs):
                return "objects still missing after the download"
        return None

    def _fetch(self, refs: dict[str | None, set[tuple[str, bool]]]) -> TransferResult:
        """Objects into the cache, each group from its remote (None: the default), as push routes
        them; every remote is opened before anything is fetched."""
        from labvault.remotes.transfer import TransferResult, fetch
        from labvault.workspace.remotes import open_remote

        stores = [(open_remote(self.repo, name), group) for name, group in refs.items()]
        got = TransferResult()
        for store, group in stores:
            got.add(fetch(self.repo.odb, store, group, self.repo.progress))
        return got

    def _complete(self, oid: str) -> bool:
        """The object, and for a folder every object its manifest names, is in the cache."""
        odb = self.repo.odb
        if not odb.exists(oid):
            return False
        if not oid.endswith(".dir"):
            return True
        tree = odb.try_load_tree(oid)
        return tree is not None and all(odb.exists(c) for _, c in tree)

    def _pull_inputs(self, stage: Stage) -> None:
        """``--pull``, before a stage is looked at: its missing inputs that `.dvc` files track (no
        stage produces them) come from their remote (a bound one, else the default); what cannot
        be pulled is left to the command to miss."""
        from labvault.workspace.checkout import checkout_objects
        from labvault.workspace.index import workspace_outputs

        missing = {d.rel for d in stage.deps
                   if self.g.producer_of(d.rel) is None and not os.path.lexists(self.repo.abspath(d.rel))}
        if not missing:
            return
        with self._pulling:
            chosen = [t for t in workspace_outputs(self.repo)
                      if t.rel in missing and t.out.oid and t.out.use_cache and not t.out.legacy
                      and not os.path.lexists(self.repo.abspath(t.rel))]
            tracked = [(t.rel, t.out.oid or "") for t in chosen]
            if not tracked:
                return
            by_remote: dict[str | None, set[tuple[str, bool]]] = {}
            for t in chosen:
                by_remote.setdefault(out_remote(t.out.extra), set()).add((t.out.oid or "", False))
            try:
                self._fetch(by_remote)
            except LabvaultError as exc:
                self.repo.progress.message(f"warning: inputs of {stage.address} not pulled: {exc.line()}")
                return
            ready = [(rel, oid) for rel, oid in tracked if self._complete(oid)]
            if ready:
                checkout_objects(self.repo, ready)
                discard_listings()
                self.inputs.forget()

    def _restore(self, stage: Stage, outs: list[dict[str, Any]]) -> bool:
        from labvault.workspace.checkout import check_objects, checkout_objects

        recorded = {o.get("path"): o for o in outs if isinstance(o, dict)}
        wanted = []
        for o in stage.outs:
            rec = recorded.get(o.path)
            if rec is None or not isinstance(rec.get("md5"), str):
                return False
            oid = rec["md5"]
            if not self.repo.odb.exists(oid):
                return False
            if oid.endswith(".dir"):
                tree = self.repo.odb.try_load_tree(oid)
                if tree is None or not all(self.repo.odb.exists(c) for _, c in tree):
                    return False
            wanted.append((o.rel, oid))
        check_objects(self.repo, wanted)
        self._clear_outs(stage)
        checkout_objects(self.repo, wanted)
        return True

    def _out_contents(self, stage: Stage, outs: list[dict[str, Any]]) -> list[tuple[str, Content]]:
        recorded = {o["path"]: o for o in outs}
        result = []
        for o in stage.outs:
            rec = recorded[o.path]
            result.append((o.path, Content(rec["md5"], int(rec.get("size", 0)), rec.get("nfiles"), bool(rec.get("isexec")), None)))
        return result

    def record(self, stage: Stage, entry: dict[str, Any]) -> None:
        lock = self.lock_for(stage)
        if lock.get(stage.name) is None:
            lock.set(stage.name, entry)
            # New entries follow the run order, whichever parallel stage finished first.
            self.new_names.add(stage.name)
            old = [n for n in lock.stages if n not in self.new_names]
            new = sorted(
                (n for n in lock.stages if n in self.new_names),
                key=lambda n: self.position.get(f"{stage.dvcfile}:{n}", 1 << 30),
            )
            lock.stages = {n: lock.stages[n] for n in [*old, *new]}
        else:
            lock.set(stage.name, entry)
        lock.save()
        if self.repo.scm is not None:
            for o in stage.outs:
                if o.cache:
                    out_abs = self.repo.abspath(o.rel)
                    gitignore_add(out_abs.parent, out_abs.name)


def repro(
    repo: Repo,
    targets: list[str] | None,
    opts: ReproOptions,
    executor: Executor | None = None,
    on_event: Callable[[StageRun], None] | None = None,
    elsewhere: Elsewhere | None = None,
) -> ReproResult:
    """``elsewhere``: see ``pipelines.status.Inputs`` (objects on a spill tier count as cached)."""
    g = load_graph(repo)
    order = select_stages(repo, g, targets, opts)
    executor = executor or LocalExecutor()
    runner = _Runner(repo, g, opts, executor, elsewhere)
    runner.position = {f"{g.stages[a].dvcfile}:{g.stages[a].name}": i for i, a in enumerate(order)}
    _validate(repo, g, order, runner.inputs, opts.allow_missing or opts.pull)
    result = ReproResult()
    chosen = set(order)
    with repo.locked():
        # Read before the lock was ours: params files may have changed while we waited (listings
        # taken before then are dropped by the lock itself, workspace.prefetch.lock_taken).
        runner.inputs.forget_params()
        runner.inputs.prefetch([g.stages[a] for a in order], opts.read_ahead)
        pending = list(order)
        finished: set[str] = set()
        broken: set[str] = set()
        from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

        running: dict[Future[tuple[StageRun, dict[str, Any] | None]], str] = {}
        pool = ThreadPoolExecutor(max_workers=max(1, opts.jobs))
        try:
            while pending or running:
                for a in list(pending):
                    ups = g.upstream[a] & chosen
                    if ups & broken:
                        pending.remove(a)
                        broken.add(a)
                        run = StageRun(a, "skipped", message="an upstream stage failed")
                        result.runs.append(run)
                        if on_event:
                            on_event(run)
                        continue
                    if ups <= finished and len(running) < max(1, opts.jobs):
                        pending.remove(a)
                        running[pool.submit(runner.run_stage, a)] = a
                if not running:
                    break
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for fut in done:
                    a = running.pop(fut)
                    try:
                        run, entry = fut.result()
                    except LabvaultError:
                        raise
                    if entry is not None:
                        runner.record(g.stages[a], entry)
                    result.runs.append(run)
                    if on_event:
                        on_event(run)
                    if opts.force_downstream and run.action in ("ran", "restored", "would-run"):
                        runner.forced |= g.descendants(a)
                    if run.action == "failed":
                        broken.add(a)
                        if not opts.keep_going:
                            pending.clear()
                    else:
                        finished.add(a)
        except BaseException:
            executor.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            pool.shutdown(wait=True)
            runner.inputs.close()
    return result


def pipeline_status(repo: Repo, targets: list[str] | None = None, read_ahead: bool = False,
                    elsewhere: Elsewhere | None = None) -> list[StageStatus]:
    g = load_graph(repo, strict=False)  # dvc's status reports pipelines its dag and repro refuse
    order = select_stages(repo, g, targets, ReproOptions())
    runner = _Runner(repo, g, ReproOptions(), LocalExecutor(), elsewhere)
    # The stages are checked in order; with read_ahead a helper process lists their deps and
    # outs from the other end.
    runner.inputs.prefetch([g.stages[a] for a in order], read_ahead)
    try:
        return [runner.status(g.stages[a]) for a in order]
    finally:
        runner.inputs.close()
