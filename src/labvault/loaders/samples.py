"""The samples of a folder converted to HDF5: ``.npy`` arrays and images, one array each.

* ``.npy``: loaded as is (no pickles), any shape and dtype.
* ``.png``/``.jpg``/``.jpeg``/``.bmp``/``.gif``/``.tif``/``.tiff``/``.webp``: decoded by Pillow
  and converted to RGB, so every image is an ``H x W x 3`` ``uint8`` array (the first frame of
  an animated file); with ``resize=(W, H)`` each is resized (bilinear) to ``W x H`` first.

``check_sizes`` reads only the image headers (no decoding) before anything is written, so mixed
sizes, or a file that is not an image, are refused at once with the file named; a file whose
header is fine but whose data is damaged is refused when it is decoded (the output is then not
written).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from labvault.errors import LoaderError, UsageError
from labvault.loaders.optional import require

ARRAY_SUFFIXES = (".npy",)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def is_image(rel: str) -> bool:
    return rel.lower().endswith(IMAGE_SUFFIXES)


def _bad_image(rel: str, exc: BaseException) -> LoaderError:
    text = str(exc).strip().splitlines()
    why = text[0] if text else type(exc).__name__
    return LoaderError(f"{rel} is not a readable image ({why})", "replace or remove the file, then convert again")


def _pil() -> Any:
    return require("PIL.Image")


def check_sizes(files: list[tuple[str, Path]], resize: tuple[int, int] | None) -> None:
    """Refuse images of different sizes (without ``resize``) and files that are not images."""
    if not any(is_image(rel) for rel, _ in files):
        return
    image = _pil()
    first: tuple[str, tuple[int, int]] | None = None
    for rel, path in files:
        if not is_image(rel):
            continue
        try:
            with image.open(path) as img:
                size = (int(img.size[0]), int(img.size[1]))
        except (OSError, ValueError, SyntaxError, image.DecompressionBombError) as exc:
            raise _bad_image(rel, exc) from None
        if resize is not None:
            continue
        if first is None:
            first = (rel, size)
        elif size != first[1]:
            raise LoaderError(f"{rel} is {size[0]}x{size[1]} pixels, unlike {first[0]} ({first[1][0]}x{first[1][1]})",
                              f"pass --resize {first[1][0]}x{first[1][1]} to resize every image to one size")


def load_sample(path: Path, rel: str, resize: tuple[int, int] | None = None) -> np.ndarray:
    """One sample as an array: a ``.npy`` file's array, or an image decoded to RGB ``uint8``."""
    if not is_image(rel):
        try:
            return np.asarray(np.load(path, allow_pickle=False))
        except (ValueError, OSError, EOFError) as exc:
            raise LoaderError(f"{rel} is not a plain .npy array ({exc})", "save arrays with numpy.save") from None
    image = _pil()
    try:
        with image.open(path) as img:
            rgb = img.convert("RGB")
            if resize is not None and rgb.size != resize:
                rgb = rgb.resize(resize, image.Resampling.BILINEAR)
            return np.asarray(rgb, dtype=np.uint8)
    except (OSError, ValueError, SyntaxError, image.DecompressionBombError) as exc:
        raise _bad_image(rel, exc) from None


def parse_size(text: str) -> tuple[int, int]:
    """``"WxH"`` as ``(W, H)``, both positive."""
    w, sep, h = text.lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit() or int(w) < 1 or int(h) < 1:
        raise UsageError(f"--resize {text!r} is not WIDTHxHEIGHT", "write it like 224x224")
    return int(w), int(h)
