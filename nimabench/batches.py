"""Batches of cached pixels and the NumPy augmentations of NIMA training, on the training hot path.

Shuffling is seeded per epoch: epoch e of seed s is always the same permutation, whichever epochs ran
before, so a resumed run sees the batches it would have seen. Augmentations take an explicit
``numpy.random.Generator`` and work on whole uint8 NHWC batches: crops are one slice copy per image, flips
one fancy-indexed copy per batch, never a loop over pixels.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from nimabench.imagecache import CachedImages

Augment = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def iterate_batches(n_or_indices: int | np.ndarray, batch_size: int, *, shuffle: bool, seed: int = 0,
                    epoch: int = 0, drop_last: bool = False) -> Iterator[np.ndarray]:
    """Index arrays of ``batch_size`` covering ``range(n)`` (or the given indices) once.

    With ``shuffle`` the order is the permutation drawn from ``(seed, epoch)``; without it, the given order.
    The last batch is shorter unless ``drop_last`` drops it.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    indices = np.arange(n_or_indices) if np.isscalar(n_or_indices) else np.asarray(n_or_indices, dtype=np.int64)
    if shuffle:
        indices = np.random.default_rng([seed, epoch]).permutation(indices)
    stop = len(indices) - len(indices) % batch_size if drop_last else len(indices)
    for start in range(0, stop, batch_size):
        yield indices[start:start + batch_size]


def image_batches(images: CachedImages | np.ndarray, batch_size: int, *, rows: np.ndarray | None = None,
                  shuffle: bool = False, seed: int = 0, epoch: int = 0, drop_last: bool = False,
                  augment: Augment | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(rows, pixels)`` per batch: the row indices (to pick the matching labels) and uint8 NHWC pixels.

    ``rows`` limits the batches to some rows (a split); ``augment(batch, rng)`` is applied to each batch
    with a generator seeded from ``(seed, epoch)``, so augmented epochs are reproducible too.
    """
    array = images.array if isinstance(images, CachedImages) else images
    rng = np.random.default_rng([seed, epoch, 1])  # its own stream: changing augment leaves the order alone
    for batch_rows in iterate_batches(len(array) if rows is None else rows, batch_size, shuffle=shuffle,
                                      seed=seed, epoch=epoch, drop_last=drop_last):
        pixels = array[batch_rows]  # one gather: a copy out of the memory map
        yield batch_rows, (augment(pixels, rng) if augment else pixels)


def random_crop(batch: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A ``size`` x ``size`` crop of each image of an NHWC batch at its own uniformly drawn offset."""
    n, height, width = batch.shape[:3]
    _check_crop(size, height, width)
    tops = rng.integers(0, height - size + 1, n)
    lefts = rng.integers(0, width - size + 1, n)
    out = np.empty((n, size, size, *batch.shape[3:]), dtype=batch.dtype)
    for i, (top, left) in enumerate(zip(tops, lefts, strict=True)):
        out[i] = batch[i, top:top + size, left:left + size]
    return out


def center_crop(batch: np.ndarray, size: int) -> np.ndarray:
    """The central ``size`` x ``size`` square of each image (a view, no copy)."""
    height, width = batch.shape[1:3]
    _check_crop(size, height, width)
    top, left = (height - size) // 2, (width - size) // 2
    return batch[:, top:top + size, left:left + size]


def random_flip(batch: np.ndarray, rng: np.random.Generator, p: float = 0.5) -> np.ndarray:
    """Mirror each image left-right with probability ``p`` (a new array; the input is left alone)."""
    flip = rng.random(len(batch)) < p
    out = np.array(batch, copy=True)
    out[flip] = batch[flip, :, ::-1]
    return out


def nima_train_augment(crop_size: int = 224, flip_probability: float = 0.5) -> Augment:
    """NIMA's training augmentation: a random ``crop_size`` crop, then a horizontal flip with this probability."""

    def augment(batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return random_flip(random_crop(batch, crop_size, rng), rng, flip_probability)

    return augment


def _check_crop(size: int, height: int, width: int) -> None:
    if not 1 <= size <= min(height, width):
        raise ValueError(f"crop size {size} does not fit images of {height}x{width}")
