"""Images (ImageFolder layout) to HDF5: round trip against Pillow, labels, sizes, bad files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from PIL import Image

from labvault import api
from labvault.errors import LoaderError
from labvault.loaders import H5Dataset

CLASSES = ("cat", "dog", "owl")


def make_images(root: Path, size: tuple[int, int] = (12, 9), per_class: int = 4) -> dict[str, Path]:
    """PNG (RGB, grey, palette, RGBA) and JPEG files of random pixels under one folder per class."""
    rng = np.random.default_rng(5)
    made: dict[str, Path] = {}
    modes = ("RGB", "L", "P", "RGBA")
    for c, cls in enumerate(CLASSES):
        (root / cls).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
            img = Image.fromarray(pixels, "RGB")
            mode = modes[(c + i) % len(modes)]
            img = img.convert(mode) if mode != "P" else img.quantize(16)
            name = f"{cls}/{i:02d}.{'jpg' if i == 3 else 'png'}"
            if name.endswith("jpg"):
                img = img.convert("RGB")
            img.save(root / name)
            made[name] = root / name
    return made


def pillow_rgb(path: Path, resize: tuple[int, int] | None = None) -> np.ndarray:
    with Image.open(path) as img:
        rgb = img.convert("RGB")
        return np.asarray(rgb.resize(resize, Image.Resampling.BILINEAR) if resize else rgb)


def test_images_round_trip_with_labels(tmp_path: Path) -> None:
    made = make_images(tmp_path / "images")
    r = api.convert(tmp_path / "images", "hdf5", tmp_path / "images.h5")
    assert r.items == len(made) and r.parts == len(made)
    names = sorted(made)
    with h5py.File(r.output) as f:
        data = f["data"]
        assert data.shape == (len(made), 9, 12, 3) and data.dtype == np.uint8
        assert data.chunks == (1, 9, 12, 3)
        assert [n.decode() for n in f["names"][:]] == names
        for k, name in enumerate(names):
            assert np.array_equal(data[k], pillow_rgb(made[name])), name
        assert list(f["labels"].attrs["classes"]) == list(CLASSES)
        assert f["labels"][:].tolist() == [CLASSES.index(n.split("/")[0]) for n in names]
    ds = H5Dataset(r.output, "data", labels_key="labels")
    sample, label = ds[5]
    assert np.array_equal(sample, pillow_rgb(made[names[5]])) and label == CLASSES.index(names[5].split("/")[0])


def test_mixed_sizes_refused_then_resized(tmp_path: Path) -> None:
    make_images(tmp_path / "images", per_class=2)
    odd = tmp_path / "images" / "owl" / "wide.png"
    Image.fromarray(np.full((9, 20, 3), 7, dtype=np.uint8)).save(odd)
    with pytest.raises(LoaderError, match=r"owl/wide\.png is 20x9 pixels, unlike cat/00\.png \(12x9\)") as info:
        api.convert(tmp_path / "images", "hdf5", tmp_path / "out.h5")
    assert "--resize 12x9" in info.value.line()
    assert not (tmp_path / "out.h5").exists()
    r = api.convert(tmp_path / "images", "hdf5", tmp_path / "out.h5", resize="8x6")
    with h5py.File(r.output) as f:
        assert f["data"].shape == (7, 6, 8, 3)
        names = [n.decode() for n in f["names"][:]]
        k = names.index("owl/wide.png")
        assert np.array_equal(f["data"][k], pillow_rgb(odd, (8, 6)))


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = str(Path(sys.executable).parent / "labvault")
    return subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("damage", ["not an image", "truncated"])
def test_bad_image_is_one_line_naming_it(tmp_path: Path, damage: str) -> None:
    made = make_images(tmp_path / "images", per_class=2)
    bad = made["dog/01.png"]
    data = bad.read_bytes()
    bad.write_bytes(b"plain text, no pixels" if damage == "not an image" else data[: len(data) // 2])
    p = _cli(["convert", "images", "--to", "hdf5", "-o", "out.h5"], tmp_path)
    lines = p.stderr.strip().splitlines()
    assert p.returncode != 0 and len(lines) == 1 and "Traceback" not in p.stderr, p.stderr
    assert "dog/01.png is not a readable image" in lines[0]
    assert not (tmp_path / "out.h5").exists()
    assert sorted(q.name for q in tmp_path.iterdir()) == ["images"]


def test_bad_resize_is_refused(tmp_path: Path) -> None:
    make_images(tmp_path / "images", per_class=1)
    p = _cli(["convert", "images", "--to", "hdf5", "--resize", "12by9"], tmp_path)
    assert p.returncode == 2 and "not WIDTHxHEIGHT" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    p = _cli(["convert", "images", "--to", "shards", "--resize", "12x9"], tmp_path)
    assert p.returncode == 2 and "applies to --to hdf5 only" in p.stderr


def test_images_to_hdf5_as_a_dvc_stage(tmp_path: Path, lv: Any, git_repo: Path) -> None:
    lv.env["PATH"] = f"{Path(sys.executable).parent}:{lv.env.get('PATH', '')}"
    make_images(git_repo / "images", per_class=2)
    lv("init")
    (git_repo / "dvc.yaml").write_text(
        "stages:\n  pack:\n    cmd: labvault convert images --to hdf5 -o images.h5\n"
        "    deps:\n    - images\n    outs:\n    - images.h5\n")
    lv("repro")
    assert "images.h5" in (git_repo / "dvc.lock").read_text()
    assert len(H5Dataset(git_repo / "images.h5", "data")) == 6
    Image.fromarray(np.zeros((9, 12, 3), dtype=np.uint8)).save(git_repo / "images" / "owl" / "new.png")
    lv("repro")
    assert len(H5Dataset(git_repo / "images.h5", "data")) == 7


def test_without_pillow_images_are_one_line_naming_the_package(tmp_path: Path) -> None:
    make_images(tmp_path / "images", per_class=1)
    code = ("import sys; sys.modules['PIL'] = None; sys.modules['PIL.Image'] = None\n"
            "from labvault import api\nfrom labvault.errors import LabvaultError\n"
            "try:\n    api.convert(sys.argv[1], 'hdf5', sys.argv[2])\n"
            "except LabvaultError as exc:\n    print(exc.line())\n")
    p = subprocess.run([sys.executable, "-c", code, str(tmp_path / "images"), str(tmp_path / "out.h5")],
                       capture_output=True, text=True, check=True)
    assert "pip install pillow" in p.stdout and "PIL.Image is not installed" in p.stdout, p.stdout
    assert not (tmp_path / "out.h5").exists()
