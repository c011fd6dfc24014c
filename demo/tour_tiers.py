"""The tour's storage tiers: the guide's hot/warm/cold layout, a lifecycle plan and its moves,
``where``, the monitor's warning of a nearly full tier, and the cost.

The lab lives in the demo folder (``lab/``, its own config ``lab-tiers.yaml``, named by LABVAULT_LAB
from here on; state in the tour's catalog). Its warm tier gets a small capacity (a quota) so that
the demotions fill it past its warn threshold.
"""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from tourkit import Tour, head, md5_file

IMAGENET = "lab/nvme0/datasets/imagenet_v2_train"
REVIEWS = "lab/nvme0/datasets/reviews_v1.csv"
MODEL = "lab/ssd0/models/resnet50_imagenet_20241113_v1.pth"
IMAGE_FILES, IMAGE_BYTES, REVIEW_BYTES, MODEL_BYTES = 8, 50_000, 100_000, 300_000
WARM_CAPACITY = 580_000  # after the demotions warm holds 500,000 bytes: 86%, past warn (80%), under critical (90%)


def _digests(tour: Tour, rel: str) -> dict[str, str]:
    top = tour.path(rel)
    files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
    return {f.relative_to(top).as_posix() if f != top else "": md5_file(f) for f in files}


def step_lab_init(tour: Tour) -> None:
    with tour.section("Storage tiers: the guide's hot, warm and cold layout, and what is on it"):
        lab = tour.path("lab-tiers.yaml")  # lab.yaml, if there, is the backup part's
        tour.env["LABVAULT_LAB"] = str(lab)
        tour.say(f"the lab config is found through LABVAULT_LAB={lab.name} (or --lab FILE)")
        tour.labvault("lab", "init", "--root", "lab", render=head(6))
        for area in ("nvme0/datasets", "nvme0/experiments", "ssd0/models", "ssd0/checkpoints", "hdd0/archive"):
            tour.check(tour.path(f"lab/{area}").is_dir(), f"lab init made lab/{area}")
        text = lab.read_text()
        tour.check("warm:" in text and "price_per_gb_month: 0.035" in text, "the config has the guide's tiers and prices")
        again = tour.labvault("lab", "init", "--root", "lab", render=head(3))
        tour.check(lab.read_text() == text and "exists" in again, "a second lab init overwrites nothing")
        tour.say(f"give the warm tier a quota of {WARM_CAPACITY:,} bytes, so that the monitor has something to say")
        marker = "  warm:"
        start = text.index(marker)
        line_end = text.index("\n", start)
        lab.write_text(text[:line_end + 1] + f"    capacity: {WARM_CAPACITY}\n" + text[line_end + 1:])

        rng = random.Random(tour.state.get("seed", 7))
        imagenet = tour.path(IMAGENET)
        imagenet.mkdir(parents=True)
        for i in range(IMAGE_FILES):
            (imagenet / f"img{i:03d}.bin").write_bytes(rng.randbytes(IMAGE_BYTES))
        tour.path(REVIEWS).write_bytes(rng.randbytes(REVIEW_BYTES))
        tour.path(MODEL).write_bytes(rng.randbytes(MODEL_BYTES))
        tour.say("a dataset folder and a CSV on the hot tier, a model on the warm tier (the naming conventions "
                 "name them)")
        scan = tour.labvault_json("lab", "scan")
        tour.check(scan["new_units"] == 3 and scan["hashed_files"] == IMAGE_FILES + 2 and not scan["skipped"],
                   f"lab scan registered the 3 units and hashed their {IMAGE_FILES + 2} files")
        tiers = {t["name"]: t for t in tour.labvault_json("tier", "list")}
        tour.check(tiers["hot"]["objects"] == IMAGE_FILES + 1 and tiers["hot"]["datasets"] == 2,
                   "tier list: hot holds the 2 datasets (9 files)")
        tour.check(tiers["warm"]["used"] == MODEL_BYTES and tiers["warm"]["capacity"] == WARM_CAPACITY
                   and tiers["warm"]["status"] == "ok", "tier list: warm holds the model, within its quota")
        tour.labvault("tier", "list")
        tour.state["tiers_before"] = {r: _digests(tour, r) for r in (IMAGENET, REVIEWS, MODEL)}
        tour.found("3 units on 2 tiers, hashed once; a re-scan reads only files whose inode, size or mtime moved")


def step_lifecycle(tour: Tour) -> None:
    with tour.section("Lifecycle: plan by last access, apply with verified copies, find them again"):
        as_of = (datetime.now(timezone.utc) + timedelta(days=40)).strftime("%Y-%m-%d")
        tour.say(f"nothing has been read through labvault yet: as of {as_of} the rules demote all three")
        plan = tour.labvault_json("lifecycle", "plan", "--as-of", as_of)
        moves = {(m["name"], m["src_tier"], m["dst_tier"]) for m in plan["moves"]}
        tour.check(moves == {("imagenet", "hot", "warm"), ("reviews_v1.csv", "hot", "warm"),
                             ("resnet50_imagenet", "warm", "cold")} and not plan["refused"],
                   f"the plan demotes the datasets to warm and the model to cold ({sorted(moves)})")
        hot = next(t for t in plan["tiers"] if t["name"] == "hot")
        tour.check(hot["bytes_before"] == IMAGE_FILES * IMAGE_BYTES + REVIEW_BYTES and hot["bytes_after"] == 0,
                   "after the plan the hot tier holds nothing (its price is the highest)")
        tour.labvault("lifecycle", "plan", "--as-of", as_of, render=head(8))
        applied = tour.labvault_json("lifecycle", "apply", "--as-of", as_of)
        statuses = sorted(o["status"] for o in applied["outcomes"])
        tour.check(statuses == ["moved"] * 3, f"lifecycle apply moved the three units ({statuses})")
        moved = {IMAGENET: "lab/ssd0/datasets/imagenet_v2_train", REVIEWS: "lab/ssd0/datasets/reviews_v1.csv",
                 MODEL: "lab/hdd0/models/resnet50_imagenet_20241113_v1.pth"}
        for old, new in moved.items():
            tour.check(_digests(tour, new) == tour.state["tiers_before"][old], f"{new} holds the same bytes")
            tour.check(tour.path(old).is_symlink() and os.path.realpath(tour.path(old)) == str(tour.path(new)),
                       f"{old} is a symlink to its new place (scripts keep working)")
        where = tour.labvault_json("where", "imagenet@v2")
        placements = where[0]["placements"]
        tour.check([(p["tier"], p["state"]) for p in placements] == [("warm", "verified")],
                   "where: imagenet@v2 is on warm, its copy verified against its hash")
        tour.labvault("where", IMAGENET)
        tour.found("3 units moved: copied, fsynced, read back and hashed before each source was replaced")


