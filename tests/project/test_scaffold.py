"""`scaffold` / `init --template ai-lab`: the guide's layout, idempotent, never overwriting."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from labvault import api
from labvault.data.scaffold import AI_LAB_FOLDERS
from labvault.errors import PathError, UsageError
from tests.conftest import Runner, snapshot

FILES = ("README.md", "requirements.txt", ".gitignore", "data/raw/README.md")


def test_creates_the_guide_layout(tmp_path: Path) -> None:
    result = api.scaffold(tmp_path)
    for folder in AI_LAB_FOLDERS:
        assert (tmp_path / folder).is_dir(), folder
        assert (tmp_path / folder / ".gitkeep").is_file() or folder == "data/raw", folder
    for name in ("data/raw", "data/processed"):
        assert {p.name for p in (tmp_path / name).iterdir() if p.is_dir()} == {"train", "val", "test"}
    for f in FILES:
        assert (tmp_path / f).is_file(), f
    assert "data/raw/" in result.created and "README.md" in result.created
    assert "data/raw/train/.gitkeep" in result.created
    assert result.kept == ()
    readme = (tmp_path / "README.md").read_text()
    for words in ("data/", "models/", "notebooks/", "outputs/", "Never modify raw data", "labvault card new"):
        assert words in readme
    assert readme.startswith(f"# {tmp_path.name}\n")
    raw = (tmp_path / "data/raw/README.md").read_text()
    for field in ("name:", "version:", "source:", "downloaded:", "license:", "description:", "preprocessing:"):
        assert field in raw
    # the raw README explains cards but is not itself a card
    assert not raw.startswith("---")
    # no temp files left behind
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".lvtmp")]


def test_idempotent(tmp_path: Path) -> None:
    api.scaffold(tmp_path)
    before = snapshot(tmp_path)
    again = api.scaffold(tmp_path)
    assert again.created == ()
    assert set(FILES) <= set(again.kept)
    assert snapshot(tmp_path) == before


def test_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("my project\n")
    (tmp_path / ".gitignore").write_text("*.secret\n")
    (tmp_path / "data" / "raw" / "train").mkdir(parents=True)
    (tmp_path / "data" / "raw" / "train" / "reviews_v1_train.csv").write_text("a,b\n")
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "params.yaml").write_text("lr: 0.1\n")
    result = api.scaffold(tmp_path)
    assert (tmp_path / "README.md").read_text() == "my project\n"
    assert (tmp_path / ".gitignore").read_text() == "*.secret\n"
    assert {"README.md", ".gitignore", "data/", "data/raw/", "data/raw/train/", "configs/"} <= set(result.kept)
    # folders that already hold files get no .gitkeep
    assert not (tmp_path / "data/raw/train/.gitkeep").exists()
    assert not (tmp_path / "configs/.gitkeep").exists()
    assert (tmp_path / "data/raw/val/.gitkeep").exists()
    assert "requirements.txt" in result.created


def test_an_empty_existing_folder_gets_a_gitkeep(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    result = api.scaffold(tmp_path)
    assert "tests/" in result.kept and "tests/.gitkeep" in result.created


def test_a_file_in_the_way_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "models").write_text("not a folder")
    with pytest.raises(PathError, match="not a folder"):
        api.scaffold(tmp_path)
    assert (tmp_path / "models").read_text() == "not a folder"


def test_a_dangling_symlink_is_kept(tmp_path: Path) -> None:
    os.symlink(tmp_path / "elsewhere", tmp_path / "requirements.txt")
    result = api.scaffold(tmp_path)
    assert "requirements.txt" in result.kept
    assert os.path.islink(tmp_path / "requirements.txt") and not (tmp_path / "elsewhere").exists()


def test_unknown_template(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown template"):
        api.scaffold(tmp_path, template="web-app")


def test_init_with_template(git_repo: Path, lv: Runner) -> None:
    (git_repo / "README.md").write_text("mine\n")
    out = lv("init", "--template", "ai-lab").stdout
    assert (git_repo / ".dvc").is_dir()
    assert "created data/raw/train/" in out and "kept README.md" in out
    assert (git_repo / "README.md").read_text() == "mine\n"
    assert (git_repo / "models/final/.gitkeep").is_file()
    # the layout follows the naming rules it documents: nothing to complain about
    lv("names", "check")
    proc = lv("init", "--template", "nope", check=False)
    assert proc.returncode == 2


def test_init_force_with_template_keeps_everything(git_repo: Path, lv: Runner) -> None:
    lv("init", "--template", "ai-lab")
    before = snapshot(git_repo, skip=(".git", ".dvc"))
    out = lv("init", "-f", "--template", "ai-lab").stdout
    assert "created 0," in out
    assert snapshot(git_repo, skip=(".git", ".dvc")) == before
