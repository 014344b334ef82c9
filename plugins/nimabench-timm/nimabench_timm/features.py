"""The frozen-base feature cache: pooled backbone features computed once, the head trained on them.

While a stage trains only the head, the backbone is a fixed function (frozen, in eval mode), so recomputing
it every epoch repeats the same work. Its pooled features are computed once per trial instead - for
training two augmented views of each image, the centre crop and its mirror image, and for validation the
centre crop - and each epoch the head sees every training image once, through one of its views drawn at
random (so an epoch has as many steps as an epoch over the images). The cache is stale once a stage trains
the base; the trainer recomputes it if a later stage freezes the base again.

Cost: computing the cache is (views x train + val) backbone passes; recomputing is epochs x (train + val).
With two views and val at 8% of train the cache wins 2.6x at 5 epochs (as measured by
benchmarks/timm_training.py) and about 12x at idealo's 25; the trial override ``feature_views=1`` (centre
crops only, no flip augmentation) doubles that (4.8x measured at 5 epochs).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch

from nimabench.errors import NimabenchError
from nimabench_timm.data import TrialData, image_tensor_batches
from nimabench_timm.model import NimaModel
from nimabench_timm.runtime import Runtime

# progress(done_batches, total_batches)
FeatureProgress = Callable[[int, int], None]
VIEWS = 2  # centre crop and its mirror image


@dataclass
class CachedFeatures:
    train_views: torch.Tensor  # (views, n_train, width): centre crop, then its mirror image
    val: torch.Tensor  # (n_val, width): centre crops
    seconds: float = 0.0
    images: int = 0  # backbone forward passes it took

    def train_batches(self, data: TrialData, batch_size: int, *, seed: int,
                      epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Shuffled (features, targets) batches, one view of each image per epoch."""
        views, n = self.train_views.shape[:2]
        rng = np.random.default_rng([seed, epoch, 2])
        order = rng.permutation(n)
        view = rng.integers(0, views, n)
        device = self.train_views.device
        for start in range(0, n, batch_size):
            index = order[start:start + batch_size]
            if len(index) < 2:
                continue
            picked = torch.from_numpy(view[index]).to(device), torch.from_numpy(index).to(device)
            targets = torch.from_numpy(data.targets[data.train.rows[index]]).to(device)
            yield self.train_views[picked], targets


def extract_features(model: NimaModel, data: TrialData, runtime: Runtime, batch_size: int,
                     progress: FeatureProgress | None = None, views: int = VIEWS) -> CachedFeatures:
    """Features of the train split's views (centre crop, then its mirror) and of val's centre crops."""
    if views not in (1, 2):
        raise NimabenchError(f"feature_views must be 1 (centre crop) or 2 (and its mirror), got {views}")
    started = time.perf_counter()
    passes = [(data.train, False), (data.train, True)][:views] + [(data.val, False)]
    total = sum(data.batch_count(split, batch_size) for split, _ in passes)
    done = 0
    outputs = []
    model.eval()
    for split, flip in passes:
        chunks = []
        for pixels, _ in image_tensor_batches(data, split, batch_size, train=False, seed=0, epoch=0,
                                              device=runtime.device, channels_last=runtime.channels_last,
                                              flip=flip, prefetch=runtime.prefetch):
            chunks.append(_features(model, pixels, runtime))
            done += 1
            if progress:
                progress(done, total)
        outputs.append(_stack(chunks, model, runtime))
    return CachedFeatures(torch.stack(outputs[:views]), outputs[views], time.perf_counter() - started,
                          views * len(data.train) + len(data.val))


def _features(model: NimaModel, pixels: torch.Tensor, runtime: Runtime) -> torch.Tensor:
    # no_grad, not inference_mode: the head saves these tensors for its backward pass later.
    with torch.no_grad(), runtime.autocast():
        return model.features(pixels).float()


def _stack(chunks: list[torch.Tensor], model: NimaModel, runtime: Runtime) -> torch.Tensor:
    if chunks:
        return torch.cat(chunks)
    return torch.empty((0, model.head.linear.in_features), device=runtime.device)
