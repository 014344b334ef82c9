"""A trial's data in NumPy: the cache side, the splits and the batches both trainers read."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from nimabench.dataset import Manifest, probability_columns
from nimabench.trial_data import cache_side, load_trial_data, numpy_batches

SCORES = np.arange(1.0, 6.0)
SPLIT_SIZES = {"train": 17, "val": 5, "test": 4}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> Manifest:
    """26 small noise PNGs with Dirichlet rating distributions, one of them undecodable."""
    folder = tmp_path_factory.mktemp("trial-data")
    rng = np.random.default_rng(0)
    rows = []
    for split, count in SPLIT_SIZES.items():
        for i in range(count):
            path = folder / f"{split}{i:02d}.png"
            Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)).save(path)
            rows.append(_row(f"{split}{i:02d}", path, split, rng.dirichlet(np.ones(len(SCORES)))))
    broken = folder / "broken.png"
    broken.write_bytes(b"not an image")
    rows.append(_row("broken", broken, "train", np.full(len(SCORES), 0.2)))
    return Manifest(dataset="tiny", task="technical", score_values=SCORES, frame=pd.DataFrame(rows),
                    label_strategy="votes", split_policy="fixed", data_dir=folder)


def _row(image_id: str, path: Path, split: str, distribution: np.ndarray) -> dict:
    return {"image_id": image_id, "path": str(path), "split": split, "group": image_id,
            "mean": float(distribution @ SCORES), "std": 1.0,
            **dict(zip(probability_columns(len(SCORES)), distribution, strict=True))}


def test_the_cache_side_keeps_nimas_crop_ratio():
    assert cache_side(224) == 256 and cache_side(64) == 73 and cache_side(299) == 342
    assert cache_side(224, cache_size=224) == 224


def test_splits_hold_the_decoded_images_and_their_targets(manifest, tmp_path):
    data = load_trial_data(manifest, 32, cache_dir=tmp_path)
    assert data.images.policy.size == cache_side(32) and data.image_size == 32
    assert (len(data.train), len(data.val), len(data.test)) == (17, 5, 4)  # the broken image is left out
    frame = manifest.split("val")
    np.testing.assert_allclose(data.targets[data.val.rows], manifest.distributions(frame), rtol=1e-6)
    assert data.targets.dtype == np.float32 and data.score_values.tolist() == SCORES.tolist()


def test_training_batches_are_seeded_crops_and_skip_a_last_single_image(manifest, tmp_path):
    data = load_trial_data(manifest, 32, cache_dir=tmp_path)
    first = list(numpy_batches(data, data.train, 8, train=True, seed=3, epoch=1))
    again = list(numpy_batches(data, data.train, 8, train=True, seed=3, epoch=1))
    assert [len(p) for p, _ in first] == [8, 8] == [8] * data.train_batch_count(8)  # 17 = 8 + 8 + 1
    assert all(p.shape[1:] == (32, 32, 3) and p.flags.c_contiguous for p, _ in first)
    for (p, t), (p2, t2) in zip(first, again, strict=True):
        np.testing.assert_array_equal(p, p2)
        np.testing.assert_array_equal(t, t2)
    assert data.batch_count(data.train, 8) == 3


def test_evaluation_batches_are_centre_crops_in_order_and_flip_mirrors_them(manifest, tmp_path):
    data = load_trial_data(manifest, 32, cache_dir=tmp_path)
    pixels = np.concatenate([p for p, _ in numpy_batches(data, data.test, 3, train=False, seed=0, epoch=0)])
    mirrored = np.concatenate([p for p, _ in numpy_batches(data, data.test, 3, train=False, seed=0, epoch=0,
                                                           flip=True)])
    offset = (cache_side(32) - 32) // 2
    expected = data.images.array[data.test.rows][:, offset:offset + 32, offset:offset + 32]
    np.testing.assert_array_equal(pixels, expected)
    np.testing.assert_array_equal(mirrored, expected[:, :, ::-1])


def test_loading_writes_nothing_to_stdout(manifest, tmp_path, capfd):
    """Inside a worker stdout is the runner's JSON-lines channel: the cache's bar must stay off it."""
    load_trial_data(manifest, 32, cache_dir=tmp_path)
    sys.stdout.flush()
    assert capfd.readouterr().out == ""
