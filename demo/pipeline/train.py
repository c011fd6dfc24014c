"""Stage 2: a bag-of-words logistic regression trained with plain gradient descent."""

import csv
import json
import math
import os

import yaml_lite

params = yaml_lite.load("params.yaml")["train"]


def load(path):
    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r["text"].replace(",", " ").split() for r in rows], [int(r["label"]) for r in rows]


train_x, train_y = load("data/processed/train.csv")
val_x, val_y = load("data/processed/val.csv")
vocab = sorted({w for doc in train_x for w in doc})
index = {w: i for i, w in enumerate(vocab)}
weights = [0.0] * len(vocab)
bias = 0.0


def predict(doc):
    z = bias + sum(weights[index[w]] for w in doc if w in index)
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


for _ in range(params["epochs"]):
    for doc, y in zip(train_x, train_y, strict=True):
        g = predict(doc) - y
        bias -= params["learning_rate"] * g
        for w in doc:
            weights[index[w]] -= params["learning_rate"] * g


def accuracy(xs, ys):
    return sum((predict(d) >= 0.5) == bool(y) for d, y in zip(xs, ys, strict=True)) / max(
        1, len(ys)
    )


os.makedirs("models/final", exist_ok=True)
os.makedirs("outputs/metrics", exist_ok=True)
with open("models/final/model.json", "w") as f:
    json.dump({"vocab": vocab, "weights": weights, "bias": bias}, f)
with open("outputs/metrics/train_metrics.json", "w") as f:
    scores = {"train_accuracy": accuracy(train_x, train_y), "val_accuracy": accuracy(val_x, val_y)}
    json.dump({k: round(v, 4) for k, v in scores.items()}, f, indent=2)
