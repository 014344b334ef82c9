"""Shared fixture writers for the dataset tests: tiny images and checks every manifest must pass."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nimabench.dataset import Manifest, probability_columns

FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP", ".png": "PNG"}


@pytest.fixture
def write_image() -> Callable[..., Path]:
    """Write an 8x8 image (format from the extension, whatever its case), creating its folder."""

    def write(path: Path, shade: int = 128) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        pixels = np.full((8, 8, 3), shade % 256, dtype=np.uint8)
        Image.fromarray(pixels).save(path, format=FORMATS[path.suffix.lower()])
        return path

    return write


@pytest.fixture
def write_corrupt() -> Callable[[Path], Path]:
    """Write a file with an image's name and no image in it."""

    def write(path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"this is not an image at all")
        return path

    return write


@pytest.fixture
def check_manifest() -> Callable[[Manifest], None]:
    """The invariants of every manifest: columns, distributions, and no group in two splits."""

    def check(manifest: Manifest) -> None:
        frame = manifest.frame
        expected = ["image_id", "path", "split", "group", "mean", "std",
                    *probability_columns(len(manifest.score_values))]
        assert list(frame.columns[: len(expected)]) == expected
        assert set(frame["split"]) <= {"train", "val", "test"}
        assert frame["image_id"].is_unique
        p = manifest.distributions()
        np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-9)
        assert (p >= 0).all()
        assert (frame.groupby("group")["split"].nunique() == 1).all(), "a group straddles two splits"
        assert all(Path(path).is_absolute() for path in frame["path"])

    return check
