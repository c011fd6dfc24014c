"""Stage 3: accuracy and F1 of the trained model on the held-out test split."""

import csv
import json
import math

with open("models/final/model.json") as f:
    model = json.load(f)
index = {w: i for i, w in enumerate(model["vocab"])}
with open("data/processed/test.csv", encoding="utf-8") as f:
    rows = list(csv.DictReader(f))
tp = fp = fn = tn = 0
for r in rows:
    z = model["bias"] + sum(
        model["weights"][index[w]] for w in r["text"].replace(",", " ").split() if w in index
    )
    pred = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z)))) >= 0.5
    y = r["label"] == "1"
    tp += pred and y
    fp += pred and not y
    fn += (not pred) and y
    tn += (not pred) and not y
precision = tp / max(1, tp + fp)
recall = tp / max(1, tp + fn)
f1 = 2 * precision * recall / max(1e-9, precision + recall)
with open("outputs/metrics/test_metrics.json", "w") as f:
    json.dump(
        {"accuracy": round((tp + tn) / max(1, len(rows)), 4), "f1": round(f1, 4)}, f, indent=2
    )
