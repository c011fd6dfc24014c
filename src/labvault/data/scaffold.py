"""Lay out a project template: the folders and starter files of the lab guide's project structure.

Nothing that exists is ever changed: existing files and folders are kept as they are (and reported
as kept), missing ones are created. Files are created atomically and only if their name is still
free at that instant (see :mod:`labvault.data.newfile`), so running it twice, or beside another
process, is safe. Folders that would be empty get a ``.gitkeep`` so that git keeps them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from labvault.data.newfile import write_new_text
from labvault.errors import PathError, UsageError, from_os_error

TEMPLATES = ("ai-lab",)

AI_LAB_FOLDERS = (
    "data/raw/train", "data/raw/val", "data/raw/test",
    "data/processed/train", "data/processed/val", "data/processed/test",
    "data/interim", "data/external",
    "models/checkpoints", "models/final", "models/pretrained",
    "notebooks/exploratory", "notebooks/reports",
    "src/data", "src/models", "src/training", "src/evaluation",
    "configs",
    "outputs/logs", "outputs/metrics", "outputs/visualizations",
    "tests",
)

README = """\
# {project}

An AI lab project laid out by `labvault init --template ai-lab`. Data and models are versioned
with labvault (DVC's formats): git holds the code and the small `.dvc` pointer files, the data
itself lives in the cache and on a remote.

## Layout

```
data/
  raw/             original, immutable data, as downloaded (train/ val/ test/)
  processed/       cleaned data ready for training (train/ val/ test/), made from raw/
  interim/         intermediate results of transformations
  external/        data from third parties
models/
  checkpoints/     checkpoints written during training
  final/           trained models to keep and share
  pretrained/      downloaded pretrained models
notebooks/
  exploratory/     exploration, scratch work
  reports/         notebooks that present results
src/
  data/            data loading and processing code
  models/          model definitions
  training/        training scripts
  evaluation/      evaluation scripts
configs/           configuration files (hyperparameters, params.yaml)
outputs/
  logs/            run logs
  metrics/         metrics files
  visualizations/  plots and figures
tests/             unit tests
```

## Rules of the lab

* **Never modify raw data.** Read from `data/raw/`, write the results to `data/processed/` or
  `data/interim/`. Track each raw dataset as soon as it arrives: `labvault add data/raw/train/...`.
* **Document provenance.** Every dataset folder gets a `README.md` card recording where it came
  from (`labvault card new data/raw/NAME`, then `labvault card check data`). See
  `data/raw/README.md`.
* **Name things by the conventions** (`labvault names check .` finds the ones that do not):
  - datasets: `name_version_split.format`, e.g. `imagenet_v2_train.tar`
  - models: `architecture_dataset_YYYYMMDD_version.ext`, e.g. `resnet50_imagenet_20241113_v1.pth`
  - experiments: `name_YYYYMMDD_runNNN/`, e.g. `sentiment_analysis_20241113_run001/`

  `labvault names new dataset --name imagenet --version 2 --split train --format tar` makes one.

## Versioning data

```
labvault add data/raw/train/imagenet_v2_train.tar     # writes a .dvc pointer
git add data/raw/train/imagenet_v2_train.tar.dvc data/raw/train/.gitignore
git commit -m "imagenet v2 train split"
labvault push                                         # to the default remote
```

Track datasets and models one by one (files, or one folder per dataset) rather than `data/raw` as a
whole: the `.gitkeep` and `README.md` files of this layout are in git, and a folder labvault
tracks must not hold files that git tracks.
"""

RAW_README = """\
# Raw data

Original data, exactly as received. Never edit files here: write cleaned or transformed data to
`data/processed/` or `data/interim/` instead, and track each dataset with `labvault add` as soon
as it arrives.

Put each dataset in a file named `name_version_split.format` (in `train/`, `val/`, `test/`) or in
a folder of its own, and record its provenance in a card: a `README.md` inside the dataset's
folder that starts with YAML front matter. `labvault card new data/raw/NAME` writes one, pre-filled;
`labvault card check data` checks every card. The template:

```
---
name: Customer Reviews Dataset
version: '1.0'
source: https://example.com/dataset
downloaded: '2024-11-13'
license: CC BY 4.0
description: |
  Customer reviews from an e-commerce platform
  - 50,000 reviews
  - 5-star ratings
  - English language
preprocessing:
- Removed duplicates
- Filtered spam
- Normalized text
---

Free text about the dataset follows the front matter.
```
"""

GITIGNORE = """\
# Data and models are tracked by labvault: `labvault add` writes their entries to the
# .gitignore files beside them.

# Python
__pycache__/
*.py[cod]
*.egg-info/
.venv/
venv/
.pytest_cache/
.mypy_cache/
.ruff_cache/

# Notebooks
.ipynb_checkpoints/

# Secrets and local settings
.env

# Editors and systems
.idea/
.vscode/
.DS_Store
"""

REQUIREMENTS = """\
# The project's Python dependencies, one per line: pip install -r requirements.txt
labvault
"""


@dataclass(frozen=True)
class ScaffoldResult:
    """What a scaffold did, as paths relative to the root (folders end with ``/``)."""

    root: str
    template: str
    created: tuple[str, ...]
    kept: tuple[str, ...]


def _files(template: str, root: Path) -> dict[str, str]:
    return {
        "README.md": README.format(project=root.name or "project"),
        "requirements.txt": REQUIREMENTS,
        ".gitignore": GITIGNORE,
        "data/raw/README.md": RAW_README,
    }


def scaffold(root: Path, template: str = "ai-lab") -> ScaffoldResult:
    """Create the folders and files of ``template`` under ``root`` that do not exist yet."""
    if template not in TEMPLATES:
        raise UsageError(f"unknown template {template!r}", f"templates: {', '.join(TEMPLATES)}")
    if not root.is_dir():
        raise PathError(f"{root} is not a folder", "create it first")
    created: list[str] = []
    kept: list[str] = []
    folders: list[str] = []
    for leaf in AI_LAB_FOLDERS:
        parts = leaf.split("/")
        for i in range(1, len(parts) + 1):
            rel = "/".join(parts[:i])
            if rel not in folders:
                folders.append(rel)
    for rel in folders:
        path = root / rel
        if path.is_dir():
            kept.append(rel + "/")
            continue
        if path.exists() or path.is_symlink():
            raise PathError(f"{path} exists and is not a folder", "move it away, then run the command again")
        try:
            path.mkdir()
        except FileExistsError:
            kept.append(rel + "/")
            continue
        except OSError as exc:
            raise from_os_error(exc, "creating folder") from exc
        created.append(rel + "/")
    for rel, text in _files(template, root).items():
        (created if write_new_text(root / rel, text) else kept).append(rel)
    for rel in AI_LAB_FOLDERS:
        path = root / rel
        if _is_empty(path) and write_new_text(path / ".gitkeep", ""):
            created.append(f"{rel}/.gitkeep")
    return ScaffoldResult(str(root), template, tuple(created), tuple(kept))


def _is_empty(folder: Path) -> bool:
    try:
        return not any(folder.iterdir())
    except OSError:
        return False
