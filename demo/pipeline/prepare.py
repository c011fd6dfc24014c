"""Stage 1: split the reviews into train/val/test CSVs (labels: rating >= 3 is positive)."""

import csv
import os
import random

import yaml_lite

params = yaml_lite.load("params.yaml")["preprocess"]
with open("data/raw/dataset.csv", encoding="utf-8") as f:
    rows = list(csv.DictReader(f))
rng = random.Random(params["seed"])
rng.shuffle(rows)
n = len(rows)
n_train = int(n * params["train_split"])
n_val = int(n * params["val_split"])
splits = {
    "train": rows[:n_train],
    "val": rows[n_train : n_train + n_val],
    "test": rows[n_train + n_val :],
}
os.makedirs("data/processed", exist_ok=True)
for name, part in splits.items():
    with open(f"data/processed/{name}.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        for r in part:
            label = 1 if int(r["rating"]) >= 3 else 0
            if rng.random() < params["label_noise"]:  # real data is never perfectly labelled
                label = 1 - label
            w.writerow([r["text"], label])
print({k: len(v) for k, v in splits.items()})
