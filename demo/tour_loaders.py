"""Tour topic: the loaders. Convert the versioned data, stream it, train the demo model, use Dask."""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from tourkit import Tour

HERE = Path(__file__).resolve().parent
CSV = "data/raw/dataset.csv"
IMAGES = "data/images"


def step_loaders(tour: Tour) -> None:
    with tour.section("Loaders: convert, stream, train the demo model, Dask"):
        shards = tour.root.parent / f"{tour.root.name}-shards"
        tour.state.setdefault("extra_dirs", []).append(shards)
        table = tour.labvault_json("convert", CSV, "--to", "parquet", "-o", "data/reviews.parquet")
        rows = sum(1 for _ in csv.DictReader(tour.path(CSV).open(encoding="utf-8")))
        tour.check(table["items"] == rows, f"the Parquet table holds the CSV's {rows} rows")
        packed = tour.labvault_json("convert", IMAGES, "--to", "shards", "--shard-size", "128KiB", "-o", str(shards))
        images = [p for p in tour.path(IMAGES).rglob("*") if p.is_file()]
        tour.check(packed["items"] == len(images), f"the shards hold the {len(images)} images")
        tour.say("the shard folder stands for a bucket: StreamingDataset reads s3://, gs://, azure:// alike")
        proc = tour.run([sys.executable, str(HERE / "loaders_demo.py"), "data/reviews.parquet", str(shards)],
                        display="python demo/loaders_demo.py data/reviews.parquet ../shards")
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        tour.check(result["stream_samples"] == result["stream_distinct"] == len(images),
                   "the stream yielded every image exactly once")
        v1_images = [p for p in tour.state["v1"] if p.startswith(IMAGES + "/")]
        tour.check(result["v1_images"] == len(v1_images), f"data/images@v1.0 streamed {len(v1_images)} files")
        with tour.path(CSV).open(encoding="utf-8") as f:
            now = Counter(r["rating"] for r in csv.DictReader(f))
        v1_total = sum(v for k, v in result.items() if k.startswith("v1_rating_"))
        tour.check(v1_total == rows, "Dask counted every review of v1.0")
        tour.check(result["accuracy"] > 0.9, f"the demo model learned (accuracy {result['accuracy']})")
        tour.found(
            f"{packed['parts']} shards; streamed {result['stream_samples']} images at "
            f"{result['stream_samples_per_s']:,.0f} samples/s ({result['stream_mb_per_s']:.1f} MB/s); "
            f"trained at {result['train_rows_per_s']:,.0f} rows/s to accuracy {result['accuracy']}; "
            f"v1.0 ratings by Dask: {[result[f'v1_rating_{k}'] for k in range(1, 6)]} "
            f"(workspace: {[now[str(k)] for k in range(1, 6)]})"
        )


STEPS: list[Callable[[Tour], None]] = [step_loaders]
