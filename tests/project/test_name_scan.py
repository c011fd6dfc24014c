"""Which files and folders `names check` looks at, and as which kind (the auto rules)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from labvault import api
from labvault.errors import PathError

GOOD = {
    "data/raw/train/imagenet_v2_train.tar": "",
    "data/processed/val/coco_2017_val.zip": "",
    "data/external/custom_dataset_v1.0_test.csv": "",
    "models/final/resnet50_imagenet_20241113_v1.pth": "",
    "models/checkpoints/llama3_finetuned_20241113_checkpoint-1000.bin": "",
    "experiments/sentiment_analysis_20241113_run001/notes.txt": "",
    "outputs/image_classification_20241113_run042/metrics.json": "",
    "outputs/logs/sentiment_analysis_20241113_run001/train.log": "",
    # never checked: housekeeping files, other top-level folders, files directly in outputs/
    "data/raw/README.md": "# raw data\n",
    "data/raw/train/.gitkeep": "",
    "data/raw/train/imagenet_v2_train.tar.dvc": "outs: []\n",
    "data/raw/train/imagenet_v2_train.tar.md5": "",
    "data/.gitignore": "",
    "src/data/Load-Data.py": "",
    "notebooks/exploratory/Scratch.ipynb": "",
    "outputs/summary.csv": "",
    "Makefile": "",
    ".hidden/Bad Name.csv": "",
}


@pytest.fixture
def project(tmp_path: Path, make_tree: Callable[[Path, dict[str, bytes | str]], None]) -> Path:
    root = tmp_path / "proj"
    (root / ".dvc").mkdir(parents=True)
    make_tree(root, GOOD)
    return root


def _paths(root: Path, paths: list[str] | None = None, kind: str = "auto") -> list[str]:
    return [v.path for v in api.names_check(paths, kind=kind, repo=root).violations]


def test_a_conforming_project_passes(project: Path) -> None:
    report = api.names_check(repo=project)
    assert report.ok, [v.line() for v in report.violations]
    assert report.checked == 8
    assert report.skipped == ()


def test_kinds_by_location(project: Path, make_tree: Callable[[Path, dict[str, bytes | str]], None]) -> None:
    make_tree(project, {
        "data/interim/tmp.csv": "",
        "models/pretrained/Model.bin": "",
        "experiments/try2/log.txt": "",
        "outputs/metrics/quick/m.json": "",
        "outputs/sweep/inner/deeper.txt": "",
    })
    report = api.names_check(repo=project)
    kinds = {v.path: v.kind for v in report.violations}
    assert kinds == {
        "data/interim/tmp.csv": "dataset",
        "models/pretrained/Model.bin": "model",
        "experiments/try2/": "experiment",
        "outputs/metrics/quick/": "experiment",
        "outputs/sweep/": "experiment",
    }
    assert [v.path for v in report.violations] == sorted(kinds)


def test_dataset_and_model_folders_keep_their_content_names(
    project: Path, make_tree: Callable[[Path, dict[str, bytes | str]], None]
) -> None:
    make_tree(project, {
        # a dataset folder with a provenance card
        "data/raw/reviews/README.md": "---\nname: reviews\n---\n",
        "data/raw/reviews/part-0001.csv": "",
        # a folder tracked as a whole by a .dvc pointer
        "data/raw/images/0001.jpg": "",
        "data/raw/images.dvc": "outs: []\n",
        "models/pretrained/bert-base-uncased/config.json": "",
        "models/pretrained/bert-base-uncased.dvc": "outs: []\n",
        # a plain sub-folder is not a unit: its files are checked
        "data/raw/misc/Notes.csv": "",
    })
    assert _paths(project) == ["data/raw/misc/Notes.csv"]
    # named explicitly, a file inside a dataset folder is checked
    assert _paths(project, [str(project / "data/raw/reviews/part-0001.csv")]) == ["data/raw/reviews/part-0001.csv"]


def test_layout_folders_are_never_units(project: Path, make_tree: Callable[[Path, dict[str, bytes | str]], None]) -> None:
    make_tree(project, {"data/raw.dvc": "outs: []\n", "data/raw/train/Bad.csv": ""})
    assert _paths(project) == ["data/raw/train/Bad.csv"]


def test_paths_are_relative_to_the_given_folder(project: Path, make_tree: Callable[[Path, dict[str, bytes | str]], None]) -> None:
    make_tree(project, {"data/raw/train/Bad.csv": "", "models/final/bad.pth": ""})
    assert _paths(project, ["data"]) == ["data/raw/train/Bad.csv"]
    assert _paths(project / "data", ["raw/train"]) == ["data/raw/train/Bad.csv"]
    assert _paths(project, ["models/final/bad.pth", "data/raw/train/Bad.csv"]) == [
        "data/raw/train/Bad.csv", "models/final/bad.pth"]


def test_unclassified_explicit_files_are_skipped(project: Path) -> None:
    report = api.names_check(["src/data/Load-Data.py", "data/raw/README.md"], repo=project)
    assert report.checked == 0 and report.ok
    assert len(report.skipped) == 1 and report.skipped[0].startswith("src/data/Load-Data.py: not under data/")


def test_explicit_kind(project: Path, make_tree: Callable[[Path, dict[str, bytes | str]], None]) -> None:
    make_tree(project, {"downloads/Weights.bin": "", "downloads/sub/resnet50_imagenet_20241113_v1.pth": ""})
    report = api.names_check(["downloads"], kind="model", repo=project)
    assert report.checked == 2 and [v.path for v in report.violations] == ["downloads/Weights.bin"]
    report = api.names_check(["downloads/sub"], kind="experiment", repo=project)
    assert [v.path for v in report.violations] == ["downloads/sub/"]
    with pytest.raises(PathError, match="not a folder"):
        api.names_check(["downloads/Weights.bin"], kind="experiment", repo=project)


def test_missing_path_is_an_error(project: Path) -> None:
    with pytest.raises(PathError, match="does not exist"):
        api.names_check(["nope"], repo=project)


def test_outside_a_repository_the_folder_is_the_root(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.csv").write_text("")
    report = api.names_check(repo=tmp_path)
    assert [v.path for v in report.violations] == ["data/x.csv"]


def test_config_file_at_the_root_applies(project: Path) -> None:
    (project / "labvault-names.yaml").write_text("dataset: '[a-z]+\\.csv'\n")
    report = api.names_check(["data"], repo=project)
    assert report.config == "labvault-names.yaml"
    bad = {v.path for v in report.violations}
    assert bad == {"data/raw/train/imagenet_v2_train.tar", "data/processed/val/coco_2017_val.zip",
                   "data/external/custom_dataset_v1.0_test.csv"}
