"""Naming conventions: the guide's examples pass, broken names are explained with a suggestion,
generated names always pass, and a labvault-names file replaces patterns."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from labvault.data.name_generate import generate
from labvault.data.naming import Conventions, check_name, is_date, load_conventions
from labvault.errors import ConfigError, UsageError

DEFAULT = load_conventions(Path("/nonexistent-root"))
DAY = dt.date(2024, 11, 13)

VALID = {
    "dataset": [
        "imagenet_v2_train.tar",
        "coco_2017_val.zip",
        "custom_dataset_v1.0_test.csv",
        "reviews_v3_train.tar.gz",
        "cifar_10_v1.2.3_val.parquet",
        "mnist_v10_test.npz",
    ],
    "model": [
        "resnet50_imagenet_20241113_v1.pth",
        "bert_base_squad_20241113_final.safetensors",
        "llama3_finetuned_20241113_checkpoint-1000.bin",
        "vit_imagenet_20240229_best.pt",
        "gpt2_wiki_20241113_epoch-3.ckpt",
        "unet_brats_20241113_v1.0.onnx",
    ],
    "experiment": [
        "sentiment_analysis_20241113_run001",
        "image_classification_20241113_run042",
        "ablation_20241113_run1000",
    ],
}


@pytest.mark.parametrize(("kind", "name"), [(k, n) for k, names in VALID.items() for n in names])
def test_guide_examples_pass(kind: str, name: str) -> None:
    assert check_name(kind, name, DEFAULT) is None


# (kind, name, words that the explanation must contain, suggested name)
INVALID = [
    ("dataset", "Reviews.csv", ["lowercase", "no split", "no version"], "reviews_v1_<split>.csv"),
    ("dataset", "imagenet_train.tar", ["no version"], "imagenet_v1_train.tar"),
    ("dataset", "imagenet_v2.tar", ["no split"], "imagenet_v2_<split>.tar"),
    ("dataset", "imagenet_v2_train", ["no format extension"], "imagenet_v2_train.<format>"),
    ("dataset", "imagenet_train_v2.tar", ["out of order"], "imagenet_v2_train.tar"),
    ("dataset", "mnist_1.0_test.csv", ["should start with 'v'"], "mnist_v1.0_test.csv"),
    ("dataset", "mnist_v1_validation.csv", ["'validation' should be 'val'"], "mnist_v1_val.csv"),
    ("dataset", "my-data_v1_train.csv", ["single '_'"], "my_data_v1_train.csv"),
    ("dataset", "imagenet__v2_train.tar", ["single '_'"], "imagenet_v2_train.tar"),
    ("dataset", "imagenet_v2_train.CSV", ["lowercase"], "imagenet_v2_train.csv"),
    ("dataset", "v2_train.csv", ["no dataset name"], "<name>_v2_train.csv"),
    ("dataset", "3d_shapes_v1_train.npz", ["start with a letter"], None),
    ("model", "resnet50_20241113_v1.pth", ["architecture and the dataset"], "resnet50_<dataset>_20241113_v1.pth"),
    ("model", "resnet50_imagenet_v1.pth", ["no date", "20241113"], "resnet50_imagenet_20241113_v1.pth"),
    ("model", "resnet50_imagenet_20241113.pth", ["no version"], "resnet50_imagenet_20241113_v1.pth"),
    ("model", "resnet50_imagenet_20241345_v1.pth", ["not a real date"], "resnet50_imagenet_<YYYYMMDD>_v1.pth"),
    ("model", "resnet50_imagenet_241113_v1.pth", ["8 digits"], "resnet50_imagenet_20241113_v1.pth"),
    ("model", "resnet50_imagenet_2024-11-13_v1.pth", ["YYYYMMDD"], "resnet50_imagenet_20241113_v1.pth"),
    ("model", "resnet50_imagenet_v1_20241113.pth", ["out of order"], "resnet50_imagenet_20241113_v1.pth"),
    ("model", "gpt2_wiki_20241113_ckpt1000.bin", ["'checkpoint-1000'"], "gpt2_wiki_20241113_checkpoint-1000.bin"),
    ("model", "ResNet50-ImageNet_20241113_v1.pth", ["lowercase", "single '_'"], "resnet50_imagenet_20241113_v1.pth"),
    ("model", "resnet50_imagenet_20241113_v1", ["no file extension"], "resnet50_imagenet_20241113_v1.<ext>"),
    ("experiment", "sentiment_analysis_20241113_run1", ["3 digits"], "sentiment_analysis_20241113_run001/"),
    ("experiment", "sentiment_analysis_20241113_run_7", ["one part"], "sentiment_analysis_20241113_run007/"),
    ("experiment", "sentiment_analysis_20241113", ["no run id"], "sentiment_analysis_20241113_run001/"),
    ("experiment", "sentiment_analysis_run001", ["no date"], "sentiment_analysis_20241113_run001/"),
    ("experiment", "Sentiment-Analysis_20241113_run001", ["lowercase", "single '_'"],
     "sentiment_analysis_20241113_run001/"),
    ("experiment", "20241113_run001", ["no experiment name"], "<name>_20241113_run001/"),
    ("experiment", "exp_20241131_run001", ["not a real date"], "exp_<YYYYMMDD>_run001/"),
]


@pytest.mark.parametrize(("kind", "name", "words", "suggestion"), INVALID)
def test_violations_are_explained(kind: str, name: str, words: list[str], suggestion: str | None) -> None:
    v = check_name(kind, name, DEFAULT, file_date=DAY)
    assert v is not None
    text = "; ".join(v.problems)
    for w in words:
        assert w in text, (w, text)
    assert v.suggestion == suggestion
    line = v.line()
    assert "\n" not in line and line.startswith(f"{name}: {kind} name: ")
    if suggestion and "<" not in suggestion:
        assert check_name(kind, suggestion.rstrip("/"), DEFAULT) is None


def test_split_hint_fills_the_suggestion() -> None:
    v = check_name("dataset", "reviews_v1.csv", DEFAULT, split_hint="val")
    assert v is not None and v.suggestion == "reviews_v1_val.csv"


def test_is_date() -> None:
    assert is_date("20240229") and is_date("20241113")
    assert not is_date("20230229") and not is_date("20241301") and not is_date("2024111") and not is_date("abcdefgh")


@pytest.mark.parametrize(
    ("kind", "kwargs", "expected"),
    [
        ("dataset", {"name": "imagenet", "version": "2", "split": "train", "fmt": "tar"}, "imagenet_v2_train.tar"),
        ("dataset", {"name": "coco", "version": "2017", "split": "validation", "fmt": ".ZIP"}, "coco_2017_val.zip"),
        ("dataset", {"name": "Custom Dataset", "version": "v1.0", "split": "test", "fmt": "csv"},
         "custom_dataset_v1.0_test.csv"),
        ("dataset", {"name": "reviews", "split": "train", "fmt": "tar.gz"}, "reviews_v1_train.tar.gz"),
        ("model", {"architecture": "resnet50", "dataset": "imagenet", "fmt": "pth"}, "resnet50_imagenet_20241113_v1.pth"),
        ("model", {"architecture": "bert-base", "dataset": "squad", "date": "20241113", "version": "final",
                   "fmt": "safetensors"}, "bert_base_squad_20241113_final.safetensors"),
        ("model", {"architecture": "llama3", "dataset": "finetuned", "date": "2024-11-13", "version": "ckpt1000",
                   "fmt": "bin"}, "llama3_finetuned_20241113_checkpoint-1000.bin"),
        ("experiment", {"name": "sentiment analysis"}, "sentiment_analysis_20241113_run001"),
        ("experiment", {"name": "image_classification", "run": 42, "date": "20241113"},
         "image_classification_20241113_run042"),
        ("experiment", {"name": "x", "run": 1234}, "x_20241113_run1234"),
    ],
)
def test_generate(kind: str, kwargs: dict[str, object], expected: str) -> None:
    g = generate(kind, DEFAULT, today=DAY, **kwargs)  # type: ignore[arg-type]
    assert g.name == expected
    assert check_name(kind, g.name, DEFAULT) is None


@pytest.mark.parametrize(
    ("kind", "kwargs", "words"),
    [
        ("dataset", {"name": "x", "fmt": "csv"}, "--split"),
        ("dataset", {"name": "x", "split": "holdout", "fmt": "csv"}, "not a split"),
        ("dataset", {"name": "x", "split": "train"}, "--format"),
        ("dataset", {"name": "x", "split": "train", "fmt": "csv", "version": "latest"}, "not a dataset version"),
        ("dataset", {"name": "x", "split": "train", "fmt": "csv", "run": 3}, "--run does not apply"),
        ("dataset", {"name": "!!!", "split": "train", "fmt": "csv"}, "no letters or digits"),
        ("dataset", {"name": "3d", "split": "train", "fmt": "csv"}, "start with a letter"),
        ("model", {"architecture": "resnet50", "fmt": "pth"}, "--dataset"),
        ("model", {"architecture": "r", "dataset": "d", "fmt": "pth", "date": "20241332"}, "not a real date"),
        ("model", {"architecture": "r", "dataset": "d", "fmt": "pth", "version": "newest"}, "not a model version"),
        ("model", {"architecture": "r", "dataset": "d", "fmt": "p t h"}, "not a file extension"),
        ("experiment", {}, "--name"),
        ("experiment", {"name": "x", "split": "train"}, "--split does not apply"),
        ("nonsense", {"name": "x"}, "unknown kind"),
    ],
)
def test_generate_refuses_bad_parts(kind: str, kwargs: dict[str, object], words: str) -> None:
    with pytest.raises(UsageError) as err:
        generate(kind, DEFAULT, today=DAY, **kwargs)  # type: ignore[arg-type]
    assert words in err.value.line()
    assert err.value.exit_code == 2


def test_yaml_config_replaces_a_pattern(tmp_path: Path) -> None:
    (tmp_path / "labvault-names.yaml").write_text("experiment: 'exp\\d{3}'\n")
    conv = load_conventions(tmp_path)
    assert conv.custom == {"experiment"} and conv.source == "labvault-names.yaml"
    assert check_name("experiment", "exp042", conv) is None
    v = check_name("experiment", "sentiment_analysis_20241113_run001", conv)
    assert v is not None and "labvault-names.yaml" in v.problems[0] and v.suggestion is None
    # the other kinds keep the guide's conventions
    assert check_name("dataset", "imagenet_v2_train.tar", conv) is None
    with pytest.raises(UsageError, match="does not match the experiment pattern"):
        generate("experiment", conv, name="x", today=DAY)


def test_toml_config_and_date_group(tmp_path: Path) -> None:
    (tmp_path / "labvault-names.toml").write_text(
        'model = "(?P<arch>[a-z0-9]+)-(?P<date>\\\\d{8})\\\\.pt"\n'
    )
    conv = load_conventions(tmp_path)
    assert check_name("model", "resnet-20241113.pt", conv) is None
    assert check_name("model", "resnet-20241399.pt", conv) is not None  # a `date` group must be a real date


@pytest.mark.parametrize(
    ("files", "words"),
    [
        ({"labvault-names.yaml": "dataset: '[a-z'\n"}, "not a valid regular expression"),
        ({"labvault-names.yaml": "datasets: 'x'\n"}, "unknown key 'datasets'"),
        ({"labvault-names.yaml": "dataset: [a, b]\n"}, "must be a regular expression"),
        ({"labvault-names.yaml": "- dataset\n"}, "expected a mapping"),
        ({"labvault-names.yaml": "dataset: 'a\n"}, "not valid YAML"),
        ({"labvault-names.toml": "dataset = \n"}, "not valid TOML"),
        ({"labvault-names.yaml": "", "labvault-names.toml": ""}, "keep one"),
    ],
)
def test_bad_config_is_a_config_error(tmp_path: Path, files: dict[str, str], words: str) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(ConfigError) as err:
        load_conventions(tmp_path)
    assert words in err.value.line() and err.value.exit_code == 2


def test_empty_config_keeps_defaults(tmp_path: Path) -> None:
    (tmp_path / "labvault-names.yaml").write_text("# nothing yet\n")
    conv = load_conventions(tmp_path)
    assert isinstance(conv, Conventions) and not conv.custom
    assert check_name("dataset", "imagenet_v2_train.tar", conv) is None
