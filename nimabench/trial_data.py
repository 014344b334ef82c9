"""A trial's data in NumPy: the core's image cache, its three splits, and uint8 batches of them.

Both trainers read their pixels through this module, so they see the same images in the same order and a
comparison across frameworks compares models, not loaders; each framework only turns the NumPy batches into
its tensors. The cache side keeps NIMA's crop ratio for any input size: images are cached at
``round(image_size * cache_size / 224)`` (256 for 224, 73 for 64, 342 for 299), so ``RunOptions.cache_size``
reads as "the cache side for a 224 input". Training batches are a random ``image_size`` crop and a horizontal
flip (the core's augmentations, seeded by (seed, epoch)); evaluation batches are the centre crop, so a model
gives the same scores every run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nimabench.batches import center_crop, image_batches, nima_train_augment
from nimabench.dataset import Manifest
from nimabench.imagecache import CachedImages, ResizePolicy, build_image_cache

log = logging.getLogger(__name__)

NIMA_INPUT = 224  # NIMA crops 224 out of 256
SPLITS = ("train", "val", "test")


@dataclass
class Split:
    name: str
    image_ids: list[str]
    rows: np.ndarray  # rows of the image cache

    def __len__(self) -> int:
        return len(self.image_ids)


@dataclass
class TrialData:
    images: CachedImages
    train: Split
    val: Split
    test: Split
    targets: np.ndarray  # (cache rows, buckets) float32: the rating distribution of each cached image
    score_values: np.ndarray
    image_size: int  # the network input side

    def batch_count(self, split: Split, batch_size: int) -> int:
        return -(-len(split) // batch_size)

    def train_batch_count(self, batch_size: int) -> int:
        """Batches in a training epoch: :func:`numpy_batches` drops a last batch of one image."""
        full, rest = divmod(len(self.train), batch_size)
        return full + int(rest >= 2)


def cache_side(image_size: int, cache_size: int = 256) -> int:
    return max(image_size, round(image_size * cache_size / NIMA_INPUT))


def load_trial_data(manifest: Manifest, image_size: int, cache_size: int = 256, cache_dir: Path | None = None,
                    *, progress: bool = False) -> TrialData:
    """The cached pixels and splits of ``manifest`` for an ``image_size`` network input.

    ``progress`` shows the cache's decoding bar (on stderr, on a terminal only); it is off by default
    because trainers run inside a worker whose stdout is the runner's JSON-lines channel.
    """
    policy = ResizePolicy(size=cache_side(image_size, cache_size), mode="square")
    images = build_image_cache(manifest, policy, cache_dir=cache_dir, progress=progress)
    cached = set(images.image_ids)
    targets = np.zeros((len(images), len(manifest.score_values)), dtype=np.float32)
    splits = {}
    for name in SPLITS:
        frame = manifest.split(name)
        frame = frame[frame["image_id"].astype(str).isin(cached)]
        image_ids = [str(i) for i in frame["image_id"]]
        rows = images.rows(image_ids)
        targets[rows] = manifest.distributions(frame)
        splits[name] = Split(name, image_ids, rows)
    if images.failed:
        log.warning("%d images failed to decode and are left out of training and evaluation", len(images.failed))
    return TrialData(images, splits["train"], splits["val"], splits["test"], targets,
                     np.asarray(manifest.score_values, dtype=np.float64), image_size)


def numpy_batches(data: TrialData, split: Split, batch_size: int, *, train: bool, seed: int, epoch: int,
                  flip: bool = False) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(uint8 NHWC pixels, float32 targets) of a split: augmented and shuffled for training, centre crops
    otherwise. Training skips a last batch of one image, whose BatchNorm statistics would be meaningless;
    ``flip`` mirrors every evaluation crop (the second view of the feature cache)."""
    size = data.image_size
    augment = nima_train_augment(size) if train else (lambda batch, rng: _centre(batch, size, flip))
    for rows, pixels in image_batches(data.images, batch_size, rows=split.rows, shuffle=train, seed=seed,
                                      epoch=epoch, augment=augment):
        if train and len(rows) < 2:
            continue
        yield np.ascontiguousarray(pixels), data.targets[rows]


def _centre(batch: np.ndarray, size: int, flip: bool) -> np.ndarray:
    crop = center_crop(batch, size)
    return crop[:, :, ::-1] if flip else crop
