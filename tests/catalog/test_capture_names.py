"""The name, kind, version and split a captured output gets: declared annotations first (dvc.yaml
``artifacts:``, the output's own annotations, the ``.dvc`` file's ``meta``), then the lab's dataset
naming convention (its conventions file respected), then the path."""

from __future__ import annotations

from pathlib import Path

from labvault import api
from labvault.api.capture_names import output_artifacts
from labvault.data.name_parts import parse_dataset_name
from labvault.data.naming import load_conventions
from labvault.workspace.repo import open_repo

H = "0123456789abcdef0123456789abcdef"


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    api.init(root, no_scm=True)
    return root


def _one(root: Path, rel: str, **kwargs: object) -> tuple[object, ...]:
    (a,) = output_artifacts(open_repo(root), [(rel, H, 10, None)], **kwargs)  # type: ignore[arg-type]
    return (a.kind, a.name, a.version, a.split, a.description, a.tags, a.meta)


def test_dataset_convention_names_version_and_split(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    assert _one(root, "data/raw/sentiment_imdb_v1.0_train.csv") == (
        "dataset", "sentiment_imdb", "v1.0", "train", None, (), None)
    assert _one(root, "data/raw/coco_2017_val.tar.gz")[1:4] == ("coco", "2017", "val")
    # Paths that do not follow it keep their path as their name (recorded as name None).
    for rel in ("data/raw/reviews", "data/raw/Sentiment_v1_train.csv", "data/raw/sentiment_v1.csv"):
        assert _one(root, rel)[1:4] == (None, None, None), rel
    # A model-looking output of a stage is not read with the dataset convention.
    assert _one(root, "models/bert_v1_train.pt", guess_kind=lambda rel: "model")[:2] == ("model", None)


def test_conventions_file_is_respected(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    # The lab allows integer versions only: v1.0 no longer follows the convention.
    (root / "labvault-names.yaml").write_text("dataset: '[a-z0-9_]+_v\\d+_(train|val|test)\\.[a-z0-9.]+'\n")
    assert _one(root, "data/raw/sentiment_imdb_v1.0_train.csv")[1] is None
    assert _one(root, "data/raw/sentiment_imdb_v2_test.csv")[1:4] == ("sentiment_imdb", "v2", "test")
    # A pattern with its own named groups is read with them.
    (root / "labvault-names.yaml").write_text(
        "dataset: '(?P<name>[a-z]+)-(?P<version>r\\d+)-(?P<split>train|test)\\.csv'\n")
    assert _one(root, "data/imdb-r3-train.csv")[1:4] == ("imdb", "r3", "train")
    assert _one(root, "data/raw/sentiment_imdb_v2_test.csv")[1] is None
    # A broken conventions file does not stop capture: the path is the name.
    (root / "labvault-names.yaml").write_text("dataset: '(['\n")
    assert _one(root, "data/imdb-r3-train.csv")[1] is None


def test_parse_dataset_name_without_groups_falls_back_to_the_default_parts(tmp_path: Path) -> None:
    (tmp_path / "labvault-names.yaml").write_text("dataset: '[a-z0-9_]+_v\\d+_(train|val|test)\\.csv'\n")
    conventions = load_conventions(tmp_path)
    parts = parse_dataset_name("imdb_reviews_v3_val.csv", conventions)
    assert parts is not None and (parts.name, parts.version, parts.split) == ("imdb_reviews", "v3", "val")
    assert parse_dataset_name("imdb_reviews_v3_val.parquet", conventions) is None


def test_declared_names_come_before_the_convention(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    (root / "data/raw").mkdir(parents=True)
    # dvc.yaml artifacts (paths relative to the dvc.yaml's folder) name and type outputs.
    (root / "data").mkdir(exist_ok=True)
    (root / "dvc.yaml").write_text(
        "artifacts:\n"
        "  sentiment-clf:\n    path: models/clf.pkl\n    type: model\n    desc: Sentiment classifier\n"
        "    labels: [nlp, production]\n    meta: {version: v7, framework: sklearn}\n"
        "  imdb-train:\n    path: data/raw/sentiment_imdb_v1.0_train.csv\n    type: dataset\n"
    )
    (root / "data" / "dvc.yaml").write_text(
        "artifacts:\n  nested:\n    path: raw/other.csv\n    desc: from the nested dvc.yaml\n")
    assert _one(root, "models/clf.pkl") == (
        "model", "sentiment-clf", "v7", None, "Sentiment classifier", ("nlp", "production"),
        {"version": "v7", "framework": "sklearn"})
    # An artifact name wins over the convention, and the convention's version is not mixed in.
    assert _one(root, "data/raw/sentiment_imdb_v1.0_train.csv")[1:4] == ("imdb-train", None, None)
    assert _one(root, "data/raw/other.csv")[1] == "nested"
    assert _one(root, "data/raw/other.csv")[4] == "from the nested dvc.yaml"


def test_dvc_file_annotations_and_meta(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    (root / "data").mkdir()
    (root / "data/reviews.csv.dvc").write_text(
        "outs:\n- md5: " + H + "\n  size: 10\n  hash: md5\n  path: reviews.csv\n  desc: Product reviews\n"
        "  type: dataset\n  labels: [raw]\n  meta: {split: test}\n"
        "meta:\n  name: reviews\n  version: '2024.1'\n  split: train\n  owner: lab\n"
    )
    # The output's own annotations win over the file's top-level meta, field by field.
    assert _one(root, "data/reviews.csv", pointers={"data/reviews.csv": "data/reviews.csv.dvc"}) == (
        "dataset", "reviews", "2024.1", "test", "Product reviews", ("raw",),
        {"name": "reviews", "version": "2024.1", "split": "test", "owner": "lab"})
    # A meta version without a name: the convention names it, the declared version wins.
    (root / "data/imdb_v1_train.csv.dvc").write_text(
        "outs:\n- md5: " + H + "\n  size: 10\n  hash: md5\n  path: imdb_v1_train.csv\nmeta:\n  version: v1.1\n")
    assert _one(root, "data/imdb_v1_train.csv", pointers={"data/imdb_v1_train.csv": "data/imdb_v1_train.csv.dvc"}
                )[1:4] == ("imdb", "v1.1", "train")
    # Stage options (dvc.yaml outs) are the output's own annotations too.
    assert _one(root, "out/model.bin", stage_flags={"out/model.bin": {"type": "model", "meta": {"name": "clf"}}},
                guess_kind=lambda rel: "dataset")[:2] == ("model", "clf")
