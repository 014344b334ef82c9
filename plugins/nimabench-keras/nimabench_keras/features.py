"""The frozen-base feature cache in Keras: pooled backbone features computed once, the head trained on them.

The scheme and the (seed, epoch) choice of views are the core's (:mod:`nimabench.feature_views`), shared
with nimabench-timm: while a stage trains only the head, the backbone is a fixed function (frozen, in
inference mode), so its pooled features are computed once per trial instead of every epoch - for training
two views of each image, the centre crop and its mirror image, and for validation the centre crop. Here
the features stay NumPy arrays; tf.function converts each batch as it is fed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from nimabench.feature_views import feature_pass_batches, feature_passes, view_batches
from nimabench.staged_training import FeatureProgress
from nimabench.trial_data import TrialData, numpy_batches


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
        for view, index in view_batches(views, n, batch_size, seed=seed, epoch=epoch):
            yield self.train_views[view, index], data.targets[data.train.rows[index]]


def extract_features(features: Callable[[np.ndarray], np.ndarray], data: TrialData, batch_size: int,
                     width: int, progress: FeatureProgress | None = None) -> CachedFeatures:
    """Features of the train split's two views and of the val split's centre crops.

    ``features(pixels)`` maps a uint8 batch to its pooled features with the base in inference mode."""
    started = time.perf_counter()
    passes = feature_passes(data)
    total = feature_pass_batches(data, batch_size)
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