def step_monitor_cost(tour: Tour) -> None:
    with tour.section("Monitor and cost: a nearly full tier, for people and for cron"):
        report = tour.labvault_json("monitor", expect=1)
        warm = next(t for t in report["tiers"] if t["name"] == "warm")
        tour.check(report["status"] == "warn" and report["exit_code"] == 1 and warm["status"] == "warn",
                   f"monitor: warm is {warm['percent']}% of its quota, past its warn threshold: exit 1")
        tour.check(any("tier warm" in w for w in report["warnings"]), "the warning names the warm tier")
        tour.labvault("monitor", expect=1, render=head(12))
        cost = tour.labvault_json("cost")
        rows = {r["key"]: r for r in cost["rows"]}
        tour.check(rows["warm"]["bytes_now"] == IMAGE_FILES * IMAGE_BYTES + REVIEW_BYTES
                   and rows["cold"]["bytes_now"] == MODEL_BYTES and rows["hot"]["bytes_now"] == 0,
                   "cost counts the bytes where the moves left them")
        expect = sum(r["bytes_now"] / 1024**3 * p for r, p in ((rows["warm"], 0.035), (rows["cold"], 0.007)))
        tour.check(abs(cost["total_now"] - expect) < 1e-6, "monthly cost = bytes x the tier's price per GiB")
        tour.labvault("cost", "--by", "kind")
        tour.found(f"warm at {warm['percent']}%: monitor exits 1 (warn) for cron; cost ${cost['total_now']:.6f}/month")


def step_spill(tour: Tour) -> None:
    with tour.section("Cache spill: an old version leaves a repo's cache for the cold tier, and comes back on use"):
        repo = tour.root.parent / f"{tour.root.name}-spill"  # its own repo, beside the tour's
        repo.mkdir()
        tour.state.setdefault("extra_dirs", []).append(repo)
        tour.labvault("init", "--no-scm", cwd=repo)
        rng = random.Random(11)
        weights = repo / "weights.bin"
        first = rng.randbytes(200_000)
        weights.write_bytes(first)
        tour.labvault("add", "weights.bin", cwd=repo, show_output=False)
        old_pointer = (repo / "weights.bin.dvc").read_text()
        weights.unlink()
        weights.write_bytes(rng.randbytes(200_000))
        tour.labvault("add", "weights.bin", cwd=repo, show_output=False)
        old = hashlib.md5(first).hexdigest()
        then = (datetime.now(timezone.utc) - timedelta(days=60)).timestamp()
        for folder, _, names in os.walk(repo / ".dvc/cache"):
            for name in names:
                os.utime(os.path.join(folder, name), (then, then))
        tour.say("two versions of weights.bin; the workspace uses the second; the cache is dated 60 days back")
        plan = tour.labvault_json("cache", "spill", "--to", "cold", "--days", "30", "--dry-run", cwd=repo)
        tour.check(plan["objects"] == [old] and plan["kept"] == 1, "the plan moves the first version only")
        done = tour.labvault_json("cache", "spill", "--to", "cold", "--days", "30", cwd=repo)
        in_tier = tour.path(f"lab/hdd0/files/md5/{old[:2]}/{old[2:]}")
        tour.check(done["moved"] == 1 and in_tier.is_file() and md5_file(in_tier) == old
                   and not (repo / f".dvc/cache/files/md5/{old[:2]}/{old[2:]}").exists(),
                   "the first version is in the cold tier's files/md5 (checked), no longer in the cache")
        tour.check('remote "cold"' in (repo / ".dvc/config").read_text(), "the cold tier is the repo's remote `cold`")
        (repo / "weights.bin.dvc").write_text(old_pointer)
        tour.say("the pointer names the first version again (as `git checkout` of an old commit would)")
        status = tour.labvault_json("status", cwd=repo)
        tour.check([o["status"] for o in status["outputs"]] == ["modified"],
                   "status: modified, not `not in cache`: the spilled object counts as present")
        tour.labvault("checkout", cwd=repo)
        tour.check(md5_file(weights) == old and (repo / f".dvc/cache/files/md5/{old[:2]}/{old[2:]}").exists(),
                   "checkout fetched the first version back from the tier (md5 checked) and wrote it")
        tour.found("an unused version spilled to the cold tier; status and checkout found it there")


STEPS: list[Callable[[Tour], None]] = [step_lab_init, step_lifecycle, step_monitor_cost, step_spill]

