"""A trial's data: the core's image cache, its three splits, and batches of it as torch tensors.

The cache side keeps NIMA's crop ratio for any input size: images are cached at
``round(image_size * cache_size / 224)`` (256 for 224, 73 for 64, 342 for 299), so ``RunOptions.cache_size``
reads as "the cache side for a 224 input". Training batches are a random ``image_size`` crop and a horizontal
flip (the core's NumPy augmentations on uint8); evaluation batches are the centre crop, so a model gives the
same scores every run. Pixels reach torch as uint8 NHWC and become an (N, 3, H, W) view, which is exactly
the channels-last layout, with no copy; moving uint8 to a GPU moves a quarter of the bytes of float32.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from nimabench.batches import center_crop, image_batches, nima_train_augment
from nimabench.dataset import Manifest
from nimabench.imagecache import CachedImages, ResizePolicy, build_image_cache
from nimabench_timm.prefetch import prefetched

log = logging.getLogger(__name__)

NIMA_INPUT = 224  # NIMA crops 224 out of 256


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


def cache_side(image_size: int, cache_size: int = 256) -> int:
    return max(image_size, round(image_size * cache_size / NIMA_INPUT))


def load_trial_data(manifest: Manifest, image_size: int, cache_size: int = 256,
                    cache_dir: Path | None = None) -> TrialData:
    policy = ResizePolicy(size=cache_side(image_size, cache_size), mode="square")
    images = build_image_cache(manifest, policy, cache_dir=cache_dir)
    cached = set(images.image_ids)
    targets = np.zeros((len(images), len(manifest.score_values)), dtype=np.float32)
    splits = {}
    for name in ("train", "val", "test"):
        frame = manifest.split(name)
        frame = frame[frame["image_id"].astype(str).isin(cached)]
        image_ids = [str(i) for i in frame["image_id"]]
        rows = images.rows(image_ids)
        targets[rows] = manifest.distributions(frame)
        splits[name] = Split(name, image_ids, rows)
    if images.failed:
        log.warning("%d images failed to decode: left out of training and evaluation", len(images.failed))
    return TrialData(images, splits["train"], splits["val"], splits["test"], targets,
                     np.asarray(manifest.score_values, dtype=np.float64), image_size)


def to_model_input(pixels: np.ndarray, device: torch.device, channels_last: bool = True) -> torch.Tensor:
    """uint8 NHWC pixels -> uint8 (N, 3, H, W) on ``device``, channels-last (a view) or contiguous NCHW."""
    tensor = torch.from_numpy(np.ascontiguousarray(pixels)).to(device, non_blocking=True).permute(0, 3, 1, 2)
    return tensor if channels_last else tensor.contiguous()


def image_tensor_batches(data: TrialData, split: Split, batch_size: int, *, train: bool, seed: int,
                         epoch: int, device: torch.device, channels_last: bool = True, flip: bool = False,
                         prefetch: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """(pixels, targets) batches of a split: augmented and shuffled for training, centre crops otherwise.

    Training skips a last batch of one image, whose BatchNorm statistics would be meaningless. ``flip``
    mirrors every evaluation crop (the second view of the feature cache). ``prefetch`` batches are
    prepared ahead in a thread (for GPUs).
    """
    size = data.image_size
    augment = nima_train_augment(size) if train else (lambda batch, rng: _centre(batch, size, flip))
    numpy_batches = image_batches(data.images, batch_size, rows=split.rows, shuffle=train, seed=seed,
                                  epoch=epoch, augment=augment)
    for rows, pixels in prefetched(numpy_batches, prefetch):
        if train and len(rows) < 2:
            continue
        targets = torch.from_numpy(data.targets[rows]).to(device, non_blocking=True)
        yield to_model_input(pixels, device, channels_last), targets


def _centre(batch: np.ndarray, size: int, flip: bool) -> np.ndarray:
    crop = center_crop(batch, size)
    return crop[:, :, ::-1] if flip else crop
