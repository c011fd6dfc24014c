"""A guided tour of labvault, run by ``make demo``.

It builds a small project in a fresh temporary folder (printed at the start and kept afterwards
unless ``--cleanup`` is given), then walks through the everyday workflow: track a dataset, tag a
version, change the data, inspect the change, record it, travel back to the old version and prove
that every byte came back, and finally clean the cache safely.

Every command is run as a subprocess through the installed ``labvault`` console script, printed
before it runs (``$ labvault add data/images``), and followed by its output. After each step the
tour checks what the command did and prints what it found. The tour exits non-zero as soon as a
command fails or a check does not hold.

Only the standard library is used, so the tour also shows exactly what a user would type.

Extending the tour: write a function ``def step_something(tour: Tour) -> None`` that opens a
``with tour.section("...")`` block, uses ``tour.labvault(...)``, ``tour.git(...)``,
``tour.check(...)`` and ``tour.found(...)`` (the runner is in ``demo/tourkit.py``). A topic of its
own (tiers, backups, loaders) goes in a module ``demo/tour_<topic>.py`` with a list ``STEPS``,
added to ``STEPS`` below. Values that later steps need (snapshots, object ids) go in ``tour.state``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tour_access
import tour_backup
import tour_loaders
import tour_tiers
from tourkit import (
    Tour,
    TourFailure,
    compact_json,
    compare,
    head,
    md5_file,
    parse_json,
    pointer_oids,
    print_block,
)

# --------------------------------------------------------------------------------------------
# Synthetic data
# --------------------------------------------------------------------------------------------

PRODUCTS = ["headphones", "keyboard", "monitor", "backpack", "kettle", "lamp", "tent", "blender"]
GOOD = ["great", "excellent", "solid", "lovely", "reliable", "sturdy", "quiet", "bright"]
BAD = ["flimsy", "noisy", "disappointing", "broken", "slow", "dim", "awkward", "overpriced"]
CLASSES = ["cat", "dog", "bird"]


def review_row(rng: random.Random, i: int) -> str:
    rating = rng.randint(1, 5)
    words = GOOD if rating >= 3 else BAD
    product = rng.choice(PRODUCTS)
    text = f"{rng.choice(words)} {product}, {rng.choice(words)} build, would {'' if rating >= 3 else 'not '}buy again"
    return f'{i},{product},{rating},"{text}",{rng.randint(0, 400)}'


def write_reviews(path: Path, rows: int, rng: random.Random) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["review_id,product,rating,text,helpful_votes"]
    lines += [review_row(rng, i) for i in range(1, rows + 1)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def fake_image(rng: random.Random) -> bytes:
    """A few KB of noise behind a PNG signature: stands in for a real image."""
    return b"\x89PNG\r\n\x1a\n" + rng.randbytes(rng.randint(512, 4096))


def write_images(top: Path, count: int, rng: random.Random) -> list[str]:
    written = []
    for i in range(count):
        split = "train" if i % 5 else "val"
        rel = f"{split}/{CLASSES[i % len(CLASSES)]}/img_{i:05d}.png"
        target = top / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(fake_image(rng))
        written.append(rel)
    return written


# --------------------------------------------------------------------------------------------
# The steps
# --------------------------------------------------------------------------------------------

CSV = "data/raw/dataset.csv"
IMAGES = "data/images"
SCRATCH = "data/scratch"


def step_setup(tour: Tour) -> None:
    with tour.section("Create a project: git init, labvault init"):
        tour.labvault("version")
        tour.git("init", "-q", "-b", "main")
        tour.labvault("init")
        tour.check((tour.root / ".dvc" / "config").is_file(), ".dvc/config exists after init")
        tour.check((tour.root / ".dvcignore").is_file(), ".dvcignore exists after init")
        staged = tour.git("diff", "--cached", "--name-only").split()
        tour.check(".dvc/config" in staged, "labvault init staged .dvc/config in git")
        tour.git("commit", "-q", "-m", "Initialize labvault")
        tour.found(f"a DVC-format repo, with {', '.join(sorted(staged))} committed to git")


def step_generate(tour: Tour) -> None:
    rows, images = tour.state["rows"], tour.state["images"]
    with tour.section("Generate a small dataset"):
        rng = random.Random(tour.state["seed"])
        write_reviews(tour.path(CSV), rows, rng)
        names = write_images(tour.path(IMAGES), images, rng)
        tour.state["rng"] = rng
        size = sum(p.stat().st_size for p in tour.path("data").rglob("*") if p.is_file())
        tour.found(
            f"{CSV}: {rows} synthetic reviews; {IMAGES}/: {len(names)} images in "
            f"{len({str(Path(n).parent) for n in names})} folders ({size / 1e6:.1f} MB in all)"
        )


def step_track_v1(tour: Tour) -> None:
    with tour.section("Track the data and tag v1.0"):
        tour.labvault("add", CSV)
        tour.labvault("add", IMAGES)
        for pointer in (f"{CSV}.dvc", f"{IMAGES}.dvc"):
            tour.check(tour.path(pointer).is_file(), f"{pointer} written")
        tour.check(
            "/dataset.csv" in tour.path("data/raw/.gitignore").read_text().split(),
            "data/raw/.gitignore lists /dataset.csv",
        )
        tour.check(
            "/images" in tour.path("data/.gitignore").read_text().split(),
            "data/.gitignore lists /images",
        )
        print(f"$ cat {IMAGES}.dvc")
        print_block(tour.path(f"{IMAGES}.dvc").read_text())
        tour.git("add", f"{CSV}.dvc", "data/raw/.gitignore", f"{IMAGES}.dvc", "data/.gitignore")
        tour.git("commit", "-q", "-m", "Dataset v1.0")
        tour.git("tag", "v1.0")
        status = tour.labvault_json("status")
        tour.check(status.get("clean") is True, "status is clean right after add")
        v1 = tour.snapshot(CSV, IMAGES)
        tour.state["v1"] = v1
        tour.state["objects_v1"] = tour.cache_objects()
        tour.found(
            f"v1.0 tagged: {len(v1)} files tracked by 2 small .dvc files; "
            f"{len(tour.state['objects_v1'])} objects in .dvc/cache"
        )


def step_change(tour: Tour) -> None:
    rng: random.Random = tour.state["rng"]
    with tour.section("Change the data, then ask labvault what changed"):
        lines = tour.path(CSV).read_text(encoding="utf-8").splitlines()
        edited = rng.sample(range(1, len(lines)), 25)
        for n in edited:
            review_id = lines[n].split(",", 1)[0]
            lines[n] = f'{review_id},kettle,1,"relabelled after audit",0'
        tour.path(CSV).write_text("\n".join(lines) + "\n", encoding="utf-8")

        existing = sorted(
            p.relative_to(tour.path(IMAGES)).as_posix()
            for p in tour.path(IMAGES).rglob("*")
            if p.is_file()
        )
        picked = rng.sample(existing, 18)
        deleted, modified = sorted(picked[:12]), sorted(picked[12:])
        for rel in deleted:
            tour.path(f"{IMAGES}/{rel}").unlink()
        for rel in modified:
            tour.path(f"{IMAGES}/{rel}").write_bytes(fake_image(rng))
        added = []
        for i in range(24):
            rel = f"train/fox/img_{i:05d}.png"
            tour.path(f"{IMAGES}/{rel}").parent.mkdir(parents=True, exist_ok=True)
            tour.path(f"{IMAGES}/{rel}").write_bytes(fake_image(rng))
            added.append(rel)
        tour.say(
            f"edited {len(edited)} rows of {CSV}; in {IMAGES}/ added {len(added)} images "
            f"(a new class, train/fox), deleted {len(deleted)}, rewrote {len(modified)}"
        )

        tour.labvault("status", render=head(12))
        status = tour.labvault_json("status")
        tour.check(status.get("clean") is False, "status reports the workspace as dirty")
        outs = {o["path"]: o for o in status.get("outputs", [])}
        tour.check(outs.get(CSV, {}).get("status") == "modified", f"{CSV} is reported modified")
        img = outs.get(IMAGES, {})
        tour.check(img.get("status") == "modified", f"{IMAGES} is reported modified")
        tour.check(sorted(img.get("added", [])) == added, "status lists exactly the added images")
        tour.check(
            sorted(img.get("deleted", [])) == deleted, "status lists exactly the deleted images"
        )
        tour.check(
            sorted(img.get("modified", [])) == modified, "status lists exactly the rewritten images"
        )

        tour.labvault("diff", render=head(12))
        tour.state["changes"] = {"added": added, "deleted": deleted, "modified": modified}
        check_diff(tour, tour.labvault_json("diff"), "diff HEAD..workspace")
        tour.found(
            f"status and diff agree: {len(added)} added, {len(deleted)} deleted, "
            f"{len(modified) + 1} modified files (the CSV and {len(modified)} images)"
        )


def diff_files(doc: dict[str, Any]) -> dict[str, set[str]]:
    """File paths per kind from diff JSON (entries for whole directories, ending in "/", dropped)."""
    return {
        kind: {e["path"] for e in doc.get(kind, []) if not e["path"].endswith("/")}
        for kind in ("added", "deleted", "modified")
    }


def check_diff(tour: Tour, doc: dict[str, Any], what: str) -> None:
    """Check a diff report against the changes the tour made between v1.0 and v2.0."""
    changes = tour.state["changes"]
    want = {
        "added": {f"{IMAGES}/{r}" for r in changes["added"]},
        "deleted": {f"{IMAGES}/{r}" for r in changes["deleted"]},
        "modified": {f"{IMAGES}/{r}" for r in changes["modified"]} | {CSV},
    }
    got = diff_files(doc)
    for kind in want:
        tour.check(
            got[kind] == want[kind],
            f"{what} lists exactly the {kind} files (missing {sorted(want[kind] - got[kind])[:3]}, "
            f"extra {sorted(got[kind] - want[kind])[:3]})",
        )


def step_track_v2(tour: Tour) -> None:
    with tour.section("Record the new version and tag v2.0"):
        tour.say(
            "`add` again re-hashes a target; `commit` records every tracked output (or the named ones)"
        )
        tour.labvault("add", CSV)
        tour.labvault("commit", IMAGES)
        status = tour.labvault_json("status")
        tour.check(status.get("clean") is True, "status is clean after add/commit")
        tour.git("add", f"{CSV}.dvc", f"{IMAGES}.dvc")
        tour.git("commit", "-q", "-m", "Dataset v2.0")
        tour.git("tag", "v2.0")
        tour.git("log", "--oneline", "--decorate")
        v2 = tour.snapshot(CSV, IMAGES)
        tour.state["v2"] = v2
        tour.check(v2 != tour.state["v1"], "v2.0 differs from v1.0")
        tour.labvault("diff", "v1.0", "v2.0", render=head(8))
        check_diff(tour, tour.labvault_json("diff", "v1.0", "v2.0"), "diff v1.0 v2.0")
        new_objects = tour.cache_objects() - tour.state["objects_v1"]
        tour.found(
            f"v2.0 tagged: {len(v2)} files; the cache grew by only {len(new_objects)} objects "
            "(unchanged files are stored once)"
        )


def step_time_travel(tour: Tour) -> None:
    with tour.section("Travel back to v1.0 and prove every byte came back"):
        tour.git("checkout", "-q", "v1.0")
        tour.labvault("checkout")
        problems = compare(tour.state["v1"], tour.snapshot(CSV, IMAGES))
        tour.check(not problems, f"workspace equals v1.0 ({problems[:5]})")
        tour.check(tour.labvault_json("status").get("clean") is True, "status is clean at v1.0")
        tour.found(f"v1.0 restored: {len(tour.state['v1'])} files match byte for byte (by md5)")

        tour.git("checkout", "-q", "main")
        tour.labvault("checkout")
        problems = compare(tour.state["v2"], tour.snapshot(CSV, IMAGES))
        tour.check(not problems, f"workspace equals v2.0 ({problems[:5]})")
        tour.found(f"back on main: {len(tour.state['v2'])} files match v2.0 byte for byte")


def step_safety(tour: Tour) -> None:
    with tour.section("Checkout never silently destroys uncommitted work"):
        target = tour.path(CSV)
        with target.open("a", encoding="utf-8") as f:
            f.write('999999,lamp,5,"an edit nobody recorded yet",0\n')
        edited = md5_file(target)
        tour.say(f"appended a row to {CSV} without recording it, then asked for a checkout")
        tour.labvault("checkout", expect=4)
        tour.check(md5_file(target) == edited, "the unrecorded edit is still there")
        tour.found("checkout refused (exit 4) and left the edit alone")
        tour.say("--force discards the edit on purpose")
        tour.labvault("checkout", "--force")
        tour.check(md5_file(target) == tour.state["v2"][CSV], f"{CSV} is back to v2.0")
        tour.found(f"{CSV} matches v2.0 again")


def step_list_verify(tour: Tour) -> None:
    with tour.section("List tracked outputs and verify the cache"):
        tour.labvault("list")
        listing = {e["path"]: e for e in tour.labvault_json("list")}
        tour.check(set(listing) == {CSV, IMAGES}, "list shows the two tracked outputs")
        v2_images = [p for p in tour.state["v2"] if p.startswith(IMAGES + "/")]
        tour.check(listing[IMAGES].get("is_dir") is True, f"{IMAGES} is a directory output")
        tour.check(
            listing[IMAGES].get("nfiles") == len(v2_images),
            f"{IMAGES} holds {len(v2_images)} files (list says {listing[IMAGES].get('nfiles')})",
        )
        tour.check(
            listing[CSV].get("size") == tour.path(CSV).stat().st_size,
            f"{CSV} size matches the file",
        )
        tour.labvault("verify")
        report = tour.labvault_json("verify")
        tour.check(
            not report.get("corrupt") and not report.get("missing"), "no corrupt or missing objects"
        )
        tour.check(
            report.get("checked") == len(tour.cache_objects()),
            f"verify re-hashed all {len(tour.cache_objects())} objects (it says {report.get('checked')})",
        )
        tour.found(f"{report['checked']} cache objects re-hashed, all intact")


def step_gc(tour: Tour) -> None:
    rng: random.Random = tour.state["rng"]
    with tour.section("Garbage-collect objects nothing uses any more"):
        tour.say(f"track a scratch folder, {SCRATCH}/, then stop tracking it and delete it")
        write_images(tour.path(SCRATCH), 10, rng)
        before = tour.cache_objects()
        tour.labvault("add", SCRATCH)
        scratch_objects = tour.cache_objects() - before
        tour.labvault("remove", f"{SCRATCH}.dvc", "--outs")
        tour.check(not tour.path(SCRATCH).exists(), f"{SCRATCH} deleted by remove --outs")
        tour.check(not tour.path(f"{SCRATCH}.dvc").exists(), f"{SCRATCH}.dvc removed")

        tour.say("a plain gc keeps only what the workspace uses: it would also drop v1.0's data")
        tour.labvault("gc", "--dry-run")
        plain = tour.labvault_json("gc", "--dry-run")
        v1_only = tour.state["objects_v1"] - tour.state["v2_objects"]
        tour.check(
            v1_only <= set(plain.get("objects", [])),
            "a plain gc would remove the objects only v1.0 uses",
        )
        tour.check(tour.cache_objects() == before | scratch_objects, "a dry run removes nothing")

        tour.say("with --all-tags, v1.0 and v2.0 are kept and only the scratch objects go")
        tour.labvault("gc", "--all-tags", "--dry-run")
        plan = tour.labvault_json("gc", "--all-tags", "--dry-run")
        tour.check(plan.get("dry_run") is True, "the JSON report says dry_run")
        tour.check(
            set(plan.get("objects", [])) == scratch_objects,
            f"the plan is exactly the {len(scratch_objects)} scratch objects",
        )
        cache_before = tour.cache_objects()
        tour.labvault("gc", "--all-tags", "--force")
        removed = cache_before - tour.cache_objects()
        tour.check(removed == scratch_objects, "gc removed exactly the planned objects")
        for tag in ("v1.0", "v2.0"):
            needed = referenced_objects(tour, tag)
            missing = [oid for oid in needed if not tour.cache_path(oid).is_file()]
            tour.check(not missing, f"every object of {tag} is still in the cache ({missing[:3]})")
        report = tour.labvault_json("verify")
        tour.check(
            not report.get("corrupt") and not report.get("missing"), "the cache verifies after gc"
        )
        tour.found(
            f"gc removed {len(removed)} objects (the scratch folder); "
            f"v1.0 and v2.0 remain complete in the cache"
        )


def step_dvc_interop(tour: Tour) -> None:
    with tour.section("Real dvc reads what labvault wrote"):
        dvc = find_dvc()
        if dvc is None:
            tour.say(
                "no dvc found (set LABVAULT_DVC, or run `make test` once to create .venv-dvc): skipped"
            )
            return
        tour.state["dvc"] = dvc
        tour.say(f"using {dvc}")
        tour.dvc("--version")
        out = tour.dvc("status")
        tour.check("up to date" in out, "dvc status finds the workspace up to date")
        ours = diff_files(tour.labvault_json("diff", "v1.0", "v2.0"))
        theirs = diff_files(
            parse_json(tour.dvc("diff", "v1.0", "v2.0", "--json", render=compact_json), "dvc diff")
        )
        tour.check(ours == theirs, "dvc diff v1.0 v2.0 reports the same files as labvault diff")
        tour.git("checkout", "-q", "v1.0")
        tour.dvc("checkout")
        problems = compare(tour.state["v1"], tour.snapshot(CSV, IMAGES))
        tour.check(not problems, f"dvc restored v1.0 from labvault's cache ({problems[:5]})")
        tour.git("checkout", "-q", "main")
        tour.labvault("checkout")
        problems = compare(tour.state["v2"], tour.snapshot(CSV, IMAGES))
        tour.check(not problems, f"labvault restored v2.0 after dvc ({problems[:5]})")
        tour.found(
            "dvc agrees on status and diff, and restored v1.0 byte for byte from labvault's cache"
        )


def find_dvc() -> Path | None:
    """The dvc to compare with: $LABVAULT_DVC, the repo's pinned .venv-dvc, or dvc on PATH."""
    candidates = [os.environ.get("LABVAULT_DVC", "")]
    candidates.append(str(Path(__file__).resolve().parent.parent / ".venv-dvc" / "bin" / "dvc"))
    candidates.append(shutil.which("dvc") or "")
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return Path(c)
    return None


