"""The frozen-base feature cache: pooled backbone features computed once, the head trained on them.

The same scheme as nimabench-timm's: while a stage trains only the head, the backbone is a fixed function
(frozen, in inference mode), so its pooled features are computed once per trial instead of every epoch -
for training two views of each image, the centre crop and its mirror image, and for validation the centre
crop - and each epoch the head sees every training image once, through one of its two views drawn at
random from the (seed, epoch) stream, so an epoch has as many steps as an epoch over the images.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from nimabench_keras.trial_data import Split, TrialData, numpy_batches

# progress(done_batches, total_batches)
FeatureProgress = Callable[[int, int], None]


@dataclass
class CachedFeatures:
    train_views: np.ndarray  # (views, n_train, width) float32: centre crop, then its mirror image
    val: np.ndarray  # (n_val, width): centre crops
    seconds: float = 0.0
    images: int = 0  # backbone forward passes it took

    def train_batches(self, data: TrialData, batch_size: int, *, seed: int,
                      epoch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Shuffled (features, targets) batches, one view of each image per epoch."""
        views, n = self.train_views.shape[:2]
        rng = np.random.default_rng([seed, epoch, 2])
        order = rng.permutation(n)
        view = rng.integers(0, views, n)
        for start in range(0, n, batch_size):
            index = order[start:start + batch_size]
            if len(index) < 2:
                continue
            yield self.train_views[view[index], index], data.targets[data.train.rows[index]]


def extract_features(features: Callable[[np.ndarray], np.ndarray], data: TrialData, batch_size: int,
                     width: int, progress: FeatureProgress | None = None) -> CachedFeatures:
    """Features of the train split's two views and of the val split's centre crops.

    ``features(pixels)`` maps a uint8 batch to its pooled features with the base in inference mode."""
    started = time.perf_counter()
    passes: list[tuple[Split, bool]] = [(data.train, False), (data.train, True), (data.val, False)]
    total = sum(data.batch_count(split, batch_size) for split, _ in passes)
    done = 0
    outputs = []
    for split, flip in passes:
        chunks = []
        for pixels, _ in numpy_batches(data, split, batch_size, train=False, seed=0, epoch=0, flip=flip):
            chunks.append(np.asarray(features(pixels), dtype=np.float32))
            done += 1
            if progress:
                progress(done, total)
        outputs.append(np.concatenate(chunks) if chunks else np.zeros((0, width), np.float32))
    return CachedFeatures(np.stack(outputs[:2]), outputs[2], time.perf_counter() - started,
                          2 * len(data.train) + len(data.val))