def referenced_objects(tour: Tour, rev: str) -> set[str]:
    """Every object a revision needs: the oids in its .dvc files plus the entries of .dir manifests."""
    oids: set[str] = set()
    for pointer in (f"{CSV}.dvc", f"{IMAGES}.dvc"):
        text = subprocess.run(
            ["git", "show", f"{rev}:{pointer}"],
            cwd=tour.root,
            env=tour.env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for oid in pointer_oids(text):
            oids.add(oid)
            if oid.endswith(".dir"):
                manifest = json.loads(tour.cache_path(oid).read_text())
                oids.update(entry["md5"] for entry in manifest)
    return oids


def record_v2_objects(tour: Tour) -> None:
    """Not a section: remember which objects v2.0 needs, for the gc step's checks."""
    tour.state["v2_objects"] = referenced_objects(tour, "v2.0")


def step_remote(tour: Tour) -> None:
    with tour.section("Push to a remote, clone the project elsewhere, pull, compare"):
        storage = tour.root.parent / f"{tour.root.name}-storage"
        clone = tour.root.parent / f"{tour.root.name}-clone"
        tour.state["extra_dirs"] += [storage, clone]
        tour.labvault("remote", "add", "-d", "local", str(storage))
        tour.git("add", ".dvc/config")
        tour.git("commit", "-q", "-m", "Add the local remote")
        pushed = tour.labvault_json("push")
        tour.check(pushed["transferred"] > 0 and not pushed["failed"], "push uploaded the objects")
        again = tour.labvault_json("push")
        tour.check(again["transferred"] == 0, "a second push has nothing to send")
        cloud = tour.labvault_json("status", "--cloud")
        tour.check(cloud["in_sync"], "status --cloud: cache and remote in sync")
        tour.run(["git", "clone", "-q", str(tour.root), str(clone)])
        tour.labvault("pull", cwd=clone)
        mine = tour.snapshot(CSV, IMAGES)
        theirs = {p: md5_file(clone / p) for p in mine}
        problems = compare(mine, theirs)
        tour.check(not problems, f"the clone's data matches byte for byte ({problems[:5]})")
        tour.found(
            f"pushed {pushed['transferred']} objects ({pushed['bytes']:,} bytes); "
            f"the fresh clone pulled {len(theirs)} files, all identical"
        )


PIPELINE = Path(__file__).resolve().parent / "pipeline"


def ran_stages(runs: list[dict[str, Any]]) -> list[str]:
    return [r["address"] for r in runs if r["action"] == "ran"]


def step_pipeline(tour: Tour) -> None:
    with tour.section("A reproducible pipeline: preprocess -> train -> evaluate"):
        (tour.root / "src").mkdir(exist_ok=True)
        for name in ("prepare.py", "train.py", "evaluate.py", "yaml_lite.py"):
            shutil.copy(PIPELINE / name, tour.root / "src" / name)
        for name in ("dvc.yaml", "params.yaml"):
            shutil.copy(PIPELINE / name, tour.root / name)
        tour.say(
            "dvc.yaml: three stages; params.yaml: split and learning rate (a real logistic regression)"
        )
        first = tour.labvault_json("repro")
        tour.check(
            ran_stages(first) == ["preprocess", "train", "evaluate"],
            "the first repro runs all three stages",
        )
        second = tour.labvault_json("repro")
        tour.check(ran_stages(second) == [], "a second repro runs nothing")
        metrics = json.loads((tour.root / "outputs/metrics/test_metrics.json").read_text())
        tour.check(0.0 <= metrics["accuracy"] <= 1.0, "evaluate wrote an accuracy")
        tour.git("add", "-A")
        tour.git("commit", "-q", "-m", "Pipeline, learning rate 0.001")
        tour.git("tag", "-a", "model-v1", "-m", "model v1")
        params = tour.root / "params.yaml"
        params.write_text(params.read_text().replace("learning_rate: 0.001", "learning_rate: 0.1"))
        tour.say("changed train.learning_rate from 0.001 to 0.1")
        status = tour.labvault_json("status")
        changed = [s["address"] for s in status["stages"] if s["changed"]]
        tour.check(changed == ["train"], f"status names train as changed ({changed})")
        third = tour.labvault_json("repro")
        tour.check(ran_stages(third) == ["train", "evaluate"], "only train and evaluate rerun")
        tour.git("add", "-A")
        tour.git("commit", "-q", "-m", "Learning rate 0.1")
        tour.git("tag", "-a", "model-v2", "-m", "model v2")
        dvc = find_dvc()
        if dvc is not None:
            tour.state["dvc"] = dvc
            out = tour.dvc("status")
            tour.check("up to date" in out, "the real dvc agrees the pipeline is up to date")
        after = json.loads((tour.root / "outputs/metrics/test_metrics.json").read_text())
        tour.found(
            f"test accuracy {metrics['accuracy']} -> {after['accuracy']} after the learning-rate change"
        )


def step_catalog(tour: Tour) -> None:
    with tour.section("The catalog: what data and models exist, where, made from what, how good"):
        tour.say("add, commit, push and repro recorded everything as they went (no extra command)")
        datasets = tour.labvault_json("catalog", "datasets")
        names = {d["name"] for d in datasets}
        tour.check(
            {CSV, IMAGES} <= names, f"the tracked datasets are in the catalog ({sorted(names)})"
        )
        images = next(d for d in datasets if d["name"] == IMAGES)
        tour.check(
            images["version"] == "2"
            and any(loc["remote"] == "local" for loc in images["locations"]),
            "data/images is at version 2 and known to be stored on the local remote",
        )
        tour.labvault("catalog", "runs")
        models = tour.labvault_json("catalog", "models")
        model = next(m for m in models if m["name"] == "models/final/model.json")
        tour.check(
            "accuracy" in model["metrics"], "the model carries the accuracy its evaluation measured"
        )
        tour.labvault("catalog", "lineage", "model", "models/final/model.json", "--up")
        tour.labvault(
            "catalog", "tag", "model", f"models/final/model.json@{model['version']}", "production"
        )
        threshold = max(0.0, model["metrics"]["accuracy"] - 0.05)
        found = tour.labvault_json(
            "catalog",
            "search",
            "models",
            "--where",
            f"metrics.accuracy > {threshold:.3f} and tag = production",
        )
        tour.check(
            [m["name"] for m in found] == ["models/final/model.json"],
            "search finds the production model",
        )
        mermaid = tour.labvault(
            "catalog",
            "lineage",
            "model",
            "models/final/model.json",
            "--up",
            "--mermaid",
            render=head(6),
        )
        tour.check(
            mermaid.startswith(("flowchart", "graph")), "lineage renders as a Mermaid diagram"
        )
        tour.found(
            f"{len(datasets)} datasets, {len(models)} model(s); model accuracy {model['metrics']['accuracy']} "
            "traced back through its runs to data/raw/dataset.csv"
        )


STEPS: list[Callable[[Tour], None]] = [
    step_setup,
    step_generate,
    step_track_v1,
    step_change,
    step_track_v2,
    record_v2_objects,
    step_time_travel,
    step_safety,
    step_list_verify,
    step_gc,
    step_dvc_interop,
    step_remote,
    step_pipeline,
    step_catalog,
    *tour_backup.STEPS,
    *tour_access.STEPS,
    *tour_tiers.STEPS,
    *tour_loaders.STEPS,
]


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def tour_env() -> dict[str, str]:
    """The caller's environment, with a git identity and without commit signing."""
    env = dict(os.environ)
    env.setdefault("GIT_AUTHOR_NAME", "labvault tour")
    env.setdefault("GIT_AUTHOR_EMAIL", "tour@labvault.invalid")
    env.setdefault("GIT_COMMITTER_NAME", env["GIT_AUTHOR_NAME"])
    env.setdefault("GIT_COMMITTER_EMAIL", env["GIT_AUTHOR_EMAIL"])
    env["GIT_CONFIG_COUNT"] = "3"
    env["GIT_CONFIG_KEY_0"], env["GIT_CONFIG_VALUE_0"] = "commit.gpgsign", "false"
    env["GIT_CONFIG_KEY_1"], env["GIT_CONFIG_VALUE_1"] = "tag.gpgsign", "false"
    env["GIT_CONFIG_KEY_2"], env["GIT_CONFIG_VALUE_2"] = "advice.detachedHead", "false"
    env["DVC_NO_ANALYTICS"] = "1"
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A guided tour of labvault on generated data.")
    parser.add_argument("--cleanup", action="store_true", help="delete the demo folder at the end")
    parser.add_argument("--dir", type=Path, help="run in this new (empty or absent) folder")
    parser.add_argument("--rows", type=int, default=5000, help="reviews in the CSV (default 5000)")
    parser.add_argument("--images", type=int, default=300, help="images to generate (default 300)")
    parser.add_argument("--seed", type=int, default=7, help="random seed for the data")
    args = parser.parse_args(argv)

    exe = Path(sys.executable).parent / "labvault"
    if not exe.exists():
        print(f"error: {exe} not found: install labvault in this environment (pip install -e .)")
        return 1
    if args.dir:
        if args.dir.exists() and any(args.dir.iterdir()):
            print(f"error: {args.dir} is not empty: pass a new folder")
            return 2
        args.dir.mkdir(parents=True, exist_ok=True)
        root = args.dir.resolve()
    else:
        root = Path(tempfile.mkdtemp(prefix="labvault-tour-")).resolve()

    env = tour_env()
    # The tour's catalog lives beside its workspace, so the user's own catalog is left alone.
    catalog = root.parent / f"{root.name}-catalog.sqlite"
    env.setdefault("LABVAULT_CATALOG_URL", f"sqlite:///{catalog}")
    tour = Tour(root=root, exe=exe, env=env)
    tour.state["extra_dirs"] = []
    tour.state["extra_files"] = [
        catalog,
        Path(f"{catalog}-wal"),
        Path(f"{catalog}-shm"),
        Path(f"{catalog}.lock"),
    ]
    tour.state.update(rows=args.rows, images=args.images, seed=args.seed)
    print(f"labvault tour in {root}")
    start = time.perf_counter()
    failure: str | None = None
    try:
        for step in STEPS:
            step(tour)
    except TourFailure as exc:
        failure = str(exc)
    except Exception as exc:  # a bug in the tour itself, or labvault output it cannot read
        traceback.print_exc()
        failure = f"unexpected {type(exc).__name__}: {exc}"
    total = time.perf_counter() - start

    print()
    print("== Summary " + "=" * 74)
    for i, t in enumerate(tour.timings, 1):
        print(f"  {i:>2}. {t.title:<60} {t.commands:>3} cmds {t.seconds:>7.2f} s")
    print(f"  total {total:.2f} s, {tour.checks} checks")
    if failure:
        print(f"\nTOUR FAILED: {failure}")
        print(f"the workspace is kept for inspection: {root}")
        return 1
    print(f"\nAll {tour.checks} checks passed.")
    if args.cleanup:
        for extra in [root, *tour.state.get("extra_dirs", [])]:
            shutil.rmtree(extra, ignore_errors=True)
        for f in tour.state.get("extra_files", []):
            f.unlink(missing_ok=True)
        print(f"removed {root}")
    else:
        print(f"the demo workspace is kept: {root}  (pass --cleanup to delete it)")
        print(f"\nServe the demo lab's dashboard and JSON API (http://127.0.0.1:8600/, Ctrl-C stops it):\n"
              f"  {serve_command(exe, tour.env, root)}")
    return 0


def serve_command(exe: Path, env: dict[str, str], repo: Path) -> str:
    """``labvault serve`` on the tour's catalog, lab config and repository."""
    args = [str(exe), "serve", "--catalog", env["LABVAULT_CATALOG_URL"]]
    if env.get("LABVAULT_LAB"):
        args += ["--lab", env["LABVAULT_LAB"]]
    return shlex.join([*args, "--repo", str(repo)])


if __name__ == "__main__":
    sys.exit(main())
